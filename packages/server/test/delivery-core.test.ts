/**
 * The delivery core on a real file system (replaces the tests of the
 * monitoring sinks' DiskQueue and the connectors' DiskBuffer, which it
 * replaced). The queue: bounded (drop, or hold in order when full),
 * durable across reopen, a torn last write cut off, replayed ids not queued
 * twice, segments behind the cursor deleted. The loop, against an in-memory
 * destination the test scripts: batches within the limits and in order, a
 * refused batch split down to its one bad record, only the failed records of
 * a partial answer resent, Retry-After honoured, records too large dropped.
 * And the retry timing helpers.
 */
import { appendFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backoffMs, Delivery, type DeliveryCounters } from '../src/outputs/delivery/delivery.js';
import type { Destination, QueueRecord, SendOutcome } from '../src/outputs/delivery/destination.js';
import { DiskQueue, type Staged } from '../src/outputs/delivery/disk-queue.js';
import { parseRetryAfter } from '../src/outputs/delivery/http-transport.js';
import { removeDir, tempDataDir, waitFor } from './helpers/server-process.js';

const root = tempDataDir('openqoe-delivery-');
afterAll(() => removeDir(root));

let n = 0;
const dir = () => join(root, `q${n++}`);
/**
 * A record of exactly `size` bytes on the log: 8 of framing, 2 + 2 + 8 of
 * key length, id length and due time, the id, the payload.
 */
const rec = (id: string, size = 100): QueueRecord => ({
  id,
  key: '',
  dueAtMs: 0,
  payload: Buffer.alloc(size - 20 - id.length, id.charCodeAt(id.length - 1)),
});
const ids = (staged: Staged[]) => staged.map((s) => s.record.id);
const quiet = { info() {}, warn() {}, error() {} };

function openQueue(d: string, maxBytes = 10_000, segmentBytes = 10_000): Promise<DiskQueue> {
  return DiskQueue.open(d, {
    maxBytes,
    segmentBytes,
    readAhead: { records: 1000, bytes: 1 << 20 },
    onError: () => {},
  });
}

/** Waits until the queue's consumer staged `count` records, and returns them. */
async function staged(q: DiskQueue, count: number): Promise<Staged[]> {
  await waitFor(async () => q.stagedCount.records >= count, `${count} records staged`, 5000);
  return q.peek(1000, 1 << 30);
}

