/**
 * A uPlot time chart: created once per mount, fed new data in place so a
 * refresh every few seconds costs a redraw, not a rebuild. Every chart
 * reads the same way: y axes start at zero (a rate or a count drawn from
 * its band's bottom makes noise look like an outage), each axis is titled
 * with what it measures, series without a unit or formatter are counts (whole
 * ticks), and time is the dashboard's one date-time format with its zone.
 * A chart may clip its left axis below a spike (`clip`): the axis still
 * starts at zero and says where it is cut, and each clipped point is marked
 * at the top edge with its value.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatClock, formatDate, formatTicks, formatTime, formatValue, zoneLabel } from '../format.js';

export interface ChartSeries {
  label: string;
  color: string;
  /** The values' unit: they read as formatValue writes them, and the axis' ticks share one unit (formatTicks). */
  unit?: string;
  /** Formats a value on the axis and in the legend where `unit` alone does not say how; without either the series counts things. */
  format?: (v: number) => string;
  /** A second y axis on the right (e.g. viewers next to a percentage). */
  right?: boolean;
  /** Draw as steps (rendition changes). */
  stepped?: boolean;
  /** A dashed line (a threshold). */
  dash?: number[];
}

export interface ChartProps {
  /** x in epoch seconds, then one array per series (null = gap). */
  data: [number[], ...(number | null)[][]];
  series: ChartSeries[];
  height?: number;
  testId?: string;
  /** A sparkline: no axes, legend or cursor (headline cards). */
  spark?: boolean;
  /** The left axis' top when clipping spikes (see spikeClip); values above it are marked, labelled. */
  clip?: number | null;
  /** The left axis' title where its series' labels do not name the measure (one line per breakdown value). */
  yLabel?: string;
}

