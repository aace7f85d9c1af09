import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoffMs, MAX_BODY_BYTES, type PlayerEvent, Transport } from '../src/index.js';
import { type Recorder, recorder } from './helpers.js';

let rec: Recorder;
const event = (seq: number, detail = ''): PlayerEvent => ({
  viewId: 'view-1',
  sequenceNumber: seq,
  viewerTime: 1_700_000_000_000 + seq,
  state: 'playing',
  type: 'qualitychange',
  playheadMs: seq,
  errorCode: '',
  errorMessage: '',
  errorFatal: false,
  errorBusiness: false,
  videoBitrateBps: 0,
  videoWidth: 0,
  videoHeight: 0,
  detail,
});
const make = (maxQueue = 1000) =>
  new Transport({
    url: 'http://intake/v1/beacon',
    envKey: 'k',
    flushIntervalMs: 1000,
    maxQueue,
    send: rec.send,
    random: () => 0,
  });
const seqs = () => rec.events().map((e) => e.sequenceNumber);

beforeEach(() => {
  vi.useFakeTimers({ now: 1_700_000_000_000 });
  rec = recorder();
});
afterEach(() => {
  vi.useRealTimers();
  expect(rec.invalid).toEqual([]);
});

describe('transport', () => {
  it('backoff doubles from 1 s with jitter in [50 %, 100 %], caps at 64 s, and Retry-After is a floor', () => {
    expect(backoffMs(0, 0)).toBe(500);
    expect(backoffMs(0, 1)).toBe(1000);
    expect(backoffMs(3, 0.5)).toBe(6000);
    expect(backoffMs(20, 1)).toBe(64_000);
    expect(backoffMs(20, 0)).toBe(32_000);
    expect(backoffMs(0, 0, 30)).toBe(30_000);
  });

  it('batches queued items on the flush interval; an urgent item goes at once', async () => {
    const t = make();
    t.push(event(0), false);
    t.push(event(1), false);
    await vi.advanceTimersByTimeAsync(999);
    expect(rec.bodies).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(rec.bodies).toHaveLength(1);
    t.push(event(2), true);
    await vi.advanceTimersByTimeAsync(0);
    expect(rec.bodies).toHaveLength(2);
    expect(seqs()).toEqual([0, 1, 2]);
  });

  it('retries a 5xx and network errors with backoff, resending the same items', async () => {
    const t = make();
    rec.answers.push({ status: 503 }, { status: 500 });
    t.push(event(0), true);
    await vi.advanceTimersByTimeAsync(0);
    expect(rec.bodies).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(499);
    expect(rec.bodies).toHaveLength(1); // 1 s × 2^0 × 0.5 (jitter 0)
    await vi.advanceTimersByTimeAsync(1);
    expect(rec.bodies).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(999);
    expect(rec.bodies).toHaveLength(2); // 1 s × 2^1 × 0.5
    await vi.advanceTimersByTimeAsync(1);
    expect(rec.bodies).toHaveLength(3);
    expect(seqs()).toEqual([0]);
    expect(t.stats).toMatchObject({ beaconsSent: 1, retries: 2, itemsDropped: 0 });
  });

  it('honours 429 Retry-After', async () => {
    const t = make();
    rec.answers.push({ status: 429, retryAfterS: 7 });
    t.push(event(0), true);
    await vi.advanceTimersByTimeAsync(6999);
    expect(rec.bodies).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(rec.bodies).toHaveLength(2);
    expect(seqs()).toEqual([0]);
  });

  it('drops a batch the intake refuses (4xx) instead of retrying it, and goes on', async () => {
    const t = make();
    rec.answers.push({ status: 400 });
    t.push(event(0), true);
    await vi.advanceTimersByTimeAsync(0);
    t.push(event(1), true);
    await vi.advanceTimersByTimeAsync(0);
    expect(rec.bodies).toHaveLength(2);
    expect(seqs()).toEqual([1]);
    expect(t.stats).toMatchObject({ beaconsFailed: 1, itemsDropped: 1, retries: 0 });
  });

  it('gives up on a batch after 5 minutes of failures', async () => {
    const t = make();
    rec.answers.push(...Array.from({ length: 50 }, () => ({ status: 503 })));
    t.push(event(0), true);
    await vi.advanceTimersByTimeAsync(400_000);
    const tries = rec.bodies.length;
    expect(t.stats.beaconsFailed).toBe(1);
    expect(t.stats.itemsDropped).toBe(1);
    await vi.advanceTimersByTimeAsync(400_000);
    expect(rec.bodies.length).toBe(tries);
  });

  it('keeps the queue bounded, dropping the oldest items', async () => {
    const t = make(10);
    rec.answers.push({ status: 503 });
    t.push(event(0), true); // in flight, then waiting for its retry
    for (let i = 1; i <= 15; i++) t.push(event(i), false);
    expect(t.stats.itemsDropped).toBe(5);
    await vi.advanceTimersByTimeAsync(5000);
    expect(seqs()).toEqual([0, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
  });

  it('splits large queues into bodies under 60 KB, every item exactly once and in order', async () => {
    const t = make();
    for (let i = 0; i < 600; i++) t.push(event(i, 'x'.repeat(400)), false);
    await vi.advanceTimersByTimeAsync(5000);
    expect(rec.bodies.length).toBeGreaterThanOrEqual(5);
    for (const b of rec.bodies) expect(b.length).toBeLessThanOrEqual(MAX_BODY_BYTES);
    expect(seqs()).toEqual(Array.from({ length: 600 }, (_, i) => i));
  });

  it('hands a batch waiting for its retry and the queue to sendBeacon on unload', async () => {
    const sent: string[] = [];
    vi.stubGlobal('navigator', { sendBeacon: (_u: string, body: string) => sent.push(body) > 0 });
    try {
      const t = make();
      rec.answers.push({ status: 503 });
      t.push(event(0), true);
      await vi.advanceTimersByTimeAsync(0);
      t.push(event(1), false);
      t.flushUnload();
      expect(sent).toHaveLength(1);
      expect(JSON.parse(sent[0]!).events.map((e: PlayerEvent) => e.sequenceNumber)).toEqual([0, 1]);
      expect(t.queued).toBe(0);
      await vi.advanceTimersByTimeAsync(100_000);
      expect(rec.bodies).toHaveLength(1); // the retry was cancelled: sendBeacon took it
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
