/**
 * Metrics: history from the stored views (/data/v1/metrics) over a chosen
 * timeframe — the viewer experience score and its components, one metric's
 * timeseries and breakdowns with filters, and the startup-time distribution.
 * Every control lives in the URL (page-state.ts), so links, reload and
 * back/forward keep the timeframe, metric, measurement, breakdown, filters,
 * the comparison with the previous period and the chart's spike clipping.
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
import { ClipNote, ClipToggle, clipOf } from '../components/clip-spikes.js';
import { alignPrevious, Delta, previousPeriod } from '../components/compare.js';
import { CsvButton } from '../components/csv-button.js';
import { EmptyState, ErrorNote } from '../components/empty-state.js';
import { FilterChips, withFilter } from '../components/filters.js';
import { MeasurementPicker, measuredUnit } from '../components/measurement-picker.js';
import { TimeRange } from '../components/time-range.js';
import { Toggle } from '../components/toggle.js';
import { dimensionLabel, formatTicks, formatValue, humanize } from '../format.js';
import { type MetricsState, metricsQuery, readMetricsState } from '../page-state.js';
import { setQuery, useRoute } from '../router.js';
import { useData } from '../use-data.js';

export { TIMEFRAMES } from '../components/time-range.js';

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

  // The previous period is computed from the timeframe the API resolved (a trailing one ends at its now).
  const resolved = series.data?.timeframe;
  const previous = useData(async () => {
    if (!state.compare || !resolved) return null;
    const before = {
      'timeframe[]': previousPeriod(resolved).map(String),
      'filters[]': filters,
      measurement: m,
    };
    const [o, t, b] = await Promise.all([
      getJson<MetricOverallResponse>(`${api}/${metric}/overall`, before),
      getJson<MetricTimeseriesResponse>(`${api}/${metric}/timeseries`, before),
      // Every row of the previous period, so each current row finds its own.
      getJson<MetricBreakdownResponse>(`${api}/${metric}/breakdown`, {
        ...before,
        group_by: dimension,
        limit: 1000,
      }),
    ]);
    return { overall: o.data.value, series: t.data, rows: new Map(b.data.map((r) => [r.field, r.value])) };
  }, [state.compare, resolved?.join('-'), filters.join('\n'), metric, m, dimension]);

  const unit = measuredUnit(info?.unit ?? '', m ?? info?.default_measurement);
  const fmt = (v: number) => formatValue(v, unit);
  const higherIsWorse = info?.higher_is_worse ?? true;
  const compared = state.compare ? previous.data : undefined;
  const times = (series.data?.data ?? []).map((p) => p.time);
  const values = (series.data?.data ?? []).map((p) => p.value);
  const before =
    compared && resolved ? alignPrevious(times, compared.series, resolved[1]! - resolved[0]!) : undefined;
  const { clip, cut } = clipOf(state.clip, [...values, ...(before ?? [])]);
  const totalViews = scores.data?.get('views')?.value ?? null;
  const pick = (d: string, v: string) => setFilters(withFilter(filters, d, v));

  return (
    <div class="page metrics">
      <div class="toolbar">
        <h1>Metrics</h1>
        <TimeRange timeframe={timeframe} onChange={(tf) => change({ timeframe: tf })} />
        <Toggle
          testId="compare"
          label="Compare with the previous period"
          on={state.compare}
          onChange={(on) => change({ compare: on })}
        />
        <span class="muted small" data-testid="total-views">
          {totalViews === null ? '' : `${totalViews.toLocaleString('en')} views`}
        </span>
      </div>
      <FilterChips filters={filters} onChange={setFilters} />
      <ErrorNote error={catalog.error ?? scores.error ?? overall.error ?? previous.error} />

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
          {compared && (
            <span class="small">
              vs previous period {formatValue(compared.overall, unit)}{' '}
              <Delta
                testId="overall-delta"
                current={overall.data?.data.value}
                previous={compared.overall}
                unit={unit}
                higherIsWorse={higherIsWorse}
                format={fmt}
              />
            </span>
          )}
          <span class="spacer" />
          <ClipToggle on={state.clip} onChange={(on) => change({ clip: on })} />
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
          height={260}
          clip={clip}
          data={[times, values, ...(before ? [before] : []), (series.data?.data ?? []).map((p) => p.views)]}
          series={[
            { label: humanize(metric), color: '#f5a524', unit },
            ...(before ? [{ label: 'Previous period', color: '#c9a25a', unit, dash: [6, 4] }] : []),
            { label: 'Views', color: '#5b8def', right: true },
          ]}
        />
        <p class="muted small">
          {series.data ? `per ${series.data.granularity.replace('_', ' ')}, by the time each view ended` : ''}
          {before ? '; dashed: the previous period, moved forward by its length onto the same axis' : ''}
        </p>
        <ClipNote on={state.clip} clip={clip} cut={cut} format={fmt} />
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
              ...(compared && {
                change: (
                  <Delta
                    current={r.value}
                    previous={compared.rows.get(r.field)}
                    unit={unit}
                    higherIsWorse={higherIsWorse}
                    format={fmt}
                  />
                ),
              }),
            }))}
          />
        </div>
        <StartupDistribution values={distribution.data} />
      </div>
    </div>
  );
}

/**
 * min · median · mean · p95 · max of video startup time, drawn as a box on a
 * linear axis from 0 ms with round, labelled ticks (the values' unit on each).
 */
function StartupDistribution({ values }: { values: (readonly [string, number | null])[] | undefined }) {
  const v = new Map(values ?? []);
  const max = v.get('max') ?? null;
  const axis = max === null ? null : boxAxis(max);
  const tickText = axis ? formatTicks(axis.ticks, 'ms') : [];
  const at = (k: string) => {
    const x = v.get(k);
    return x === null || x === undefined || !axis ? 0 : (x / axis.top) * 100;
  };
  return (
    <section class="card" data-testid="startup-distribution">
      <h3>Video startup time distribution</h3>
      {max === null || !axis ? (
        <p class="muted">No startup times in this timeframe</p>
      ) : (
        <>
          <div class="box-plot">
            <div class="box">
              <span class="whisker" style={{ left: `${at('min')}%`, width: `${at('max') - at('min')}%` }} />
              <span
                class="iqr"
                style={{ left: `${at('median')}%`, width: `${Math.max(1, at('95th') - at('median'))}%` }}
              />
              <span class="mark mean" style={{ left: `${at('avg')}%` }} title="mean" />
            </div>
            <div class="box-axis" data-testid="startup-axis">
              {axis.ticks.map((t, i) => (
                <span class="tick" key={t} style={{ left: `${(t / axis.top) * 100}%` }} data-value={t}>
                  {tickText[i]}
                </span>
              ))}
            </div>
          </div>
          <p class="muted small box-title" data-testid="startup-axis-title">
            video startup time, linear from 0 (box: median to p95, whiskers: min to max, line: mean)
          </p>
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

/** Round ticks from 0 past `max`: 4 or 5 steps of 1, 2 or 5 × a power of ten. */
export function boxAxis(max: number): { top: number; ticks: number[] } {
  const raw = Math.max(max, 1) / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * power).find((s) => s >= raw)!;
  const top = Math.ceil(Math.max(max, 1) / step) * step;
  return { top, ticks: Array.from({ length: Math.round(top / step) + 1 }, (_, i) => i * step) };
}
