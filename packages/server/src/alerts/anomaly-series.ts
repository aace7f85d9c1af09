/**
 * An anomaly rule's series at one minute of the series history: the minute
 * just written (the whole environment, or every kept value of the rule's
 * breakdown dimension) and, from the store, the minutes its verdict looks
 * at (one query per rule and minute), turned into samples carrying the
 * model's verdict (anomaly-baseline.ts) for the engine's common lifecycle.
 */
import { entry } from '../pipeline/realtime/map-entry.js';
import type { RealtimeMetricId } from '../pipeline/realtime/realtime-catalog.js';
import type { RuleSpec } from './alert-rules.js';
import { type AnomalyVerdict, anomalyAt, baselineRanges } from './anomaly-baseline.js';
import type { SeriesHistory, WrittenMinute } from './series-history.js';
import type { SeriesSample } from './threshold.js';

/** Reads of one minute shared by its rules: rules on the same dimension read its baseline once. */
export function sharedReads(history: Pick<SeriesHistory, 'around'>): Pick<SeriesHistory, 'around'> {
  const reads = new Map<string, ReturnType<SeriesHistory['around']>>();
  return {
    around: (envId, dimension, ranges) => {
      const key = `${envId}\n${dimension}\n${ranges.join(';')}`;
      return entry(reads, key, () => history.around(envId, dimension, ranges));
    },
  };
}

/** Series key (the breakdown value, `''` for the whole environment) → sample with its verdict. */
export async function anomalySamples(
  spec: RuleSpec,
  minute: WrittenMinute,
  history: Pick<SeriesHistory, 'around'>,
): Promise<Map<string, SeriesSample & { anomaly: AnomalyVerdict }>> {
  const c = spec.condition;
  const out = new Map<string, SeriesSample & { anomaly: AnomalyVerdict }>();
  if (c.type !== 'anomaly') return out;
  const metric = spec.metric as RealtimeMetricId;
  const dimension = spec.breakdown ?? '';
  const past = await history.around(minute.envId, dimension, baselineRanges(minute.minuteMs));
  for (const [key, sums] of minute.rows) {
    if (key.slice(0, key.indexOf('\n')) !== dimension) continue;
    const value = key.slice(key.indexOf('\n') + 1);
    const points = new Map(past.get(value));
    points.set(minute.minuteMs, sums);
    const anomaly = anomalyAt(c, metric, points, minute.minuteMs);
    out.set(value, { value: anomaly.value, audience: anomaly.audience, anomaly });
  }
  return out;
}
