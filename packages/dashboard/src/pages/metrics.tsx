/**
 * Metrics: history from the stored views (/data/v1/metrics) over a chosen
 * timeframe — the viewer experience score and its components, one metric's
 * timeseries and breakdowns with filters, and the startup-time distribution.
 * Every control lives in the URL (page-state.ts), so links, reload and
 * back/forward keep the timeframe, metric, measurement, breakdown and filters.
 */
import type {
  MetricBreakdownResponse,
  MetricListResponse,
  MetricOverallResponse,
  MetricTimeseriesResponse,
} from '@openqoe/schema';
import { getJson } from '../api.js';
import { BreakdownTable } from '../components/breakdown-table.js';
import { Chart } from '../components/chart.js';
import { CsvButton } from '../components/csv-button.js';
import { EmptyState, ErrorNote } from '../components/empty-state.js';
import { FilterChips, withFilter } from '../components/filters.js';
import { MeasurementPicker, measuredUnit } from '../components/measurement-picker.js';
import { dimensionLabel, formatTime, formatValue, humanize } from '../format.js';
import { type MetricsState, metricsQuery, readMetricsState } from '../page-state.js';
import { setQuery, useRoute } from '../router.js';
import { useData } from '../use-data.js';

export const TIMEFRAMES = [
  ['1:hours', '1 hour'],
  ['6:hours', '6 hours'],
  ['24:hours', '24 hours'],
  ['7:days', '7 days'],
  ['30:days', '30 days'],
] as const;

const BREAKDOWN_DIMENSIONS = [
  'cdn',
  'cdn_provider',
  'country',
  'operating_system',
  'browser',
  'device_category',
  'player_software',
  'player_name',
  'video_title',
  'stream_type',
  'asn',
  'error_code',
];

const SCORES = [
  ['viewer_experience_score', 'Viewer experience'],
  ['playback_success_score', 'Playback success'],
  ['startup_time_score', 'Startup time'],
  ['smoothness_score', 'Smoothness'],
  ['video_quality_score', 'Video quality'],
] as const;

const DISTRIBUTION = [
  ['min', 'min'],
  ['median', 'median'],
  ['avg', 'mean'],
  ['95th', 'p95'],
  ['max', 'max'],
] as const;

const api = '/data/v1/metrics';