describe('delivery queue', () => {
  it('keeps what fits and drops the rest when full (drop)', async () => {
    const q = await openQueue(dir(), 1000);
    const a = q.offer(
      Array.from({ length: 15 }, (_, i) => rec(`id-${String(i).padStart(2, '0')}`)),
      'drop',
    );
    expect([a.written, a.dropped, a.held]).toEqual([10, 5, 0]);
    await a.durable;
    expect(q.bytes).toBe(1000);
    expect(q.records).toBe(10);
    await q.close();
  });

  it('holds what does not fit, in order, until acknowledgements make room (block); an offer again is skipped', async () => {
    const q = await openQueue(dir(), 1000);
    await q.offer(
      Array.from({ length: 9 }, (_, i) => rec(`a${i}`)),
      'block',
    ).durable;
    const first = q.offer([rec('b0'), rec('b1'), rec('b2')], 'block');
    expect([first.written, first.held]).toEqual([1, 2]);
    expect(q.holding).toBe(true);
    let written = false;
    void first.durable.then(() => {
      written = true;
    });
    // Offered again (the pipeline retries its batch): nothing is queued twice.
    const again = q.offer([rec('b0'), rec('b1'), rec('b2')], 'block');
    expect([again.written, again.held, again.duplicates]).toEqual([0, 0, 3]);
    expect(await q.untilRoom(50)).toBe(false);
    expect(written).toBe(false);
    // The destination took two: the held ones go to disk, behind the others.
    expect(ids(await staged(q, 10))).toEqual([...Array.from({ length: 9 }, (_, i) => `a${i}`), 'b0']);
    await q.ack(2);
    expect(await q.untilRoom(5000)).toBe(true);
    await Promise.all([first.durable, again.durable]);
    expect(q.records).toBe(10);
    expect(ids(await staged(q, 10))).toEqual([
      ...Array.from({ length: 7 }, (_, i) => `a${i + 2}`),
      'b0',
      'b1',
      'b2',
    ]);
    await q.close();
  });

  it('reads in order across segments, survives reopen, resumes from the durable cursor and deletes what is behind it', async () => {
    const d = dir();
    let q = await openQueue(d, 10_000, 250);
    // A commit goes to the active segment; the next one rolls to a new segment once it is full.
    await q.offer(
      Array.from({ length: 10 }, (_, i) => rec(`r${i}`)),
      'drop',
    ).durable;
    await q.offer([rec('r10'), rec('r11'), rec('r12')], 'drop').durable;
    await q.offer([rec('r13')], 'drop').durable;
    const segments = () => readdirSync(d).filter((f) => f.endsWith('.seg'));
    expect(segments()).toHaveLength(3);
    expect(ids(await staged(q, 14)).slice(0, 3)).toEqual(['r0', 'r1', 'r2']);
    await q.ack(3);
    await q.close();

    q = await openQueue(d, 10_000, 250);
    expect(q.records).toBe(11);
    const rest = await staged(q, 11);
    expect(ids(rest)).toEqual(Array.from({ length: 11 }, (_, i) => `r${i + 3}`));
    expect(rest[0]!.record.payload.equals(rec('r3').payload)).toBe(true);
    // A replay of ids still on disk is not queued again.
    const replay = q.offer([rec('r5'), rec('r14')], 'drop');
    expect([replay.written, replay.duplicates]).toEqual([1, 1]);
    await replay.durable;
    // Everything up to r13 accepted: the segments wholly behind the cursor are deleted (r13 and r14 share the last).
    await q.ack(11);
    await waitFor(async () => segments().length === 1, 'the acknowledged segments to go', 5000);
    expect(q.records).toBe(1);
    await q.close();
  });

  it('cuts a torn last write on open (it was never acknowledged)', async () => {
    const d = dir();
    let q = await openQueue(d);
    await q.offer([rec('ok1'), rec('ok2')], 'drop').durable;
    await q.close();
    const seg = readdirSync(d).find((f) => f.endsWith('.seg'))!;
    const whole = statSync(join(d, seg)).size;
    // A crash in the middle of a write: a header promising more bytes than follow.
    appendFileSync(join(d, seg), Buffer.from([0, 1, 0, 0, 1, 2, 3, 4, 5]));
    q = await openQueue(d);
    expect(statSync(join(d, seg)).size).toBe(whole);
    expect(q.records).toBe(2);
    await q.offer([rec('ok3')], 'drop').durable;
    expect(ids(await staged(q, 3))).toEqual(['ok1', 'ok2', 'ok3']);
    await q.close();
  });

  it('lets a record larger than the whole bound through alone when nothing waits (block), drops it (drop)', async () => {
    const q = await openQueue(dir(), 1000);
    expect(q.offer([rec('huge', 2000)], 'drop').dropped).toBe(1);
    const alone = q.offer([rec('huge', 2000), rec('next')], 'block');
    expect([alone.written, alone.held]).toEqual([1, 1]);
    expect(ids(await staged(q, 1))).toEqual(['huge']);
    await q.ack(1);
    await alone.durable;
    expect(ids(await staged(q, 1))).toEqual(['next']);
    await q.close();
  });
});

/** Counters the test reads. */
function recordingCounters() {
  const c = {
    queued: 0,
    sent: [] as string[],
    retried: [] as string[],
    refused: [] as string[],
    dropped: [] as string[],
  };
  const counters: DeliveryCounters = {
    queued: (k) => {
      c.queued += k;
    },
    dropped: (k, reason) => c.dropped.push(...Array(k).fill(reason)),
    sent: (records) => c.sent.push(...records.map((r) => r.id)),
    retried: (reason) => c.retried.push(reason),
    refused: (r) => c.refused.push(r.id),
    buffered: () => {},
  };
  return { c, counters };
}

/** A destination whose answer to each send the test decides; it records every batch. */
function scripted(answer: (batch: string[], call: number) => SendOutcome) {
  const calls: string[][] = [];
  const destination: Destination = {
    async send(batch) {
      const names = batch.map((r) => r.id);
      calls.push(names);
      return answer(names, calls.length - 1);
    },
  };
  return { calls, destination };
}

async function openDelivery(
  destination: Destination,
  counters: DeliveryCounters,
  over: Partial<Parameters<typeof Delivery.open>[1]> = {},
) {
  return Delivery.open(destination, {
    label: 'test',
    nouns: ['record', 'records'],
    dir: dir(),
    bufferMaxBytes: 1 << 20,
    whenFull: 'block',
    retry: { initialBackoffMs: 5, maxBackoffMs: 20 },
    limits: { maxEvents: 4, maxBytes: 1 << 20, maxRecordBytes: 1000 },
    maxDelayMs: 0,
    counters,
    log: quiet,
    ...over,
  });
}

const names = (k: number, prefix = 'e') =>
  Array.from({ length: k }, (_, i) => `${prefix}${String(i).padStart(2, '0')}`);

