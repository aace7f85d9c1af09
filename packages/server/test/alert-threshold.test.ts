/**
 * The threshold condition of one series on a controlled clock: how long a
 * breach must hold, hysteresis, the minimum audience, an audience that falls
 * to zero, and a flapping series keeping its one incident.
 */
import { describe, expect, it } from 'vitest';
import { checkRule, type RuleSpec } from '../src/alerts/alert-rules.js';
import { type SeriesSample, stepThreshold, type ThresholdState } from '../src/alerts/threshold.js';

const noChannels = async () => false;

async function spec(body: Record<string, unknown>): Promise<RuleSpec> {
  return checkRule({ name: 'r', metric: 'current_rebuffering_percentage', ...body }, noChannels);
}

/** Runs samples at 5 s steps from t = 0; returns the transitions with their times. */
function run(s: RuleSpec, samples: SeriesSample[], stepMs = 5000): [number, string][] {
  const state: ThresholdState = {};
  let open = false;
  const out: [number, string][] = [];
  samples.forEach((sample, i) => {
    const t = stepThreshold(s, state, open, sample, i * stepMs);
    if (t) {
      out.push([i * stepMs, t]);
      open = t === 'trigger';
    }
  });
  return out;
}

const v = (value: number | null, audience = 10): SeriesSample => ({ value, audience });

describe('threshold condition', () => {
  it('opens once the breach has held for for_seconds, not before; a dip restarts the wait', async () => {
    const s = await spec({
      condition: { type: 'threshold', operator: '>', value: 10, for_seconds: 10, resolve_for_seconds: 0 },
    });
    // Breach at 0 and 5 s, a dip at 10 s, breach again from 15 s: 15 → 25 s is the 10 s it needs.
    expect(run(s, [v(20), v(20), v(5), v(20), v(20), v(20), v(20)])).toEqual([[25_000, 'trigger']]);
  });

  it('opens at once with for_seconds 0 and resolves after resolve_for_seconds of good values', async () => {
    const s = await spec({
      condition: { type: 'threshold', operator: '>', value: 10, for_seconds: 0, resolve_for_seconds: 10 },
    });
    expect(run(s, [v(20), v(5), v(5), v(5), v(5)])).toEqual([
      [0, 'trigger'],
      [15_000, 'resolve'],
    ]);
  });

  it('holds an incident open between resolve_value and value (hysteresis)', async () => {
    const s = await spec({
      condition: {
        type: 'threshold',
        operator: '>',
        value: 10,
        resolve_value: 4,
        for_seconds: 0,
        resolve_for_seconds: 0,
      },
    });
    // 8 is below the threshold but above the resolve value: still open; 3 resolves it.
    expect(run(s, [v(20), v(8), v(8), v(3)])).toEqual([
      [0, 'trigger'],
      [15_000, 'resolve'],
    ]);
    // Without hysteresis 8 resolves at once.
    const plain = await spec({
      condition: { type: 'threshold', operator: '>', value: 10, for_seconds: 0, resolve_for_seconds: 0 },
    });
    expect(run(plain, [v(20), v(8)])).toEqual([
      [0, 'trigger'],
      [5000, 'resolve'],
    ]);
  });

  it('never opens for a series below min_audience; an open one resolves when its audience leaves', async () => {
    const s = await spec({
      condition: {
        type: 'threshold',
        operator: '>',
        value: 10,
        for_seconds: 0,
        resolve_for_seconds: 0,
        min_audience: 5,
      },
    });
    expect(run(s, [v(100, 3), v(100, 4), v(100, 4)])).toEqual([]);
    expect(run(s, [v(100, 5), v(100, 2)])).toEqual([
      [0, 'trigger'],
      [5000, 'resolve'],
    ]);
  });

  it('"below" opens when the whole environment falls to zero viewers, whatever min_audience says', async () => {
    const s = await spec({
      metric: 'current_concurrent_viewers',
      condition: {
        type: 'threshold',
        operator: '<',
        value: 1,
        for_seconds: 10,
        resolve_for_seconds: 0,
        min_audience: 50,
      },
    });
    expect(run(s, [v(120, 120), v(0, 0), v(0, 0), v(0, 0), v(80, 80)])).toEqual([
      [15_000, 'trigger'],
      [20_000, 'resolve'],
    ]);
  });

  it('keeps one incident for a series that flaps faster than resolve_for_seconds', async () => {
    const s = await spec({ condition: { type: 'threshold', operator: '>', value: 10, for_seconds: 0 } });
    expect(s.condition.resolve_for_seconds).toBe(120);
    // Bad for 30 s, good for 30 s, ten times over (a minute per swing): one trigger, no resolve yet.
    const swing = [...Array(6).fill(v(50)), ...Array(6).fill(v(1))];
    const flapping = Array.from({ length: 10 }, () => swing).flat();
    expect(run(s, flapping)).toEqual([[0, 'trigger']]);
    // Then 120 s of good values resolve it: the first good sample of the run is at 570 s.
    expect(run(s, [...flapping, ...Array(30).fill(v(1))]).at(-1)).toEqual([570_000 + 120_000, 'resolve']);
  });

  it('treats a series with no value (nothing to measure) as resolving, never as breaching', async () => {
    const s = await spec({
      condition: { type: 'threshold', operator: '>', value: 10, for_seconds: 0, resolve_for_seconds: 5 },
    });
    expect(run(s, [v(null), v(20), v(null), v(null)])).toEqual([
      [5000, 'trigger'],
      [15_000, 'resolve'],
    ]);
  });
});
