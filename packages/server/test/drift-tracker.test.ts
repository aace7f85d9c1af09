/**
 * The drift tracker on synthetic packet times, where the expected drift is
 * exact: a 25 fps stream whose packets arrive every 40/r ms carries media
 * at r × real time, so after t ms of wall clock its drift is (1 − r)·t.
 */
import { describe, expect, it } from 'vitest';
import { DriftTracker, statusOf } from '../src/live/drift-tracker.js';

/** Feeds `seconds` of 25 fps video arriving at `rate` × real time; returns the wall time of the last packet. */
function feed(
  t: DriftTracker,
  rate: number,
  seconds: number,
  startWallMs = 1_000_000,
  startMediaMs = 0,
): number {
  const frames = seconds * 25;
  let wall = startWallMs;
  for (let i = 0; i < frames; i++) {
    wall = startWallMs + (i * 40) / rate;
    t.video(wall, startMediaMs + i * 40);
  }
  return wall;
}

describe('drift tracker', () => {
  it('reads no drift from a real-time encoder', () => {
    const t = new DriftTracker(30_000);
    feed(t, 1, 60);
    expect(t.snapshot()).toMatchObject({ driftMs: 0, sessionAvgMs: 0, deviationMs: 0, status: 'excellent' });
  });

  it('measures wall-clock elapsed minus media elapsed for a slow encoder', () => {
    const t = new DriftTracker(30_000);
    // 5 s of media in 10 s: r = 0.5; the last of 125 frames is media 4960 ms at wall 9920 ms.
    feed(t, 0.5, 5);
    const s = t.snapshot()!;
    expect(s.driftMs).toBeCloseTo(9920 - 4960, 6);
    // Drift i·40 at packet i (0…124): mean 40·62 = 2480.
    expect(s.sessionAvgMs).toBeCloseTo(2480, 6);
  });

  it('deviation from the rolling average is slope × window / 2 once the window is full', () => {
    const t = new DriftTracker(10_000);
    // r = 0.75: drift grows 0.25 ms per ms of wall clock.
    feed(t, 0.75, 40);
    const s = t.snapshot()!;
    // Over the last 10 s of wall clock drift rises by 2500 ms: its mean is 1250 below the latest.
    expect(s.deviationMs).toBeGreaterThan(1240);
    expect(s.deviationMs).toBeLessThan(1260);
    expect(s.status).toBe('poor');
    // A real-time encoder after it: the drift stops growing, and the deviation falls back to 0.
    const t2 = new DriftTracker(10_000);
    const end = feed(t2, 0.75, 20);
    feed(t2, 1, 20, end + 40, 20 * 1000 - 40 + 40);
    expect(Math.abs(t2.snapshot()!.deviationMs)).toBeLessThan(1);
    expect(t2.snapshot()!.status).toBe('excellent');
  });

  it('uses the first video packet, not the stream start, as time zero, and ignores decode-time steps back', () => {
    const t = new DriftTracker(30_000);
    // An encoder whose timestamps start at 90 000 (a reconnect keeping its clock).
    feed(t, 1, 10, 5_000, 90_000);
    t.video(5_000 + 10_000, 90_000 + 9_000); // a stray older timestamp
    const s = t.snapshot()!;
    // Media stays at its maximum (90 000 + 9 960); wall elapsed 10 000: drift 40.
    expect(s.driftMs).toBeCloseTo(40, 6);
  });

  it('during the warm-up, moves time zero to absorb a late first packet or a start-up burst', () => {
    const t = new DriftTracker(30_000, 5000);
    // A busy server handles the first 300 ms of a real-time stream late, all at once (packets 0–7
    // at 300 ms), then on time.
    const arrivals = (tr: DriftTracker) => {
      for (let i = 0; i < 250; i++) tr.video(Math.max(1_000_300, 1_000_000 + i * 40), i * 40);
    };
    arrivals(t);
    const s = t.snapshot()!;
    expect(s.driftMs).toBeCloseTo(0, 6);
    // Only the queued packets read as drift: 300, 260, … 20 ms, summing to 1280, over 250 samples.
    expect(s.sessionAvgMs).toBeCloseTo(1280 / 250, 6);
    // Without a warm-up, the late first packet would put every later sample 300 ms ahead.
    const strict = new DriftTracker(30_000, 0);
    arrivals(strict);
    expect(strict.snapshot()!.driftMs).toBeCloseTo(-300, 6);
  });

  it('after the warm-up, time zero is fixed: an encoder running fast shows negative drift', () => {
    const t = new DriftTracker(30_000, 5000);
    const end = feed(t, 1, 10);
    // 2 s of media in 1 s.
    for (let i = 1; i <= 50; i++) t.video(end + i * 20, 9960 + i * 40);
    expect(t.snapshot()!.driftMs).toBeCloseTo(-1000, 6);
  });

  it('keeps millisecond precision over hours at epoch-scale wall clocks', () => {
    const t = new DriftTracker(30_000, 5000);
    feed(t, 0.999, 4 * 3600, Date.now(), 0);
    const s = t.snapshot()!;
    // 4 h of 25 fps at 0.999: drift grows 0.001 ms per ms of wall clock (≈ 1/0.999 − 1 of media).
    const lastMedia = (4 * 3600 * 25 - 1) * 40;
    expect(s.driftMs).toBeCloseTo(lastMedia / 0.999 - lastMedia, 3);
    expect(s.sessionAvgMs).toBeCloseTo((lastMedia / 0.999 - lastMedia) / 2, 3);
  });

  it('has no snapshot before the first packet', () => {
    expect(new DriftTracker(30_000).snapshot()).toBeUndefined();
  });

  it('classifies |deviation| with the reference thresholds', () => {
    expect(statusOf(0)).toBe('excellent');
    expect(statusOf(500)).toBe('excellent');
    expect(statusOf(500.5)).toBe('good');
    expect(statusOf(-700)).toBe('good');
    expect(statusOf(1000)).toBe('good');
    expect(statusOf(1000.5)).toBe('poor');
    expect(statusOf(-5000)).toBe('poor');
  });

  it('stays bounded in memory over a long session', () => {
    const t = new DriftTracker(1000);
    feed(t, 1, 3600);
    const internals = t as unknown as { winWall: number[] };
    expect(internals.winWall.length).toBeLessThan(4096 + 100);
  });
});