describe('delivery loop', () => {
  it('sends batches within the limits, in order, one at a time', async () => {
    const { c, counters } = recordingCounters();
    const { calls, destination } = scripted(() => ({ ok: true }));
    const d = await openDelivery(destination, counters);
    await d.offer(names(10).map((id) => rec(id)));
    await waitFor(async () => d.queue.records === 0, 'the queue to drain', 5000);
    expect(calls.every((b) => b.length <= 4)).toBe(true);
    expect(calls.flat()).toEqual(names(10));
    expect(c.sent).toEqual(names(10));
    expect(c.queued).toBe(10);
    await d.close();
  });

  it('keeps a batch that waits for its delay across a close, and sends it after the next open', async () => {
    const { counters } = recordingCounters();
    const { calls, destination } = scripted(() => ({ ok: true }));
    const queueDir = dir();
    let d = await openDelivery(destination, counters, { dir: queueDir, maxDelayMs: 3_600_000 });
    await d.offer(names(6).map((id) => rec(id)));
    // One full batch goes at once; the two left wait for more (or for an hour).
    await waitFor(async () => d.queue.records === 2, 'the full batch', 5000);
    await d.close();
    expect(calls).toEqual([names(4)]);
    d = await openDelivery(destination, counters, { dir: queueDir, maxDelayMs: 3_600_000 });
    // From before a restart: sent at once.
    await waitFor(async () => d.queue.records === 0, 'the rest', 5000);
    expect(calls).toEqual([names(4), names(6).slice(4)]);
    await d.close();
  });

  it('splits a refused batch down to its one bad record, lets that go (counted) and delivers the rest in order', async () => {
    const { c, counters } = recordingCounters();
    const { destination } = scripted((batch) =>
      batch.includes('e05')
        ? { ok: false, kind: 'reject', reason: '400', message: 'HTTP 400' }
        : { ok: true },
    );
    const d = await openDelivery(destination, counters, {
      limits: { maxEvents: 8, maxBytes: 1 << 20, maxRecordBytes: 1000 },
    });
    await d.offer(names(8).map((id) => rec(id)));
    await waitFor(async () => d.queue.records === 0, 'the queue to drain', 5000);
    expect(c.sent).toEqual(names(8).filter((id) => id !== 'e05'));
    expect(c.refused).toEqual(['e05']);
    expect(c.retried).toEqual([]);
    await d.close();
  });

  it('resends only the records a partial answer failed', async () => {
    const { c, counters } = recordingCounters();
    const { calls, destination } = scripted((_, call) =>
      call === 0 ? { ok: false, kind: 'partial', failed: [1, 3], message: '2 of 4 failed' } : { ok: true },
    );
    const d = await openDelivery(destination, counters);
    await d.offer(names(4).map((id) => rec(id)));
    await waitFor(async () => d.queue.records === 0, 'the queue to drain', 5000);
    expect(calls).toEqual([names(4), ['e01', 'e03']]);
    expect(c.sent.sort()).toEqual(names(4));
    expect(c.retried).toEqual(['partial']);
    await d.close();
  });

  it('waits what Retry-After says rather than its own backoff', async () => {
    const { c, counters } = recordingCounters();
    const { calls, destination } = scripted((_, call) =>
      call === 0
        ? { ok: false, kind: 'retry', reason: '429', message: 'HTTP 429', retryAfterMs: 10 }
        : { ok: true },
    );
    // Its own backoff would be an hour: the retry can only come from Retry-After.
    const d = await openDelivery(destination, counters, {
      retry: { initialBackoffMs: 3_600_000, maxBackoffMs: 3_600_000 },
    });
    await d.offer([rec('e00')]);
    await waitFor(async () => d.queue.records === 0, 'the retry', 5000);
    expect(calls).toEqual([['e00'], ['e00']]);
    expect(c.retried).toEqual(['429']);
    await d.close();
  });

  it('drops a record larger than the destination takes, counted, and queues the others', async () => {
    const { c, counters } = recordingCounters();
    const { destination } = scripted(() => ({ ok: true }));
    const d = await openDelivery(destination, counters);
    await d.offer([rec('small'), rec('big', 2000), rec('small2')]);
    await waitFor(async () => d.queue.records === 0, 'the queue to drain', 5000);
    expect(c.dropped).toEqual(['too_large']);
    expect(c.sent).toEqual(['small', 'small2']);
    await d.close();
  });
});

describe('retry timing', () => {
  it('backs off exponentially between half and all of the ceiling, capped', () => {
    const policy = { initialBackoffMs: 100, maxBackoffMs: 1000 };
    expect(backoffMs(0, policy, () => 0)).toBe(50);
    expect(backoffMs(0, policy, () => 1)).toBe(100);
    expect(backoffMs(2, policy, () => 0.5)).toBe(300); // ceiling 400
    expect(backoffMs(10, policy, () => 1)).toBe(1000);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:05 GMT', Date.UTC(2015, 9, 21, 7, 28, 0))).toBe(5000);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});
