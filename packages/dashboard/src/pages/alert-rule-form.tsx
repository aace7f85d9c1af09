/**
 * Create or edit an alert rule: what it watches (a real-time metric, or a
 * view metric over a window of ended views), its series (breakdown and
 * filters), the threshold condition, channels, severity, description and
 * runbook, with a preview of the chosen series over the history the APIs
 * keep and the threshold drawn on it, and how often it would have fired over
 * the kept series history (backtest). Rules from the config file are shown
 * read-only. Bad input comes back from the API naming each field.
 */
import { useEffect, useState } from 'preact/hooks';
import { type Catalog, metricName, unitOf, useCatalog } from '../alert-catalog.js';
import { loadLines } from '../alert-series.js';
import {
  type AlertRule,
  type AlertRuleInput,
  type AlertRuleResponse,
  type AlertSeverity,
  type NotificationChannelListResponse,
  SEVERITIES,
} from '../alert-types.js';
import { getJson, sendJson } from '../api.js';
import { BacktestLine } from '../components/backtest-line.js';
import { ErrorNote } from '../components/empty-state.js';
import { measurementName } from '../components/measurement-picker.js';
import { ThresholdChart } from '../components/threshold-chart.js';
import { humanize, unitSymbol } from '../format.js';
import { navigate } from '../router.js';
import { environmentId } from '../session.js';
import { useData } from '../use-data.js';

const RULES_API = '/system/v1/alert-rules';
const WINDOWS_MIN = [5, 15, 30, 60, 180];

/** The form's fields as typed; numbers stay text until saved. */
interface Fields {
  name: string;
  /** `realtime:<id>` or `window:<id>`. */
  metric: string;
  measurement: string;
  windowMin: string;
  breakdown: string;
  /** Comma-separated `dimension:value`. */
  filters: string;
  /** `threshold`, or an anomaly condition's sensitivity. */
  conditionType: 'threshold' | 'low' | 'medium' | 'high';
  operator: '>' | '<';
  value: string;
  forSeconds: string;
  resolveValue: string;
  resolveForSeconds: string;
  minAudience: string;
  severity: string;
  description: string;
  runbookUrl: string;
  channelIds: string[];
  enabled: boolean;
}

const EMPTY: Fields = {
  name: '',
  metric: 'realtime:current_rebuffering_percentage',
  measurement: '',
  windowMin: '15',
  breakdown: '',
  filters: '',
  conditionType: 'threshold',
  operator: '>',
  value: '',
  forSeconds: '60',
  resolveValue: '',
  resolveForSeconds: '',
  minAudience: '',
  severity: 'warning',
  description: '',
  runbookUrl: '',
  channelIds: [],
  enabled: true,
};

function fieldsOf(r: AlertRule): Fields {
  const c = r.condition;
  return {
    name: r.name,
    metric: `${r.kind}:${r.metric}`,
    measurement: r.measurement ?? '',
    windowMin: String((r.window_seconds ?? 900) / 60),
    breakdown: r.breakdown ?? '',
    filters: r.filters.join(', '),
    conditionType: c.type === 'anomaly' ? (c.sensitivity ?? 'medium') : 'threshold',
    operator: c.type === 'anomaly' ? '>' : c.operator,
    value: c.type === 'anomaly' ? '' : String(c.value),
    forSeconds: String(c.for_seconds),
    resolveValue: c.type === 'anomaly' || c.resolve_value === c.value ? '' : String(c.resolve_value),
    resolveForSeconds: String(c.resolve_for_seconds),
    minAudience: String(c.min_audience),
    severity: r.severity,
    description: r.description,
    runbookUrl: r.runbook_url ?? '',
    channelIds: r.channel_ids,
    enabled: r.enabled,
  };
}

const splitFilters = (text: string) =>
  text
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);

/** A number field: empty is left out (the API's default); anything else is sent as typed, for the API to judge. */
const num = (v: string) => (v.trim() === '' ? undefined : Number(v));

