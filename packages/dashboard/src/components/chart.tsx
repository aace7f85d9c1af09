/**
 * A uPlot time chart: created once per mount, fed new data in place so a
 * refresh every few seconds costs a redraw, not a rebuild.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  color: string;
  /** Formats a value on the axis and in the legend. */
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
}

export function Chart({ data, series, height = 180, testId, spark = false }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = series.map((s) => `${s.label}:${s.right ? 'r' : 'l'}`).join('|');

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const fmt = (s: ChartSeries | undefined) => (_u: uPlot, v: number | null) =>
      v === null || v === undefined ? '–' : s?.format ? s.format(v) : String(v);
    const left = series.find((s) => !s.right);
    const right = series.find((s) => s.right);
    const opts: uPlot.Options = {
      width: el.clientWidth || 600,
      height,
      legend: { show: !spark, live: true },
      cursor: spark ? { show: false } : { drag: { x: false, y: false } },
      ...(spark ? { padding: [4, 0, 4, 0] as uPlot.Padding } : {}),
      scales: { x: { time: true }, y: {}, ...(right ? { r: {} } : {}) },
      axes: spark
        ? [{ show: false }, { show: false }]
        : [
            { stroke: '#8a94a6', grid: { stroke: '#2a3140' } },
            {
              stroke: '#8a94a6',
              grid: { stroke: '#2a3140' },
              size: 72,
              values: (_u, vals) => vals.map((v) => (left?.format ? left.format(v) : String(v))),
            },
            ...(right
              ? [
                  {
                    scale: 'r',
                    side: 1,
                    stroke: '#8a94a6',
                    grid: { show: false },
                    size: 50,
                    values: (_u: uPlot, vals: number[]) =>
                      vals.map((v) => (right.format ? right.format(v) : String(v))),
                  } as uPlot.Axis,
                ]
              : []),
          ],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          scale: s.right ? 'r' : 'y',
          spanGaps: false,
          // Isolated values (a sparse timeframe) would draw no line at all: mark them as points.
          points: { show: (u: uPlot, si: number, i0: number, i1: number) => fewValues(u.data[si], i0, i1) },
          value: fmt(s),
          ...(s.dash ? { dash: s.dash } : {}),
          ...(s.stepped ? { paths: uPlot.paths.stepped!({ align: 1 }) } : {}),
        })),
      ],
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
  }, [data]);

  return <div class="chart" ref={box} data-testid={testId} />;
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
