/**
 * Monitor: what viewers experience right now, from the real-time Monitoring
 * API (the server's in-memory state of active views). Headline numbers with
 * their last 30 minutes, the chosen metric's breakdowns worst first, and
 * filters from clicked rows applied to everything. Refreshes on a timer.
 * Every control lives in the URL (page-state.ts): a link opens the page on
 * one metric and series, and reload or back/forward keep what was chosen.
 */
import type {
  MonitoringBreakdownResponse,
  MonitoringHistogramTimeseriesResponse,
  MonitoringMetricsResponse,
  MonitoringTimeseriesResponse,
} from '@openqoe/schema';
import { getJson } from '../api.js';
import { BreakdownTable, ImpactNote } from '../components/breakdown-table.js';
import { Chart } from '../components/chart.js';
import { ClipNote, ClipToggle, clipOf } from '../components/clip-spikes.js';
import { EmptyState, ErrorNote } from '../components/empty-state.js';
import { FilterChips, withFilter } from '../components/filters.js';
import { dimensionLabel, formatTime, formatValue } from '../format.js';
import { type MonitorState, monitorQuery, readMonitorState } from '../page-state.js';
import { setQuery, useRoute } from '../router.js';
import { useData } from '../use-data.js';

export const MONITOR_DIMENSIONS = [
  ['cdn', 'CDN host'],
  ['cdn_provider', 'CDN provider'],
  ['country', 'Country'],
  ['operating_system', 'Operating system'],
  ['browser', 'Browser'],
  ['player_name', 'Player'],
  ['video_title', 'Video title'],
  ['stream_type', 'Stream type'],
] as const;

const REFRESH_KEY = 'openqoe.monitor.refreshMs';
const REFRESH_CHOICES = [1000, 2000, 5000];
const base = '/data/v1/monitoring';
const VIEWERS = 'current_concurrent_viewers';

