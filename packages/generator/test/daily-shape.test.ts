/**
 * The daily and weekly shape, read back from the beacons themselves: more
 * viewers at 21:00 than at 04:00 and on Sunday than on Tuesday, rebuffering
 * worse at peak, an injected step adding its points on one host only, every
 * view a well-formed run (a play request first, contiguous sequence numbers,
 * one view end, no gap between minutes), and the same minute drawn twice
 * giving the same beacons.
 */
import type { Beacon } from '@openqoe/schema';
import { describe, expect, it } from 'vitest';
import { type ShapeOptions, shapedMinute } from '../src/index.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;
/** Sunday 2026-02-01 00:00 UTC. */
const SUNDAY = Date.UTC(2026, 1, 1);
const TUESDAY = SUNDAY + 2 * 24 * HOUR;
const O: ShapeOptions = {
  seed: 7,
  envKey: 'env',
  peakViewers: 120,
  cdnHosts: ['cdn-a', 'cdn-b', 'cdn-c'],
  baseRebufferPct: 0.5,
  peakRebufferPct: 1,
};

/** Viewers and rebuffering (percent of the time spent playing or stalled) over minutes [from, to). */
function measure(from: number, to: number, step: Record<string, number> = {}, host?: string) {
  let viewerMinutes = 0;
  let played = 0;
  let stalled = 0;
  for (let m = from; m < to; m += MINUTE)
    for (const b of shapedMinute(O, m, step)) {
      if (host && b.samples[0]!.cdnHost !== host) continue;
      viewerMinutes++;
      for (const s of b.samples) {
        if (s.state === 'playing') played += s.durationMs;
        if (s.state === 'rebuffering') stalled += s.durationMs;
      }
    }
  return {
    viewers: viewerMinutes / ((to - from) / MINUTE),
    rebufferPct: (100 * stalled) / (played + stalled),
  };
}

describe('daily and weekly shape', () => {
  it('has its audience peak in the evening and more viewers at the weekend', () => {
    const night = measure(TUESDAY + 4 * HOUR, TUESDAY + 5 * HOUR);
    const evening = measure(TUESDAY + 21 * HOUR, TUESDAY + 22 * HOUR);
    const sunday = measure(SUNDAY + 21 * HOUR, SUNDAY + 22 * HOUR);
    expect(evening.viewers).toBeGreaterThan(3 * night.viewers);
    expect(sunday.viewers).toBeGreaterThan(1.25 * evening.viewers);
    expect(sunday.viewers).toBeGreaterThan(0.9 * O.peakViewers);
    expect(sunday.viewers).toBeLessThanOrEqual(O.peakViewers);
  });

  it('rebuffers a little more at peak, and an injected step adds its points on one host', () => {
    const night = measure(TUESDAY + 2 * HOUR, TUESDAY + 6 * HOUR);
    const peak = measure(SUNDAY + 19 * HOUR, SUNDAY + 23 * HOUR);
    // Expected: 0.5 + 1 × share, about 0.7 % at night and 1.4 % at the Sunday peak.
    expect(night.rebufferPct).toBeGreaterThan(0.3);
    expect(night.rebufferPct).toBeLessThan(1.1);
    expect(peak.rebufferPct).toBeGreaterThan(night.rebufferPct + 0.3);
    const step = { 'cdn-b': 5 };
    const hit = measure(SUNDAY + 19 * HOUR, SUNDAY + 21 * HOUR, step, 'cdn-b');
    const spared = measure(SUNDAY + 19 * HOUR, SUNDAY + 21 * HOUR, step, 'cdn-a');
    expect(hit.rebufferPct).toBeGreaterThan(5);
    expect(spared.rebufferPct).toBeLessThan(2.5);
  });

  it('plays well-formed views, and draws the same minute the same way twice', () => {
    const byView = new Map<string, Beacon[]>();
    for (let m = TUESDAY; m < TUESDAY + 24 * HOUR; m += MINUTE)
      for (const b of shapedMinute(O, m)) {
        const id = (b.samples[0] ?? b.events[0])!.viewId;
        byView.set(id, [...(byView.get(id) ?? []), b]);
      }
    expect(byView.size).toBeGreaterThan(100);
    let ended = 0;
    for (const [id, beacons] of byView) {
      const items = beacons
        .flatMap((b) => [...b.samples, ...b.events])
        .sort((a, b) => a.sequenceNumber - b.sequenceNumber);
      const first = beacons[0]!.events[0];
      // Views in progress at midnight started the day before.
      // Sequence numbers run on without a gap from minute to minute: a gap holds the view model's items.
      if (first?.type === 'playrequest')
        expect(
          items.map((i) => i.sequenceNumber),
          id,
        ).toEqual(items.map((_, n) => n));
      for (const b of beacons) for (const s of b.samples) expect(s.viewId).toBe(id);
      const ends = items.filter((i) => 'type' in i && i.type === 'viewend');
      expect(ends.length, id).toBeLessThanOrEqual(1);
      ended += ends.length;
      // Each minute's items are one contiguous run of sequence numbers.
      for (const b of beacons) {
        const seqs = [...b.samples, ...b.events].map((i) => i.sequenceNumber).sort((a, c) => a - c);
        expect(seqs.at(-1)! - seqs[0]!, id).toBe(seqs.length - 1);
      }
    }
    expect(ended).toBeGreaterThan(100);
    const m = SUNDAY + 20 * HOUR + 17 * MINUTE;
    expect(shapedMinute(O, m)).toEqual(shapedMinute(O, m));
  });
});
