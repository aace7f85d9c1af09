/**
 * The real-time aggregates on the wire between pipeline workers and the api
 * node: sketches and counters survive the trip, messages stay under the
 * NATS payload limit and come back whole, and a merged tick holds a filter
 * set only when every worker computed it.
 */
import { DDSketch } from '@datadog/sketches-js';
import type { NatsConnection } from 'nats';
import { describe, expect, it } from 'vitest';
import { encodeTick, type MergedTick, RealtimeMerger } from '../src/cluster/realtime-share.js';
import {
  fromWire,
  type Parted,
  PartsAssembler,
  packItems,
  rowItems,
  sketchFromWire,
  sketchToWire,
  toWire,
} from '../src/cluster/realtime-wire.js';
import { RealtimeAggregate, type ViewTick } from '../src/pipeline/realtime/realtime-aggregate.js';
import type { RealtimeTick } from '../src/pipeline/realtime/realtime-tracker.js';

const view = (over: Partial<ViewTick> = {}): ViewTick => ({
  concurrent: true,
  startingUp: false,
  watchMs: 1000,
  rebufferMs: 0,
  bitrateBps: 0,
  startupMs: null,
  ...over,
});

function aggregate(startups: number[], rebufferMs = 0): RealtimeAggregate {
  const a = new RealtimeAggregate();
  for (const s of startups) a.addView(view({ startupMs: s, rebufferMs }));
  return a;
}

describe('real-time wire format', () => {
  it('keeps every bin of a startup sketch', () => {
    const s = new DDSketch({ relativeAccuracy: 0.01 });
    const values = [0, 0, 1, 7, 100, 100, 250, 999, 1500, 1501, 60_000, 600_000];
    for (const v of values) s.accept(v);
    const back = sketchFromWire(sketchToWire(s));
    expect(back.count).toBe(values.length);
    for (let q = 0; q <= 1; q += 0.05) expect(back.getValueAtQuantile(q)).toBe(s.getValueAtQuantile(q));
    // Twelve values in nine bins (two at 0): far below the dense protobuf's kilobyte.
    expect(sketchToWire(s)).toHaveLength(1 + 2 * 8);
  });

  it('carries counters, time sums scaled to the window, the histogram and the startup sum', () => {
    const a = aggregate([100, 200, 300, 400], 250);
    a.addOutcome('started');
    a.addOutcome('ebvs');
    const b = fromWire(JSON.parse(JSON.stringify(toWire(a))), 2);
    expect(b.concurrent).toBe(4);
    expect(b.watchMs).toBe(8000);
    expect(b.rebufferMs).toBe(2000);
    expect(b.started).toBe(1);
    expect(b.ebvs).toBe(1);
    expect(b.startupSum).toBe(1000);
    expect(b.startupN).toBe(4);
    expect(b.histogram).toEqual(a.histogram);
    // Nearest rank of 4 values at the median: 200, within the sketch's 1 %.
    expect(Math.abs(b.quantile(0.5)! - 200)).toBeLessThanOrEqual(2);
  });

  it('cuts items into messages under the payload limit and puts them together again', () => {
    const items = Array.from({ length: 100 }, (_, i) => JSON.stringify({ k: 'o', i, pad: 'x'.repeat(300) }));
    const messages = packItems({ worker: 'w', atMs: 5 }, items, 4096);
    expect(messages.length).toBeGreaterThan(8);
    for (const m of messages) expect(m.length).toBeLessThanOrEqual(4096);
    const parts = new PartsAssembler<Parted & { worker: string; atMs: number }>();
    let whole: (Parted & { worker: string; atMs: number })[] | undefined;
    for (const m of [...messages].reverse()) whole = parts.add('w|5', JSON.parse(m.toString('utf8')));
    expect(whole!.every((p) => p.worker === 'w' && p.atMs === 5)).toBe(true);
    const got = whole!
      .sort((x, y) => x.part - y.part)
      .flatMap((p) => p.items as unknown as { i: number }[])
      .map((i) => i.i);
    expect(got).toEqual(items.map((_, i) => i));
  });

  it('cuts a dimension with many values into several items, and marks an empty one', () => {
    const rows = Array.from(
      { length: 2000 },
      (_, i) => [`value-${i}`, aggregate([i])] as [string, RealtimeAggregate],
    );
    const items = rowItems((r) => ({ k: 'd', d: 'video_id', r }), rows);
    expect(items.length).toBeGreaterThan(1);
    const back = items.flatMap((i) => (JSON.parse(i) as { r: [string][] }).r.map((r) => r[0]));
    expect(back).toEqual(rows.map((r) => r[0]));
    expect(rowItems((r) => ({ k: 'fd', f: 'key', d: 'cdn', r }), [])).toEqual([
      JSON.stringify({ k: 'fd', f: 'key', d: 'cdn', r: [] }),
    ]);
  });
});

describe('merging workers ticks', () => {
  const tickMs = 1000;
  const nowMs = 1_000_500;
  const tick = (overall: RealtimeAggregate): RealtimeTick => ({
    atMs: 1_000_000,
    envId: 'env',
    views: [],
    outcomes: [],
    overall,
    dims: new Map([['cdn', new Map([['cdn-a', overall]])]]),
  });
  const fo = (key: string, a: RealtimeAggregate) => JSON.stringify({ k: 'fo', f: key, a: toWire(a) });
  const fd = (key: string, d: string, rows: [string, RealtimeAggregate][]) =>
    rowItems((r) => ({ k: 'fd', f: key, d, r }), rows);

  function merge(w1: string[], w2: string[]): MergedTick {
    let merged: MergedTick | undefined;
    const m = new RealtimeMerger(
      {} as NatsConnection,
      'x',
      tickMs,
      (t) => {
        merged = t;
      },
      () => nowMs,
    );
    for (const b of encodeTick('w1', tick(aggregate([100, 200])), tickMs, w1, 1024 * 1024)) m.receive(b);
    // The second worker's payload limit is tiny: its tick comes in many parts.
    for (const b of encodeTick('w2', tick(aggregate([300])), tickMs, w2, 2048)) m.receive(b);
    m.merge();
    return merged!;
  }

  it('sums all views and rows, and a filter set only when both workers computed it', () => {
    const merged = merge(
      [
        fo('a', aggregate([100])),
        fo('b', aggregate([200])),
        ...fd('b', 'cdn', [['cdn-a', aggregate([200])]]),
      ],
      [fo('a', aggregate([300])), ...fd('b', 'cdn', [['cdn-a', aggregate([300])]])],
    );
    expect(merged.overall.concurrent).toBe(3);
    expect(merged.dims.get('cdn')!.get('cdn-a')!.concurrent).toBe(3);
    expect(merged.filtered.get('a')!.overall.concurrent).toBe(2);
    expect(merged.filtered.get('a')!.overall.startupSum).toBe(400);
    // Set b: the second worker sent its rows but not its overall (never happens whole): not complete.
    expect(merged.filtered.has('b')).toBe(false);
  });

  it('keeps a set without the dimensions one worker did not break it down by', () => {
    const merged = merge(
      [
        fo('a', aggregate([100])),
        ...fd('a', 'cdn', [['cdn-a', aggregate([100])]]),
        ...fd('a', 'country', []),
      ],
      [fo('a', aggregate([300])), ...fd('a', 'cdn', [['cdn-a', aggregate([300])]])],
    );
    const a = merged.filtered.get('a')!;
    expect([...a.dims.keys()]).toEqual(['cdn']);
    expect(a.dims.get('cdn')!.get('cdn-a')!.concurrent).toBe(2);
  });
});