/** `{ key: number }`, or nothing for an empty field. */
const optional = <K extends string>(key: K, v: string) =>
  (v.trim() === '' ? {} : { [key]: Number(v) }) as Partial<Record<K, number>>;

function inputOf(f: Fields): AlertRuleInput {
  const [kind, metric = ''] = f.metric.split(/:(.*)/s) as [string, string?];
  const windowed = kind === 'window';
  return {
    name: f.name,
    metric,
    ...(f.measurement ? { measurement: f.measurement } : {}),
    ...(windowed ? { window_seconds: Number(f.windowMin) * 60 } : {}),
    breakdown: f.breakdown || null,
    filters: splitFilters(f.filters),
    condition:
      f.conditionType !== 'threshold'
        ? {
            type: 'anomaly',
            sensitivity: f.conditionType,
            for_seconds: num(f.forSeconds) ?? 120,
            ...optional('resolve_for_seconds', f.resolveForSeconds),
            ...optional('min_audience', f.minAudience),
          }
        : {
            type: 'threshold',
            operator: f.operator,
            value: num(f.value) ?? Number.NaN,
            for_seconds: num(f.forSeconds) ?? 0,
            ...optional('resolve_value', f.resolveValue),
            ...optional('resolve_for_seconds', f.resolveForSeconds),
            ...optional('min_audience', f.minAudience),
          },
    severity: f.severity as AlertSeverity,
    description: f.description,
    runbook_url: f.runbookUrl.trim() || null,
    channel_ids: f.channelIds,
    enabled: f.enabled,
  };
}

function measurementsOf(catalog: Catalog | undefined, kind: string, metric: string): string[] {
  if (kind === 'window') return catalog?.views.find((m) => m.id === metric)?.measurements ?? [];
  return metric === 'video_startup_time' ? ['median', 'p95'] : [];
}

