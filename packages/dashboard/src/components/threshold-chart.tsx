/**
 * A rule's series over time with its threshold (and resolve value, when it
 * differs) drawn as dashed lines: the rule form's preview and the incident
 * page. The threshold's value is also on the element (data-threshold) so a
 * reader of the page can check what is drawn.
 */
import type { Lines } from '../alert-series.js';
import { Chart, type ChartSeries } from './chart.js';

const COLORS = ['#f5a524', '#5b8def', '#3fb950', '#bc8cff', '#39c5cf', '#e3b341', '#ff7b72', '#8a94a6'];

export function ThresholdChart(props: {
  lines: Lines | undefined;
  threshold: number | null;
  resolveValue?: number | null;
  unit: string;
  /** What the lines measure (the metric's name): the axis title, and the legend's name of a line without breakdown. */
  name: string;
  testId: string;
  height?: number;
}) {
  const { lines, threshold, unit } = props;
  const x = lines?.x ?? [];
  const flat = (v: number) => x.map(() => v);
  const extra: [ChartSeries, (number | null)[]][] = [];
  if (threshold !== null && Number.isFinite(threshold))
    extra.push([{ label: 'Threshold', color: '#f85149', dash: [6, 4], unit }, flat(threshold)]);
  const resolve = props.resolveValue;
  if (resolve !== undefined && resolve !== null && resolve !== threshold && Number.isFinite(resolve))
    extra.push([{ label: 'Resolves at', color: '#3fb950', dash: [2, 4], unit }, flat(resolve)]);
  const shown = lines?.lines ?? [];
  return (
    <div
      data-testid={props.testId}
      data-threshold={threshold ?? ''}
      data-lines={shown.map((l) => l.label).join('\n')}
    >
      {!lines ? (
        <p class="muted">Loading…</p>
      ) : x.length === 0 ? (
        <p class="muted">No history for this series yet.</p>
      ) : (
        <Chart
          height={props.height ?? 200}
          data={[x, ...shown.map((l) => l.values), ...extra.map((e) => e[1])]}
          yLabel={props.name}
          series={[
            ...shown.map((l, i) => ({
              label: lines.byValue ? l.label : props.name,
              color: COLORS[i % COLORS.length]!,
              unit,
            })),
            ...extra.map((e) => e[0]),
          ]}
        />
      )}
    </div>
  );
}
