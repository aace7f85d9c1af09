/**
 * The root-cause hint's choice on aggregates with known viewers: the value
 * carrying the added rebuffering is named with its shares; a value everyone
 * shares, or an even split, is not; the rates before the breach decide what
 * counts as added (a CDN that always rebuffered this much is not the cause).
 */
import { describe, expect, it } from 'vitest';
import { rootCause } from '../src/alerts/root-cause.js';
import { type PartSums, RealtimeAggregate } from '../src/pipeline/realtime/realtime-aggregate.js';

/** `viewers` watching 5 s each, `stalled` of them rebuffering 4 s of it. */
function agg(viewers: number, stalled: number): RealtimeAggregate {
  const a = new RealtimeAggregate();
  for (let i = 0; i < viewers; i++)
    a.addView({
      concurrent: true,
      startingUp: false,
      watchMs: 5000,
      rebufferMs: i < stalled ? 4000 : 0,
      bitrateBps: 0,
      startupMs: null,
    });
  return a;
}

/** Rows per CDN and one country everyone is in; the overall aggregate is their sum. */
function tickOf(cdns: Record<string, [number, number]>) {
  const overall = new RealtimeAggregate();
  const rows = new Map<string, RealtimeAggregate>();
  for (const [cdn, [v, s]] of Object.entries(cdns)) {
    rows.set(cdn, agg(v, s));
    overall.merge(agg(v, s));
  }
  const country = new Map([['FR', overall]]);
  return {
    overall,
    dims: new Map([
      ['cdn', rows],
      ['country', country],
    ]),
  };
}

const hint = (cdns: Record<string, [number, number]>, before = new Map<string, PartSums>()) =>
  rootCause({ metric: 'current_rebuffering_percentage', operator: '>', ...tickOf(cdns), before });

describe('root-cause hint', () => {
  it('names the CDN with the added rebuffering, not the country everyone is in', () => {
    expect(hint({ a: [6, 0], b: [4, 3], c: [10, 1] })).toEqual({
      summary: '75 % of the added rebuffering is on CDN b (20 % of the audience)',
      baseline: 'none',
      contributors: [{ dimension: 'cdn', value: 'b', share: 0.75, audience_share: 0.2 }],
    });
  });

  it('names nothing when the change is split evenly', () => {
    expect(hint({ a: [5, 2], b: [5, 2] })).toBeNull();
  });

  it('counts only what is added to each value’s rate before the breach', () => {
    // c rebuffered 40 % of its watch time before, as now: nothing added there; b added all of its.
    const before = new Map([
      ['cdn\nc', agg(10, 5)],
      ['cdn\nb', agg(4, 0)],
      ['\n', agg(20, 5)],
    ]);
    const h = hint({ a: [6, 0], b: [4, 1], c: [10, 5] }, before);
    expect(h?.baseline).toBe('history');
    expect(h?.contributors).toEqual([{ dimension: 'cdn', value: 'b', share: 1, audience_share: 0.2 }]);
  });
});
