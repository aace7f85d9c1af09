/**
 * One incident: its rule, series, values against the threshold, times and
 * audience; the series' value over time with the threshold drawn; the
 * example views it affected (each opens the view's page); a link to Monitor
 * (real-time rules) or Metrics (view metrics over a window) filtered to the
 * series; for a whole-environment incident, the likely cause (the breakdown
 * values carrying most of the change); its transitions and what happened to
 * their notifications; and Acknowledge while it is open. Refreshed every 10 s until it resolves.
 */
import { useState } from 'preact/hooks';
import { metricName, seriesText, unitOf, useCatalog } from '../alert-catalog.js';
import { loadLines } from '../alert-series.js';
import type { AlertRuleResponse, IncidentResponse } from '../alert-types.js';
import { getJson, sendJson } from '../api.js';
import { ErrorNote } from '../components/empty-state.js';
import { ThresholdChart } from '../components/threshold-chart.js';
import { formatDuration, formatTime, formatValue } from '../format.js';
import { metricsLink, monitorLink } from '../page-state.js';
import { linkProps } from '../router.js';
import { useData } from '../use-data.js';
import { INCIDENTS_API } from './incidents.js';

export function IncidentPage({ incidentId }: { incidentId: string }) {
  const [version, setVersion] = useState(0);
  const [ackError, setAckError] = useState<unknown>(undefined);
  const path = `${INCIDENTS_API}/${encodeURIComponent(incidentId)}`;
  const loaded = useData(() => getJson<IncidentResponse>(path).then((r) => r.data), [path, version], 10_000);
  const inc = loaded.data;
  const { catalog } = useCatalog();
  // The rule tells real-time from windowed; a token without `alerts` cannot read it, so the catalogs guess then.
  const rule = useData(
    async () =>
      inc
        ? getJson<AlertRuleResponse>(`/system/v1/alert-rules/${encodeURIComponent(inc.rule_id)}`).then(
            (r) => r.data,
            () => null,
          )
        : undefined,
    [inc?.rule_id],
  ).data;
  const windowed =
    rule?.kind === 'window' ||
    (rule === null && catalog !== undefined && !catalog.realtime.some((m) => m.id === inc?.metric));
  const seriesFilters = inc
    ? [...inc.filters, ...(inc.breakdown ? [`${inc.breakdown}:${inc.breakdown_value ?? ''}`] : [])]
    : [];
  const startS = inc ? Math.floor(Date.parse(inc.started_at) / 1000) : 0;
  const endS = inc?.resolved_at ? Math.ceil(Date.parse(inc.resolved_at) / 1000) : 0;
  const windowS = rule?.window_seconds ?? 3600;
  const timeframe = [
    String(startS - Math.max(windowS, 3600)),
    String(Math.min(endS ? endS + windowS : Infinity, Math.ceil(Date.now() / 1000))),
  ];
  const lines = useData(
    async () =>
      inc && rule !== undefined
        ? loadLines({
            metric: inc.metric,
            measurement: rule?.measurement,
            windowed,
            filters: seriesFilters,
            timeframe: windowed ? timeframe : undefined,
          })
        : undefined,
    [inc?.id, rule === undefined, windowed],
    inc?.status === 'resolved' ? 0 : 10_000,
  );

  const acknowledge = async () => {
    setAckError(undefined);
    try {
      await sendJson('POST', `${path}/acknowledge`);
      setVersion((v) => v + 1);
    } catch (err) {
      setAckError(err);
    }
  };

  if (!inc) return <ErrorNote error={loaded.error} />;
  const unit = unitOf(catalog, inc.metric, windowed);
  const v = (x: number | null) => formatValue(x, unit);
  const seriesLink = windowed
    ? metricsLink({
        timeframe,
        metric: inc.metric,
        measurement: rule?.measurement ?? '',
        filters: seriesFilters,
        ...(inc.breakdown ? { breakdown: inc.breakdown } : {}),
      })
    : monitorLink({
        metric: inc.metric,
        measurement: rule?.measurement ?? '',
        filters: seriesFilters,
        breakdown: inc.breakdown ?? '',
      });
  const endMs = inc.resolved_at ? Date.parse(inc.resolved_at) : Date.now();
  const facts: [string, preact.ComponentChildren][] = [
    ['Series', seriesText(inc.breakdown, inc.breakdown_value ?? '')],
    ['Filters', inc.filters.join(', ') || '–'],
    ['Condition', `${inc.operator} ${v(inc.threshold)}; resolves once back past ${v(inc.resolve_value)}`],
    ['Value that opened it', v(inc.open_value)],
    ['Worst value', v(inc.worst_value)],
    ['Latest value', v(inc.last_value)],
    [windowed ? 'Views affected' : 'Viewers affected (most at once)', inc.audience.toLocaleString('en')],
    ['Started', formatTime(inc.started_at)],
    ['Acknowledged', formatTime(inc.acknowledged_at)],
    ['Resolved', formatTime(inc.resolved_at)],
    ['Duration', formatDuration(endMs - Date.parse(inc.started_at))],
  ];
  // Whole-environment incidents name the breakdown values that carry most of the change.
  if (inc.root_cause)
    facts.splice(1, 0, ['Likely cause', <span data-testid="root-cause">{inc.root_cause.summary}</span>]);

  return (
    <div class="incident" data-testid="incident" data-status={inc.status}>
      <div class="toolbar">
        <h2>
          <a {...linkProps(`/alerts/rules/${encodeURIComponent(inc.rule_id)}`)}>{inc.rule_name}</a>
          {inc.breakdown ? ` · ${inc.breakdown_value}` : ''}
        </h2>
        <span class={`status ${inc.status}`} data-testid="incident-status">
          {inc.status}
        </span>
        <span class={`severity ${inc.severity}`}>{inc.severity}</span>
        {inc.muted && <span class="muted small">muted by a silence: nothing was sent</span>}
        <span class="spacer" />
        <a data-testid="series-link" {...linkProps(seriesLink)}>
          {windowed ? 'Open in Metrics' : 'Open in Monitor'}
        </a>
        {inc.status === 'open' && (
          <button type="button" data-testid="acknowledge" onClick={acknowledge}>
            Acknowledge
          </button>
        )}
      </div>
      <ErrorNote error={ackError ?? loaded.error} />
      <div class="two">
        <section class="card">
          <table class="kv" data-testid="incident-facts">
            <tbody>
              {facts.map(([k, x]) => (
                <tr key={k}>
                  <th>{k}</th>
                  <td>{x}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section class="card">
          <h3>
            Value over time{' '}
            <span class="muted small">
              {windowed ? 'per time bucket of ended views' : 'real time; the monitor keeps 30 minutes'}
            </span>
          </h3>
          <ErrorNote error={lines.error} />
          <ThresholdChart
            testId="incident-chart"
            lines={lines.data}
            threshold={inc.threshold}
            resolveValue={inc.resolve_value}
            unit={unit}
            name={metricName(catalog, inc.metric, windowed)}
          />
        </section>
      </div>
      <div class="two">
        <section class="card" data-testid="affected-views">
          <h3>Affected views {windowed ? '' : <span class="muted small">examples</span>}</h3>
          {inc.example_view_ids.length === 0 ? (
            <p class="muted">None recorded.</p>
          ) : (
            <ul>
              {inc.example_view_ids.map((id) => (
                <li key={id}>
                  <a {...linkProps(`/views/${encodeURIComponent(id)}`)}>{id}</a>
                </li>
              ))}
            </ul>
          )}
        </section>
        <section class="card">
          <h3>Transitions</h3>
          <table data-testid="transitions">
            <tbody>
              {(inc.transitions ?? []).map((t) => (
                <tr key={`${t.transition}-${t.at}`}>
                  <td>{t.transition}</td>
                  <td>{formatTime(t.at)}</td>
                  <td class="num">{v(t.value)}</td>
                  <td class="muted">{t.delivery.replace('_', ' ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </div>
    </div>
  );
}