export function MonitorPage() {
  const state = readMonitorState(useRoute().query);
  const { filters, metric: selected, breakdown } = state;
  const change = (c: Partial<MonitorState>) => setQuery(monitorQuery({ ...state, ...c }));
  const setFilters = (f: string[]) => change({ filters: f });
  // The URL's refresh wins (a shared link); else the one this browser last chose.
  const refreshMs = [state.refresh * 1000, Number(localStorage.getItem(REFRESH_KEY)), 5000].find((v) =>
    REFRESH_CHOICES.includes(v),
  )!;
  const q = { 'filters[]': filters };
  // Only startup time has a second measurement (p95); the others take none.
  const measurement = selected === 'video_startup_time' ? state.measurement : undefined;
  // A breakdown named in the URL leads the page (a link to a per-CDN alert shows CDNs first).
  const dimensions: (readonly [string, string])[] = MONITOR_DIMENSIONS.some(([d]) => d === breakdown)
    ? [...MONITOR_DIMENSIONS].sort((a, b) => Number(b[0] === breakdown) - Number(a[0] === breakdown))
    : [...(breakdown ? [[breakdown, dimensionLabel(breakdown)] as const] : []), ...MONITOR_DIMENSIONS];

  const metrics = useData(() => getJson<MonitoringMetricsResponse>(`${base}/metrics`), []);
  const list = metrics.data?.data ?? [];
  const series = useData(
    async () =>
      Promise.all(
        list.map((m) =>
          getJson<MonitoringTimeseriesResponse>(`${base}/metrics/${m.id}/timeseries`, q).then((r) => ({
            id: m.id,
            points: r.data,
          })),
        ),
      ),
    [list.length, filters.join('\n')],
    refreshMs,
  );
  const breakdownPath = `${base}/metrics/${selected}/breakdown`;
  const breakdownQuery = (dimension: string) => ({
    ...q,
    measurement,
    dimension,
    order_by: 'negative_impact',
    order_direction: 'desc',
    limit: 10,
  });
  const breakdowns = useData(
    () =>
      Promise.all(
        dimensions.map(([dimension]) =>
          getJson<MonitoringBreakdownResponse>(breakdownPath, breakdownQuery(dimension)).then((r) => ({
            dimension,
            rows: r.data,
          })),
        ),
      ),
    [selected, measurement, breakdown, filters.join('\n')],
    refreshMs,
  );
  const p95 = useData(
    () =>
      getJson<MonitoringTimeseriesResponse>(`${base}/metrics/video_startup_time/timeseries`, {
        ...q,
        measurement: 'p95',
      }).then((r) => r.data),
    [filters.join('\n')],
    refreshMs,
  );
  const histogram = useData(
    () =>
      getJson<MonitoringHistogramTimeseriesResponse>(
        `${base}/metrics/video_startup_time/histogram-timeseries`,
        q,
      ),
    [filters.join('\n')],
    refreshMs,
  );

  const pick = (dimension: string, value: string) => setFilters(withFilter(filters, dimension, value));
  const byId = new Map((series.data ?? []).map((s) => [s.id, s.points]));
  const viewers = byId.get(VIEWERS) ?? [];
  const nobody = series.data !== undefined && viewers.every((p) => !p.value);
  const selectedMetric = list.find((m) => m.id === selected);
  // The chosen measurement's line: p95 startup comes from its own series.
  const chosen = measurement === 'p95' ? (p95.data ?? []) : (byId.get(selected) ?? []);
  const { clip, cut } = clipOf(
    state.clip,
    chosen.map((p) => p.value),
  );
  const fmt = (v: number) => formatValue(v, selectedMetric?.unit ?? '');

  return (
    <div class="page monitor">
      <div class="toolbar">
        <h1>Monitor</h1>
        <span class="muted">real time, last 30 minutes</span>
        <span class="spacer" />
        <label>
          Refresh every{' '}
          <select
            data-testid="refresh"
            value={refreshMs}
            onChange={(e) => {
              const v = Number((e.target as HTMLSelectElement).value);
              localStorage.setItem(REFRESH_KEY, String(v));
              change({ refresh: v / 1000 });
            }}
          >
            {REFRESH_CHOICES.map((ms) => (
              <option key={ms} value={ms}>
                {ms / 1000} s
              </option>
            ))}
          </select>
        </label>
        <span class="muted small" data-testid="updated">
          {series.loadedAtMs ? `updated ${formatTime(series.loadedAtMs)}` : ''}
        </span>
      </div>
      <FilterChips filters={filters} onChange={setFilters} />
      {/environment_id/.test(String(series.error ?? breakdowns.error ?? '')) ? (
        <p class="error" role="alert">
          Real-time numbers are per environment: choose one in the header.
        </p>
      ) : (
        <ErrorNote error={metrics.error ?? series.error ?? breakdowns.error} />
      )}

      <div class="headlines">
        {list.map((m) => {
          const points = byId.get(m.id) ?? [];
          const last = points.at(-1);
          return (
            <button
              type="button"
              key={m.id}
              class={`card headline ${m.id === selected ? 'selected' : ''}`}
              data-testid={`headline-${m.id}`}
              onClick={() => change({ metric: m.id, measurement: 'median' })}
            >
              <span class="name">{m.display_name}</span>
              <span class="value" data-testid={`value-${m.id}`}>
                {formatValue(last?.value ?? null, m.unit)}
              </span>
              {m.id === 'video_startup_time' && (
                <span class="muted small" data-testid="value-video_startup_time-p95">
                  p95 {formatValue(p95.data?.at(-1)?.value ?? null, m.unit)}
                </span>
              )}
              <Chart
                spark
                height={50}
                data={[points.map((p) => Date.parse(p.date) / 1000), points.map((p) => p.value)]}
                series={[
                  {
                    label: m.display_name,
                    color: m.id === selected ? '#f5a524' : '#5b8def',
                    unit: m.unit,
                  },
                ]}
              />
            </button>
          );
        })}
      </div>

      {nobody && (
        <EmptyState title="Nobody is watching right now">
          <p>The monitor shows views in progress: starting up, playing or rebuffering.</p>
        </EmptyState>
      )}

      {selectedMetric && (
        <section class="card">
          <div class="toolbar">
            <h2>
              {selectedMetric.display_name} <span class="muted small">and concurrent viewers</span>
            </h2>
            {selected === 'video_startup_time' && (
              <select
                data-testid="measurement"
                value={state.measurement}
                onChange={(e) => change({ measurement: (e.target as HTMLSelectElement).value })}
              >
                <option value="median">median</option>
                <option value="p95">p95</option>
              </select>
            )}
            <span class="spacer" />
            <ClipToggle on={state.clip} onChange={(on) => change({ clip: on })} />
          </div>
          <Chart
            testId="monitor-chart"
            // Tall enough for the longest metric name as the left axis title ("Video startup failure percentage").
            height={260}
            clip={clip}
            data={[
              chosen.map((p) => Date.parse(p.date) / 1000),
              chosen.map((p) => p.value),
              ...(selected === VIEWERS ? [] : [chosen.map((p) => p.concurrent_viewers ?? null)]),
            ]}
            series={[
              {
                label: selectedMetric.display_name,
                color: '#f5a524',
                unit: selectedMetric.unit,
              },
              ...(selected === VIEWERS
                ? []
                : [{ label: 'Concurrent viewers', color: '#5b8def', right: true }]),
            ]}
          />
          <ClipNote on={state.clip} clip={clip} cut={cut} format={fmt} />
        </section>
      )}

      <StartupHistogram histogram={histogram.data} />

      <h2>
        Breakdowns of {selectedMetric?.display_name ?? selected}{' '}
        <span class="muted small">worst negative impact first; click a row to filter</span>
      </h2>
      <ImpactNote count="viewers" />
      <div class="breakdowns">
        {dimensions.map(([dimension, title]) => {
          const rows = breakdowns.data?.find((b) => b.dimension === dimension)?.rows ?? [];
          return (
            <BreakdownTable
              key={dimension}
              lead={dimension === breakdown}
              dimension={dimension}
              title={title}
              countLabel="Viewers"
              onPick={pick}
              unit={selectedMetric?.unit ?? ''}
              note={false}
              csv={{
                path: breakdownPath,
                query: breakdownQuery(dimension),
                name: `${selected}-by-${dimension}`,
              }}
              rows={rows.map((r) => ({
                value: r.value,
                metric: r.display_value ?? formatValue(r.metric_value, selectedMetric?.unit ?? ''),
                count: r.concurrent_viewers,
                startingUp: r.starting_up_viewers,
                negativeImpact: r.negative_impact,
              }))}
            />
          );
        })}
      </div>
    </div>
  );
}