export function MetricsPage() {
  const state = readMetricsState(useRoute().query);
  const { timeframe, metric, measurement, breakdown: dimension, filters } = state;
  const change = (c: Partial<MetricsState>) => setQuery(metricsQuery({ ...state, ...c }));
  const setFilters = (f: string[]) => change({ filters: f });
  const scope = { 'timeframe[]': timeframe, 'filters[]': filters };
  const key = [timeframe.join('-'), filters.join('\n')];
  // A timeframe from a link that the list lacks (an incident's from–to, a rule's window) is offered in it too.
  const chosen = timeframe.join('-');
  const custom = TIMEFRAMES.some(([v]) => v === chosen) ? '' : chosen;

  const catalog = useData(() => getJson<MetricListResponse>(api), []);
  const info = catalog.data?.data.find((m) => m.id === metric);
  const m = measurement && info?.measurements.includes(measurement) ? measurement : undefined;

  const scores = useData(
    () =>
      Promise.all(
        [...SCORES.map(([id]) => id), 'views'].map((id) =>
          getJson<MetricOverallResponse>(`${api}/${id}/overall`, scope).then((r) => [id, r.data] as const),
        ),
      ).then((pairs) => new Map(pairs)),
    key,
  );
  const measured = { ...scope, measurement: m };
  const overall = useData(
    () => getJson<MetricOverallResponse>(`${api}/${metric}/overall`, measured),
    [...key, metric, m],
  );
  const series = useData(
    () => getJson<MetricTimeseriesResponse>(`${api}/${metric}/timeseries`, measured),
    [...key, metric, m],
  );
  const breakdownQuery = { ...measured, group_by: dimension, limit: 15 };
  const breakdown = useData(
    () => getJson<MetricBreakdownResponse>(`${api}/${metric}/breakdown`, breakdownQuery),
    [...key, metric, m, dimension],
  );
  const distribution = useData(
    () =>
      Promise.all(
        DISTRIBUTION.map(([meas]) =>
          getJson<MetricOverallResponse>(`${api}/video_startup_time/overall`, {
            ...scope,
            measurement: meas,
          }).then((r) => [meas, r.data.value] as const),
        ),
      ),
    key,
  );

  const unit = measuredUnit(info?.unit ?? '', m ?? info?.default_measurement);
  const totalViews = scores.data?.get('views')?.value ?? null;
  const pick = (d: string, v: string) => setFilters(withFilter(filters, d, v));

  return (
    <div class="page metrics">
      <div class="toolbar">
        <h1>Metrics</h1>
        <label>
          Timeframe{' '}
          <select
            data-testid="timeframe"
            value={chosen}
            onChange={(e) => change({ timeframe: (e.target as HTMLSelectElement).value.split('-') })}
          >
            {custom && (
              <option value={custom}>
                {timeframe.length === 2
                  ? `${formatTime(new Date(Number(timeframe[0]) * 1000).toISOString())} – ${formatTime(new Date(Number(timeframe[1]) * 1000).toISOString())}`
                  : `last ${timeframe[0]!.replace(':', ' ')}`}
              </option>
            )}
            {TIMEFRAMES.map(([v, label]) => (
              <option key={v} value={v}>
                last {label}
              </option>
            ))}
          </select>
        </label>
        <span class="muted small" data-testid="total-views">
          {totalViews === null ? '' : `${totalViews.toLocaleString('en')} views`}
        </span>
      </div>
      <FilterChips filters={filters} onChange={setFilters} />
      <ErrorNote error={catalog.error ?? scores.error ?? overall.error} />

      {totalViews === 0 && (
        <EmptyState title="No views in this timeframe">
          <p>
            Views appear here once they complete (a minute after their last beacon, or at once when the player
            ends).
          </p>
        </EmptyState>
      )}

      <div class="headlines">
        {SCORES.map(([id, label]) => (
          <div
            class={`card headline ${id === 'viewer_experience_score' ? 'selected' : ''}`}
            key={id}
            data-testid={`score-${id}`}
          >
            <span class="name">{label}</span>
            <span class="value">{formatValue(scores.data?.get(id)?.value ?? null, 'score')}</span>
            <span class="muted small">
              {id === 'viewer_experience_score' ? 'overall, 0–100' : 'component'}
            </span>
          </div>
        ))}
      </div>

      <section class="card">
        <div class="toolbar">
          <label>
            Metric{' '}
            <select
              data-testid="metric"
              value={metric}
              onChange={(e) => change({ metric: (e.target as HTMLSelectElement).value, measurement: '' })}
            >
              {(catalog.data?.data ?? []).map((x) => (
                <option key={x.id} value={x.id}>
                  {humanize(x.id)}
                </option>
              ))}
            </select>
          </label>
          {info && (
            <MeasurementPicker
              measurements={info.measurements}
              value={m ?? info.default_measurement}
              onChange={(x) => change({ measurement: x })}
            />
          )}
          <span class="big" data-testid="overall">
            {formatValue(overall.data?.data.value ?? null, unit)}
          </span>
          <span class="muted small">
            over {overall.data?.data.views_with_value.toLocaleString('en') ?? '–'} views
          </span>
          <span class="spacer" />
          <CsvButton
            path={`${api}/${metric}/overall`}
            query={measured}
            name={`${metric}-overall`}
            label="Overall"
          />
          <CsvButton
            path={`${api}/${metric}/timeseries`}
            query={measured}
            name={`${metric}-timeseries`}
            label="Timeseries"
          />
        </div>
        <Chart
          testId="metric-chart"
          height={220}
          data={[
            (series.data?.data ?? []).map((p) => p.time),
            (series.data?.data ?? []).map((p) => p.value),
            (series.data?.data ?? []).map((p) => p.views),
          ]}
          series={[
            { label: humanize(metric), color: '#f5a524', format: (v) => formatValue(v, unit) },
            { label: 'Views', color: '#5b8def', right: true },
          ]}
        />
        <p class="muted small">
          {series.data ? `per ${series.data.granularity.replace('_', ' ')}, by the time each view ended` : ''}
        </p>
      </section>

      <div class="two">
        <div>
          <label>
            Break down by{' '}
            <select
              data-testid="dimension"
              value={dimension}
              onChange={(e) => change({ breakdown: (e.target as HTMLSelectElement).value })}
            >
              {(BREAKDOWN_DIMENSIONS.includes(dimension)
                ? BREAKDOWN_DIMENSIONS
                : [dimension, ...BREAKDOWN_DIMENSIONS]
              ).map((d) => (
                <option key={d} value={d}>
                  {dimensionLabel(d)}
                </option>
              ))}
            </select>
          </label>
          <BreakdownTable
            dimension={dimension}
            title={dimensionLabel(dimension)}
            countLabel="Views"
            onPick={pick}
            unit={unit}
            csv={{
              path: `${api}/${metric}/breakdown`,
              query: breakdownQuery,
              name: `${metric}-by-${dimension}`,
            }}
            rows={(breakdown.data?.data ?? []).map((r) => ({
              value: r.field,
              metric: formatValue(r.value, unit),
              count: r.views,
              negativeImpact: r.negative_impact,
            }))}
          />
        </div>
        <StartupDistribution values={distribution.data} />
      </div>
    </div>
  );
}

/** min · median · mean · p95 · max of video startup time, drawn as a box on a linear scale. */
function StartupDistribution({ values }: { values: (readonly [string, number | null])[] | undefined }) {
  const v = new Map(values ?? []);
  const max = v.get('max') ?? null;
  const at = (k: string) => {
    const x = v.get(k);
    return x === null || x === undefined || !max ? 0 : (x / max) * 100;
  };
  return (
    <section class="card" data-testid="startup-distribution">
      <h3>Video startup time distribution</h3>
      {max === null ? (
        <p class="muted">No startup times in this timeframe</p>
      ) : (
        <>
          <div class="box">
            <span class="whisker" style={{ left: `${at('min')}%`, width: `${at('max') - at('min')}%` }} />
            <span
              class="iqr"
              style={{ left: `${at('median')}%`, width: `${Math.max(1, at('95th') - at('median'))}%` }}
            />
            <span class="mark mean" style={{ left: `${at('avg')}%` }} title="mean" />
          </div>
          <table>
            <tbody>
              {DISTRIBUTION.map(([k, label]) => (
                <tr key={k}>
                  <td>{label}</td>
                  <td class="num">{formatValue(v.get(k) ?? null, 'ms')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