export function Chart({
  data,
  series,
  height = 180,
  testId,
  spark = false,
  clip = null,
  yLabel,
}: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  // Formatters are read at draw time: a page's unit may arrive after the chart was built.
  const live = useRef(series);
  live.current = series;
  const clipAt = useRef(clip);
  clipAt.current = clip;
  const title = useRef(yLabel);
  title.current = yLabel;
  const shape = series.map((s) => `${s.label}:${s.right ? 'r' : 'l'}`).join('|');

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const left = series.find((s) => !s.right);
    const right = series.find((s) => s.right);
    // What each axis last drew, mirrored on the element (uPlot draws axes on a canvas).
    const drawn: { label: string; ticks: string[] }[] = [];
    const now = (i: number) => live.current[i] ?? series[i]!;
    const yAxis = (s: ChartSeries, at: number): uPlot.Axis => ({
      ...(at === 2 ? { scale: 'r', side: 1, grid: { show: false } } : { grid: { stroke: '#2a3140' } }),
      stroke: '#8a94a6',
      size: at === 2 ? 60 : 72,
      label:
        at === 1 ? () => axisTitle(title.current ?? now(series.indexOf(s)).label, clipAt.current) : s.label,
      labelSize: 18,
      labelFont: '12px system-ui',
      ...(counts(s) ? { incrs: COUNT_INCRS } : {}),
      values: (_u, vals) => {
        const cur = now(series.indexOf(s));
        return record(
          drawn,
          at,
          at === 1 ? axisTitle(title.current ?? cur.label, clipAt.current) : cur.label,
          cur.unit ? formatTicks(vals, cur.unit) : vals.map((v) => valueText(cur, v)),
        );
      },
    });
    const timeLabel = `time (${zoneLabel(new Date((data[0][0] ?? Date.now() / 1000) * 1000))})`;
    const opts: uPlot.Options = {
      width: el.clientWidth || 600,
      height,
      legend: { show: !spark, live: true },
      cursor: spark ? { show: false } : { drag: { x: false, y: false } },
      ...(spark ? { padding: [4, 0, 4, 0] as uPlot.Padding } : {}),
      scales: {
        x: { time: true },
        y: { range: (u, lo, hi) => (clipAt.current ? [0, clipAt.current] : fromZero(u, lo, hi)) },
        ...(right ? { r: { range: fromZero } } : {}),
      },
      axes: spark
        ? [{ show: false }, { show: false }]
        : [
            {
              stroke: '#8a94a6',
              grid: { stroke: '#2a3140' },
              label: timeLabel,
              labelSize: 18,
              labelFont: '12px system-ui',
              size: 58,
              // Room between ticks for their labels: a label with seconds ("11:36:15") needs more than uPlot's 50 px,
              // or the labels of a narrow chart run into each other. A tick a minute or more apart reads "14:05".
              space: (_u, _i, min, max, dim) => (((max - min) / dim) * 60 < 60 ? 70 : 50),
              // Whole seconds at the least: labels are to the second, so a finer step repeats them.
              incrs: TIME_INCRS,
              values: (_u, vals, _a, _space, incr) => record(drawn, 0, timeLabel, timeTicks(vals, incr)),
            },
            ...(left ? [yAxis(left, 1)] : []),
            ...(right ? [yAxis(right, 2)] : []),
          ],
      series: [
        { value: (_u: uPlot, v: number | null) => (v === null ? '–' : formatTime(v * 1000)) },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          scale: s.right ? 'r' : 'y',
          spanGaps: false,
          // Isolated values (a sparse timeframe) would draw no line at all: mark them as points.
          points: { show: (u: uPlot, si: number, i0: number, i1: number) => fewValues(u.data[si], i0, i1) },
          value: (_u: uPlot, v: number | null) =>
            v === null || v === undefined ? '–' : valueText(now(i), v),
          ...(s.dash ? { dash: s.dash } : {}),
          ...(s.stepped ? { paths: uPlot.paths.stepped!({ align: 1 }) } : {}),
        })),
      ],
      hooks: {
        draw: [
          (u) => {
            const clipped = clipAt.current ? markClipped(u, clipAt.current, live.current) : [];
            // What was drawn, for readers of the page that cannot read a canvas (tests, scripts).
            el.dataset['series'] = JSON.stringify(
              live.current.map((s, i) => ({ label: s.label, dashed: !!s.dash, values: u.data[i + 1] })),
            );
            el.dataset['clipped'] = JSON.stringify(clipped);
            el.dataset['axes'] = JSON.stringify(
              drawn.map((a, i) => {
                const sc = i === 0 ? u.scales['x'] : u.scales[i === 2 ? 'r' : 'y'];
                return a && { ...a, min: sc?.min ?? null, max: sc?.max ?? null };
              }),
            );
          },
        ],
      },
    };
    const p = new uPlot(opts, data as uPlot.AlignedData, el);
    plot.current = p;
    const resize = new ResizeObserver(() => p.setSize({ width: el.clientWidth || 600, height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      p.destroy();
      plot.current = null;
    };
    // Rebuilt only when the series' shape changes; data goes through setData below.
  }, [shape, height, spark]);

  useEffect(() => {
    plot.current?.setData(data as uPlot.AlignedData);
  }, [data, clip]);

  return <div class="chart" ref={box} data-testid={testId} />;
}

/** Whole-number steps for count axes: never 0.25 of a viewer. */
const COUNT_INCRS = [
  1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 1e7,
];

/** A series with neither a unit nor a formatter counts things: whole-number ticks and values. */
function counts(s: ChartSeries): boolean {
  return !s.format && s.unit === undefined;
}

function valueText(s: ChartSeries, v: number): string {
  if (s.format) return s.format(v);
  return s.unit === undefined ? Math.round(v).toLocaleString('en') : formatValue(v, s.unit);
}

function record(drawn: { label: string; ticks: string[] }[], at: number, label: string, ticks: string[]) {
  drawn[at] = { label, ticks };
  return ticks;
}

