/**
 * The incident list, newest first, filtered by status, severity and rule
 * (kept in the URL: `?status=open&severity=critical&rule_id=…&page=2`), 25 a
 * page, refreshed every 10 s. A row's start time opens the incident's page.
 */
import { seriesText, unitOf, useCatalog } from '../alert-catalog.js';
import { INCIDENT_STATUSES, type IncidentListResponse, SEVERITIES } from '../alert-types.js';
import { getJson } from '../api.js';
import { ErrorNote } from '../components/empty-state.js';
import { formatTime, formatValue } from '../format.js';
import { linkProps, setQuery, useRoute } from '../router.js';
import { useData } from '../use-data.js';

export const INCIDENTS_API = '/data/v1/incidents';
const PAGE_SIZE = 25;

export function IncidentsPage() {
  const q = useRoute().query;
  const status = q.get('status') ?? '';
  const severity = q.get('severity') ?? '';
  const ruleId = q.get('rule_id') ?? '';
  const page = Math.max(1, Number(q.get('page')) || 1);
  const { catalog } = useCatalog();
  const incidents = useData(
    () =>
      getJson<IncidentListResponse>(INCIDENTS_API, {
        status: status || undefined,
        severity: severity || undefined,
        rule_id: ruleId || undefined,
        limit: PAGE_SIZE,
        page,
      }),
    [status, severity, ruleId, page],
    10_000,
  );
  const pages = Math.max(1, Math.ceil((incidents.data?.total_row_count ?? 0) / PAGE_SIZE));
  const choose = (name: string, options: readonly string[], value: string) => (
    <label>
      {name === 'status' ? 'Status' : 'Severity'}{' '}
      <select
        data-testid={`incident-${name}`}
        value={value}
        onChange={(e) => setQuery({ [name]: (e.target as HTMLSelectElement).value, page: undefined })}
      >
        <option value="">any</option>
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </label>
  );

  return (
    <>
      <div class="toolbar">
        {choose('status', INCIDENT_STATUSES, status)}
        {choose('severity', SEVERITIES, severity)}
        {ruleId && (
          <span class="chip" data-testid="incident-rule">
            rule <b>{incidents.data?.data[0]?.rule_name ?? ruleId}</b>
            <button
              type="button"
              title="All rules"
              onClick={() => setQuery({ rule_id: undefined, page: undefined })}
            >
              ×
            </button>
          </span>
        )}
        <span class="muted small">{incidents.data ? `${incidents.data.total_row_count} incidents` : ''}</span>
      </div>
      <ErrorNote error={incidents.error} />
      {incidents.data?.data.length === 0 && (
        <p class="muted">No incidents{status || severity || ruleId ? ' match' : ''}.</p>
      )}
      {(incidents.data?.data.length ?? 0) > 0 && (
        <section class="card">
          <table data-testid="incidents-table">
            <thead>
              <tr>
                <th>Started</th>
                <th>Status</th>
                <th>Severity</th>
                <th>Rule</th>
                <th>Series</th>
                <th class="num">Opened at</th>
                <th class="num">Worst</th>
                <th class="num">Threshold</th>
                <th>Resolved</th>
              </tr>
            </thead>
            <tbody>
              {incidents.data!.data.map((i) => {
                const unit = unitOf(catalog, i.metric, false);
                return (
                  <tr key={i.id} data-incident={i.id} data-status={i.status}>
                    <td>
                      <a {...linkProps(`/alerts/incidents/${encodeURIComponent(i.id)}`)}>
                        {formatTime(i.started_at)}
                      </a>
                    </td>
                    <td>
                      <span class={`status ${i.status}`}>{i.status}</span>
                      {i.muted && <span class="muted small"> · muted</span>}
                    </td>
                    <td>
                      <span class={`severity ${i.severity}`}>{i.severity}</span>
                    </td>
                    <td>{i.rule_name}</td>
                    <td class="label">{seriesText(i.breakdown, i.breakdown_value ?? '')}</td>
                    <td class="num">{formatValue(i.open_value, unit)}</td>
                    <td class="num">{formatValue(i.worst_value, unit)}</td>
                    <td class="num">
                      {i.operator} {formatValue(i.threshold, unit)}
                    </td>
                    <td>{formatTime(i.resolved_at)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <div class="pager">
            <button type="button" disabled={page <= 1} onClick={() => setQuery({ page: String(page - 1) })}>
              ← newer
            </button>
            <span class="muted">
              page {page} of {pages}
            </span>
            <button
              type="button"
              disabled={page >= pages}
              onClick={() => setQuery({ page: String(page + 1) })}
            >
              older →
            </button>
          </div>
        </section>
      )}
    </>
  );
}
