/**
 * Alerts: the tabs (rules, incidents, silences) and the page each path of
 * /ui/alerts/… names; the rules list with each rule's state lives here.
 */

import { conditionText, metricName, seriesText, unitOf, useCatalog } from '../alert-catalog.js';
import { type AlertRuleListResponse, SEVERITIES } from '../alert-types.js';
import { getJson } from '../api.js';
import { ErrorNote } from '../components/empty-state.js';
import { linkProps } from '../router.js';
import { useData } from '../use-data.js';
import { RuleFormPage } from './alert-rule-form.js';
import { IncidentPage } from './incident.js';
import { IncidentsPage } from './incidents.js';
import { SilencesPage } from './silences.js';

export const RULES_API = '/system/v1/alert-rules';

const TABS = [
  ['', 'Rules'],
  ['incidents', 'Incidents'],
  ['silences', 'Silences'],
] as const;

export function AlertsPage({ parts }: { parts: string[] }) {
  const [sub = '', id] = parts.slice(1);
  const tab = sub === 'rules' ? '' : sub;
  return (
    <div class="page alerts">
      <div class="toolbar">
        <h1>Alerts</h1>
        <nav class="tabs">
          {TABS.map(([path, label]) => (
            <a
              key={path}
              class={tab === path ? 'active' : ''}
              {...linkProps(`/alerts${path ? `/${path}` : ''}`)}
            >
              {label}
            </a>
          ))}
        </nav>
      </div>
      {sub === 'incidents' ? (
        id ? (
          <IncidentPage key={id} incidentId={id} />
        ) : (
          <IncidentsPage />
        )
      ) : sub === 'silences' ? (
        <SilencesPage />
      ) : sub === 'rules' && id ? (
        <RuleFormPage key={id} {...(id === 'new' ? {} : { ruleId: id })} />
      ) : (
        <RulesList />
      )}
    </div>
  );
}

/** Every rule with its state: open incidents, firing or quiet, or disabled. */
function RulesList() {
  const { catalog } = useCatalog();
  const rules = useData(() => getJson<AlertRuleListResponse>(RULES_API, { limit: 1000 }), [], 10_000);
  const list = [...(rules.data?.data ?? [])].sort(
    (a, b) =>
      b.open_incidents - a.open_incidents ||
      SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) ||
      a.name.localeCompare(b.name),
  );
  return (
    <>
      <div class="toolbar">
        <a class="button" data-testid="new-rule" {...linkProps('/alerts/rules/new')}>
          New rule
        </a>
        <span class="muted small">
          rules are evaluated on every real-time tick, or on their own interval for view metrics
        </span>
      </div>
      <ErrorNote error={rules.error} />
      {rules.data && list.length === 0 && <p class="muted">No alert rules yet.</p>}
      {list.length > 0 && (
        <section class="card">
          <table data-testid="rules-table">
            <thead>
              <tr>
                <th>State</th>
                <th>Rule</th>
                <th>Metric</th>
                <th>Series</th>
                <th>Condition</th>
                <th>Severity</th>
                <th class="num">Channels</th>
              </tr>
            </thead>
            <tbody>
              {list.map((r) => {
                const windowed = r.kind === 'window';
                const state = !r.enabled ? 'disabled' : r.open_incidents > 0 ? 'firing' : 'ok';
                return (
                  <tr key={r.id} data-rule={r.name} data-state={state}>
                    <td>
                      {state === 'firing' ? (
                        <a
                          class="state firing"
                          {...linkProps(`/alerts/incidents?rule_id=${encodeURIComponent(r.id)}`)}
                        >
                          {r.open_incidents} open
                        </a>
                      ) : (
                        <span class={`state ${state}`}>{state === 'ok' ? 'OK' : 'disabled'}</span>
                      )}
                    </td>
                    <td>
                      <a {...linkProps(`/alerts/rules/${encodeURIComponent(r.id)}`)}>{r.name}</a>
                      {r.source === 'config' && <span class="muted small"> · config file</span>}
                    </td>
                    <td>
                      {metricName(catalog, r.metric, windowed)}
                      {r.measurement ? ` (${r.measurement})` : ''}
                      {windowed && (
                        <span class="muted small"> over {(r.window_seconds ?? 0) / 60} min of views</span>
                      )}
                    </td>
                    <td>
                      {seriesText(r.breakdown)}
                      {r.filters.length > 0 && <span class="muted small"> · {r.filters.join(', ')}</span>}
                    </td>
                    <td>{conditionText(r.condition, unitOf(catalog, r.metric, windowed))}</td>
                    <td>
                      <span class={`severity ${r.severity}`}>{r.severity}</span>
                    </td>
                    <td class="num">{r.channel_ids.length}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </section>
      )}
    </>
  );
}