export function RuleFormPage({ ruleId }: { ruleId?: string }) {
  const { catalog, error: catalogError } = useCatalog();
  const existing = useData(
    async () =>
      ruleId
        ? (await getJson<AlertRuleResponse>(`${RULES_API}/${encodeURIComponent(ruleId)}`)).data
        : undefined,
    [ruleId],
  );
  // The channels list takes no environment_id (it answers the token's environments): keep the chosen one's.
  const channels = useData(async () => {
    const env = environmentId();
    const all = await getJson<NotificationChannelListResponse>(
      '/system/v1/notification-channels',
      { limit: 1000 },
      false,
    );
    return all.data.filter((c) => !env || c.environment_id === env);
  }, []);
  const [f, setF] = useState<Fields>(EMPTY);
  const [saveError, setSaveError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (existing.data) setF(fieldsOf(existing.data));
  }, [existing.data]);

  const readOnly = existing.data?.source === 'config';
  const set = (patch: Partial<Fields>) => setF((old) => ({ ...old, ...patch }));
  const [kind, metric = ''] = f.metric.split(/:(.*)/s) as [string, string?];
  const windowed = kind === 'window';
  const unit = unitOf(catalog, metric, windowed);
  const measurements = measurementsOf(catalog, kind, metric);
  const dimensions = (windowed ? catalog?.viewDimensions : catalog?.realtimeDimensions) ?? [];
  // The preview takes only whole filters (a half-typed one would fail it); saving sends all, for the API to judge.
  const filters = splitFilters(f.filters).filter((x) => /^!?[^:]+:./.test(x));

  const preview = useData(
    () =>
      loadLines({
        metric,
        measurement: f.measurement,
        windowed,
        breakdown: f.breakdown,
        filters,
        timeframe: ['24:hours'],
      }),
    [metric, f.measurement, windowed, f.breakdown, filters.join('\n')],
  );

  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setSaveError(undefined);
    try {
      if (ruleId) await sendJson('PUT', `${RULES_API}/${encodeURIComponent(ruleId)}`, { ...inputOf(f) });
      else await sendJson('POST', RULES_API, { ...inputOf(f) }, true);
      navigate('/alerts');
    } catch (err) {
      setSaveError(err);
    } finally {
      setBusy(false);
    }
  };
  const remove = async () => {
    if (!ruleId || !confirm(`Delete the rule “${f.name}”? Its incidents are kept.`)) return;
    try {
      await sendJson('DELETE', `${RULES_API}/${encodeURIComponent(ruleId)}`);
      navigate('/alerts');
    } catch (err) {
      setSaveError(err);
    }
  };

  const value = (e: Event) => (e.target as HTMLInputElement).value;
  const text = (name: keyof Fields, label: string, props: Record<string, unknown> = {}) => (
    <label>
      {label}
      <input name={name} value={f[name] as string} onInput={(e) => set({ [name]: value(e) })} {...props} />
    </label>
  );

  return (
    <div class="rule-form">
      <h2>{ruleId ? `Edit rule${existing.data ? `: ${existing.data.name}` : ''}` : 'New alert rule'}</h2>
      <ErrorNote error={catalogError ?? existing.error} />
      {readOnly && (
        <p class="note" data-testid="read-only">
          This rule is declared in the config file (<code>alerts.rules</code>): change it there.
        </p>
      )}
      <form onSubmit={save} data-testid="rule-form">
        <fieldset disabled={readOnly || busy}>
          <div class="form-grid">
            {text('name', 'Name', { required: true, maxLength: 200 })}
            <label>
              Metric
              <select
                name="metric"
                value={f.metric}
                onChange={(e) => set({ metric: value(e), measurement: '', breakdown: '' })}
              >
                <optgroup label="Real time: viewers watching now">
                  {(catalog?.realtime ?? []).map((m) => (
                    <option key={m.id} value={`realtime:${m.id}`}>
                      {m.display_name}
                    </option>
                  ))}
                </optgroup>
                <optgroup label="Views ended in a window">
                  {(catalog?.views ?? []).map((m) => (
                    <option key={m.id} value={`window:${m.id}`}>
                      {humanize(m.id)}
                    </option>
                  ))}
                </optgroup>
              </select>
            </label>
            {measurements.length > 0 && (
              <label>
                Measurement
                <select
                  name="measurement"
                  value={f.measurement}
                  onChange={(e) => set({ measurement: value(e) })}
                >
                  <option value="">default</option>
                  {measurements.map((m) => (
                    <option key={m} value={m}>
                      {measurementName(m)}
                    </option>
                  ))}
                </select>
              </label>
            )}
            {windowed && (
              <label>
                Window
                <select name="window" value={f.windowMin} onChange={(e) => set({ windowMin: value(e) })}>
                  {WINDOWS_MIN.map((m) => (
                    <option key={m} value={String(m)}>
                      last {m} minutes of ended views
                    </option>
                  ))}
                </select>
              </label>
            )}
            <label>
              Series
              <select name="breakdown" value={f.breakdown} onChange={(e) => set({ breakdown: value(e) })}>
                <option value="">the whole environment</option>
                {dimensions.map((d) => (
                  <option key={d} value={d}>
                    each {humanize(d)}
                  </option>
                ))}
              </select>
            </label>
            {text('filters', 'Filters', { placeholder: 'stream_type:live, !country:US' })}
            <label>
              Condition
              <select
                name="conditionType"
                value={f.conditionType}
                onChange={(e) => set({ conditionType: value(e) as Fields['conditionType'] })}
              >
                <option value="threshold">a threshold</option>
                <option value="low">an anomaly (low sensitivity)</option>
                <option value="medium">an anomaly (medium sensitivity)</option>
                <option value="high">an anomaly (high sensitivity)</option>
              </select>
            </label>
            {f.conditionType === 'threshold' && (
              <label>
                Alert when the value is
                <span class="inline">
                  <select
                    name="operator"
                    value={f.operator}
                    onChange={(e) => set({ operator: value(e) as Fields['operator'] })}
                  >
                    <option value=">">above</option>
                    <option value="<">below</option>
                  </select>
                  <input
                    name="value"
                    type="number"
                    step="any"
                    required
                    value={f.value}
                    onInput={(e) => set({ value: value(e) })}
                  />
                  <span class="muted small">{unitSymbol(unit)}</span>
                </span>
              </label>
            )}
            {text('forSeconds', 'For (seconds)', { type: 'number', min: 0 })}
            {f.conditionType === 'threshold' &&
              text('resolveValue', 'Resolves once back past', {
                type: 'number',
                step: 'any',
                placeholder: 'the threshold',
              })}
            {text('resolveForSeconds', 'Resolve after (seconds)', {
              type: 'number',
              min: 0,
              placeholder: '120',
            })}
            {text('minAudience', windowed ? 'Minimum views' : 'Minimum viewers', {
              type: 'number',
              min: 0,
              placeholder: '1',
            })}
            <label>
              Severity
              <select name="severity" value={f.severity} onChange={(e) => set({ severity: value(e) })}>
                {SEVERITIES.map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </select>
            </label>
            {text('runbookUrl', 'Runbook URL', { type: 'url', placeholder: 'https://…' })}
            <label class="wide">
              Description
              <textarea
                name="description"
                rows={2}
                value={f.description}
                onInput={(e) => set({ description: value(e) })}
              />
            </label>
            <div class="wide" data-testid="channels">
              Notify
              {channels.error ? (
                <span class="muted small">
                  {' '}
                  (notification channels could not be listed: {String(channels.error)})
                </span>
              ) : (channels.data ?? []).length === 0 ? (
                <span class="muted small"> no notification channels yet: incidents are recorded only</span>
              ) : (
                (channels.data ?? []).map((c) => (
                  <label class="inline" key={c.id}>
                    <input
                      type="checkbox"
                      name="channel"
                      value={c.id}
                      checked={f.channelIds.includes(c.id)}
                      onChange={(e) => {
                        const on = (e.target as HTMLInputElement).checked;
                        set({
                          channelIds: on ? [...f.channelIds, c.id] : f.channelIds.filter((x) => x !== c.id),
                        });
                      }}
                    />
                    {c.name} <span class="muted small">({c.type})</span>
                  </label>
                ))
              )}
            </div>
            <label class="inline wide">
              <input
                type="checkbox"
                name="enabled"
                checked={f.enabled}
                onChange={(e) => set({ enabled: (e.target as HTMLInputElement).checked })}
              />
              Enabled
            </label>
          </div>
          <section class="card">
            <h3>
              Preview{' '}
              <span class="muted small">
                {windowed
                  ? 'per time bucket of ended views, last 24 hours'
                  : `real time, last 30 minutes${f.breakdown ? ', the most-watched values' : ''}`}
              </span>
            </h3>
            <ErrorNote error={preview.error} />
            <ThresholdChart
              testId="rule-preview"
              lines={preview.data}
              threshold={num(f.value) ?? null}
              resolveValue={num(f.resolveValue) ?? null}
              unit={unit}
              name={metricName(catalog, metric, windowed)}
            />
            <BacktestLine input={inputOf(f)} />
          </section>
          <ErrorNote error={saveError} />
          <div class="toolbar">
            <button type="submit" data-testid="save-rule">
              {ruleId ? 'Save' : 'Create rule'}
            </button>
            <button type="button" class="link" onClick={() => navigate('/alerts')}>
              Cancel
            </button>
            <span class="spacer" />
            {ruleId && (
              <button type="button" class="danger" data-testid="delete-rule" onClick={remove}>
                Delete rule
              </button>
            )}
          </div>
        </fieldset>
      </form>
    </div>
  );
}
