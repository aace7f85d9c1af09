/**
 * The threshold condition of one series, step by step (pure: the caller
 * gives the time, so tests drive it with a controlled clock).
 *
 * - Breaching: the value is past `value` (`>` above, `<` below) and the
 *   series has at least `min_audience` (not asked of audience metrics, whose
 *   value is the audience: a whole environment falling to zero viewers
 *   breaches `< 1`). Held for `for_seconds` (from the first breaching
 *   evaluation to the current one), an incident opens.
 * - Resolving, once open: no value, too small an audience, or the value back
 *   past `resolve_value` (hysteresis: between the two values nothing
 *   changes). Held for `resolve_for_seconds`, the incident resolves. A
 *   series that turns bad again before that keeps its one incident open, so
 *   a flapping series does not open a new incident at every swing.
 * - Anomaly conditions share the lifecycle: the sample carries the model's
 *   verdict (anomaly-baseline.ts), breaching when anomalous, resolving
 *   otherwise.
 */
import type { RuleSpec } from './alert-rules.js';
import { isAudienceMetric } from './alert-rules.js';
import type { AnomalyVerdict } from './anomaly-baseline.js';

export interface SeriesSample {
  value: number | null;
  audience: number;
  /** Views of the series that show the problem, when the evaluation can name them. */
  exampleViewIds?: readonly string[];
  /** Anomaly rules: the model's verdict for the minute. */
  anomaly?: AnomalyVerdict;
}

export interface ThresholdState {
  /** First evaluation of the current breaching run (no incident open). */
  pendingSinceMs?: number | undefined;
  /** First evaluation of the current resolving run (an incident open). */
  okSinceMs?: number | undefined;
}

const past = (op: '>' | '<', v: number, threshold: number) => (op === '>' ? v > threshold : v < threshold);

export function breaching(spec: RuleSpec, s: SeriesSample): boolean {
  const c = spec.condition;
  if (c.type === 'anomaly') return s.anomaly?.state === 'anomalous';
  if (s.value === null) return false;
  if (!isAudienceMetric(spec) && s.audience < c.min_audience) return false;
  return past(c.operator, s.value, c.value);
}

export function resolving(spec: RuleSpec, s: SeriesSample): boolean {
  const c = spec.condition;
  if (c.type === 'anomaly') return s.anomaly?.state !== 'anomalous';
  if (s.value === null) return true;
  if (!isAudienceMetric(spec) && s.audience < c.min_audience) return true;
  return !past(c.operator, s.value, c.resolve_value);
}

/** Advances `state` by one evaluation; says when the incident opens or resolves. */
export function stepThreshold(
  spec: RuleSpec,
  state: ThresholdState,
  open: boolean,
  s: SeriesSample,
  nowMs: number,
): 'trigger' | 'resolve' | undefined {
  const c = spec.condition;
  if (!open) {
    state.okSinceMs = undefined;
    if (!breaching(spec, s)) {
      state.pendingSinceMs = undefined;
      return undefined;
    }
    state.pendingSinceMs ??= nowMs;
    if (nowMs - state.pendingSinceMs < c.for_seconds * 1000) return undefined;
    state.pendingSinceMs = undefined;
    return 'trigger';
  }
  state.pendingSinceMs = undefined;
  if (!resolving(spec, s)) {
    state.okSinceMs = undefined;
    return undefined;
  }
  state.okSinceMs ??= nowMs;
  if (nowMs - state.okSinceMs < c.resolve_for_seconds * 1000) return undefined;
  state.okSinceMs = undefined;
  return 'resolve';
}

/** Which side is bad: the threshold's operator, or `>` for an anomaly rule watching for rises. */
export const operatorOf = (spec: RuleSpec): '>' | '<' =>
  spec.condition.type === 'anomaly'
    ? spec.condition.direction === 'up'
      ? '>'
      : '<'
    : spec.condition.operator;

/** Whether `candidate` is worse than `current` for the rule's operator. */
export const worse = (spec: RuleSpec, candidate: number, current: number) =>
  operatorOf(spec) === '>' ? candidate > current : candidate < current;
