/**
 * "Compare with the previous period": the previous period of a
 * timeframe (the same length, ending where it starts), a previous series
 * moved onto the current one's x axis by that length, and the delta of a
 * number against its previous value — absolute and relative, coloured by
 * whether the metric is worse when higher (the metric catalog's
 * `higher_is_worse`).
 */
import { round } from '../format.js';

/** `[from, to]` → the period of the same length just before it. */
export function previousPeriod([from, to]: readonly number[]): [number, number] {
  const length = to! - from!;
  return [from! - length, from!];
}

/**
 * The previous period's bucket values on the current buckets' times: a
 * bucket at `t` lands on the current bucket holding `t + offset` (the same
 * position in its period), so both periods share the x axis.
 */
export function alignPrevious(
  times: number[],
  previous: { time: number; value: number | null }[],
  offset: number,
): (number | null)[] {
  const out: (number | null)[] = times.map(() => null);
  let i = 0;
  for (const p of previous) {
    const t = p.time + offset;
    while (i + 1 < times.length && times[i + 1]! <= t) i++;
    if (times.length && times[i]! <= t) out[i] = p.value;
  }
  return out;
}

export interface Change {
  absolute: number;
  /** Relative to the previous value, in percent; null when that was 0. */
  percent: number | null;
  /** 'worse', 'better' or 'same' for the metric's direction. */
  verdict: 'worse' | 'better' | 'same';
}

export function change(current: number, previous: number, higherIsWorse: boolean): Change {
  const absolute = current - previous;
  const percent = previous === 0 ? null : (absolute / Math.abs(previous)) * 100;
  const verdict = absolute === 0 ? 'same' : absolute > 0 === higherIsWorse ? 'worse' : 'better';
  return { absolute, percent, verdict };
}

const PERCENT_UNITS = new Set(['percent', 'percentage']);

/** An absolute difference with its unit; a difference of percentages is in percentage points. */
function absoluteText(v: number, unit: string, format: (v: number) => string): string {
  const sign = v > 0 ? '+' : v < 0 ? '−' : '±';
  if (PERCENT_UNITS.has(unit)) return `${sign}${round(Math.abs(v), 2)} pp`;
  if (unit === 'ratio') return `${sign}${round(Math.abs(v) * 100, 2)} pp`;
  return `${sign}${format(Math.abs(v))}`;
}

/** "+1.2 pp (+35.3%)" against the previous value, or "–" when either is missing. */
export function Delta(props: {
  current: number | null | undefined;
  previous: number | null | undefined;
  unit: string;
  higherIsWorse: boolean;
  format: (v: number) => string;
  testId?: string;
}) {
  const { current, previous } = props;
  if (current === null || current === undefined || previous === null || previous === undefined)
    return (
      <span class="delta" data-testid={props.testId}>
        –
      </span>
    );
  const c = change(current, previous, props.higherIsWorse);
  const pct = c.percent === null ? 'n/a' : `${c.percent >= 0 ? '+' : '−'}${round(Math.abs(c.percent), 1)}%`;
  return (
    <span
      class={`delta ${c.verdict}`}
      data-testid={props.testId}
      data-previous={previous}
      data-absolute={c.absolute}
      data-percent={c.percent ?? ''}
      title={`previous period: ${props.format(previous)}`}
    >
      {absoluteText(c.absolute, props.unit, props.format)} ({pct})
    </span>
  );
}