/** y from zero (below it only when values are), headroom above the largest value. */
function fromZero(_u: uPlot, min: number | null, max: number | null): uPlot.Range.MinMax {
  if (min === null || max === null || !Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  const lo = Math.min(0, min);
  const hi = max > lo ? max : lo + 1;
  const [nLo, nHi] = uPlot.rangeNum(lo, hi, 0.1, true);
  return [lo === 0 ? 0 : nLo, nHi];
}

const MIN = 60;
const HOUR = 3600;
const DAY = 86_400;
/** Time-axis steps in seconds, none under one second (uPlot picks the smallest that fits). */
const TIME_INCRS = [
  1,
  2,
  5,
  10,
  15,
  30,
  MIN,
  2 * MIN,
  5 * MIN,
  10 * MIN,
  15 * MIN,
  30 * MIN,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  7 * DAY,
  14 * DAY,
  30 * DAY,
  90 * DAY,
  365 * DAY,
];

/** "14:05" ticks (seconds when the step is under a minute), each date change (and the first tick) dated. */
function timeTicks(vals: number[], incrSeconds: number): string[] {
  let day = '';
  return vals.map((v) => {
    const d = new Date(v * 1000);
    const date = formatDate(d);
    const clock = formatClock(d, incrSeconds < 60);
    if (date === day) return clock;
    day = date;
    return `${clock}\n${date}`;
  });
}

/** At most 60 values in the visible range: few enough to draw each as a point. */
function fewValues(
  values: ArrayLike<number | null | undefined> | undefined,
  i0: number,
  i1: number,
): boolean {
  if (!values) return false;
  let n = 0;
  for (let i = i0; i <= i1; i++) if (values[i] !== null && values[i] !== undefined && ++n > 60) return false;
  return true;
}

/** The left axis' title, saying that it is cut when it is (where: written at its top, see markClipped). */
function axisTitle(label: string, clip: number | null): string {
  return clip ? `${label} (cut)` : label;
}

/**
 * Where to cut the left axis so one spike does not flatten the rest of its
 * line: 10 % above Tukey's far-out fence (third quartile + 3 × the
 * interquartile range of the values), when some value is above that; null
 * when nothing would be cut (or the fence is 0: nothing to zoom into).
 */
export function spikeClip(values: (number | null | undefined)[]): number | null {
  const sorted = values.filter((v): v is number => typeof v === 'number').sort((a, b) => a - b);
  if (sorted.length < 4) return null;
  const rank = (p: number) => sorted[Math.max(0, Math.ceil(sorted.length * p) - 1)]!;
  const top = (rank(0.75) + 3 * (rank(0.75) - rank(0.25))) * 1.1;
  return top > 0 && sorted.at(-1)! > top ? top : null;
}

/** Marks each left-axis value above `clip` at the top edge, labelled with its value; returns what it marked. */
function markClipped(u: uPlot, clip: number, series: ChartSeries[]) {
  const marked: { series: string; time: number; value: number; text: string }[] = [];
  const ctx = u.ctx;
  const px = uPlot.pxRatio;
  ctx.save();
  ctx.font = `${11 * px}px system-ui`;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'top';
  // Where the axis is cut, written across the plot's top-left corner (an axis title has no room for it).
  const first = series.find((s) => !s.right);
  if (first) {
    ctx.fillStyle = '#8a94a6';
    ctx.fillText(`axis cut at ${valueText(first, clip)}`, u.bbox.left + 4 * px, u.bbox.top + 2 * px);
  }
  series.forEach((s, si) => {
    if (s.right) return;
    const values = u.data[si + 1] ?? [];
    values.forEach((v, i) => {
      if (v === null || v === undefined || v <= clip) return;
      const x = u.valToPos(u.data[0][i]!, 'x', true);
      const y = u.bbox.top;
      const text = valueText(s, v);
      ctx.fillStyle = s.color;
      ctx.beginPath();
      ctx.moveTo(x - 5 * px, y + 7 * px);
      ctx.lineTo(x + 5 * px, y + 7 * px);
      ctx.lineTo(x, y);
      ctx.fill();
      ctx.fillText(text, x + 7 * px, y);
      marked.push({ series: s.label, time: u.data[0][i]!, value: v, text });
    });
  });
  ctx.restore();
  return marked;
}