/** The latest tick's startup-time distribution as bars. */
function StartupHistogram({ histogram }: { histogram: MonitoringHistogramTimeseriesResponse | undefined }) {
  const last = histogram?.data.at(-1);
  if (!histogram || !last) return null;
  const max = Math.max(1, ...last.bucket_values.map((b) => b.count));
  return (
    <section class="card" data-testid="startup-histogram">
      <h2>
        Video startup time distribution{' '}
        <span class="muted small">
          now · median {formatValue(last.median, 'ms')} · p95 {formatValue(last.p95, 'ms')}
        </span>
      </h2>
      <div class="histogram">
        {histogram.meta.buckets.map((b, i) => {
          const v = last.bucket_values[i] ?? { count: 0, percentage: 0 };
          return (
            <div class="bucket" key={b.start} title={`${v.count} views (${v.percentage}%)`}>
              <span class="fill" style={{ height: `${(v.count / max) * 100}%` }} />
              {v.count > 0 && (
                // The bars' scale: each says its share of the viewers, so heights need no y axis.
                <span class="share" style={{ bottom: `${(v.count / max) * 100}%` }}>
                  {formatValue(v.percentage, 'percent')}
                </span>
              )}
              <span class="edge">{b.end === null ? `${b.start}+` : b.start}</span>
            </div>
          );
        })}
      </div>
      <p class="muted small">
        video startup time in ms (each bar from its edge to the next); on each bar its share of the viewers
      </p>
    </section>
  );
}
