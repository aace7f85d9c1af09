import {
  appendFileSync,
  closeSync,
  constants,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  truncateSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { BusRecord } from '../src/bus/bus.js';
import { BusFullError } from '../src/bus/bus.js';
import { EmbeddedLog, type EmbeddedLogOptions } from '../src/bus/embedded/embedded-log.js';
import { removeDir, tempDataDir } from './helpers/server-process.js';

const BASE_OPTIONS: EmbeddedLogOptions = {
  segmentBytes: 64 * 1024,
  maxBacklogBytes: 64 * 1024 * 1024,
  memoryTailBytes: 1024 * 1024,
  groupCommitMaxDelayMs: 0,
  fsync: true,
  maxBatchRecords: 100,
  retainMs: 0,
};

const dirs: string[] = [];
const newDir = () => {
  const d = tempDataDir('openqoe-log-');
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

const payload = (i: number) => [Buffer.from(`record-${i}-`), Buffer.from('x'.repeat(i % 50))];
const text = (r: BusRecord) => r.payload.toString();

/** Collects everything a consumer sees until `count` records arrived. */
async function collect(log: EmbeddedLog, from: number, count: number, name = 'c'): Promise<BusRecord[]> {
  const seen: BusRecord[] = [];
  let done!: () => void;
  const finished = new Promise<void>((r) => {
    done = r;
  });
  const handle = log.consume(name, from, async (batch) => {
    seen.push(...batch);
    if (seen.length >= count) done();
  });
  if (count > 0) await finished;
  await handle.stop();
  return seen;
}

/** Waits for a condition the log reaches in the background (a busy machine can take a while). */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 20));
}

// Every behaviour holds whether the log writes through the page cache or with O_DIRECT.
describe.each([
  { mode: 'page cache', directIo: false },
  { mode: 'O_DIRECT', directIo: true },
])('embedded log ($mode)', ({ directIo }) => {
  const OPTIONS: EmbeddedLogOptions = { ...BASE_OPTIONS, directIo };
  it('delivers published records in order, from memory, with contiguous positions', async () => {
    const log = await EmbeddedLog.open(newDir(), OPTIONS);
    await Promise.all(Array.from({ length: 500 }, (_, i) => log.publish('k', payload(i), { i })));
    const seen = await collect(log, 0, 500);
    expect(seen.map(text)).toEqual(
      Array.from({ length: 500 }, (_, i) => Buffer.concat(payload(i)).toString()),
    );
    expect(seen.every((r, i) => i === 0 || r.position === seen[i - 1]!.next)).toBe(true);
    expect(seen[0]!.value).toEqual({ i: 0 });
    await log.close();
  });

  it('rolls segments and replays everything from disk after reopening', async () => {
    const dir = newDir();
    const log = await EmbeddedLog.open(dir, OPTIONS);
    for (let i = 0; i < 3000; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => log.publish('k', payload(i + j))));
    }
    expect(log.stats().segments).toBeGreaterThan(1);
    await log.close();

    const reopened = await EmbeddedLog.open(dir, OPTIONS);
    expect(reopened.id).toBe(log.id);
    const seen = await collect(reopened, 0, 3000);
    expect(seen).toHaveLength(3000);
    expect(seen.every((r) => r.value === undefined)).toBe(true);
    expect(seen.map(text)).toEqual(
      Array.from({ length: 3000 }, (_, i) => Buffer.concat(payload(i)).toString()),
    );
    await reopened.close();
  });

  it('resumes a consumer from a saved position without repeating records', async () => {
    const dir = newDir();
    const log = await EmbeddedLog.open(dir, OPTIONS);
    await Promise.all(Array.from({ length: 20 }, (_, i) => log.publish('k', payload(i))));
    const first = await collect(log, 0, 20);
    const resumeAt = first[9]!.next;
    await Promise.all(Array.from({ length: 5 }, (_, i) => log.publish('k', payload(20 + i))));
    await log.close();
    const reopened = await EmbeddedLog.open(dir, OPTIONS);
    const rest = await collect(reopened, resumeAt, 15);
    expect(rest.map(text)).toEqual(
      Array.from({ length: 15 }, (_, i) => Buffer.concat(payload(10 + i)).toString()),
    );
    await reopened.close();
  });

  it('cuts a torn tail on open and keeps every whole record before it', async () => {
    const dir = newDir();
    const log = await EmbeddedLog.open(dir, OPTIONS);
    await Promise.all(Array.from({ length: 10 }, (_, i) => log.publish('k', payload(i))));
    await log.close();
    const seg = join(
      dir,
      readdirSync(dir)
        .filter((n) => n.endsWith('.seg'))
        .sort()
        .pop()!,
    );
    const whole = statSync(seg).size;
    // A crash mid-write: half a header and garbage after the last record.
    appendFileSync(seg, Buffer.from([0xff, 0x00, 0x00]));
    const reopened = await EmbeddedLog.open(dir, OPTIONS);
    expect(statSync(seg).size).toBe(whole);
    await reopened.publish('k', [Buffer.from('after-crash')]);
    const seen = await collect(reopened, 0, 11);
    expect(seen.map(text).at(-1)).toBe('after-crash');
    expect(seen).toHaveLength(11);
    await reopened.close();
  });

  it('cuts a record whose checksum does not match', async () => {
    const dir = newDir();
    const log = await EmbeddedLog.open(dir, OPTIONS);
    await Promise.all(Array.from({ length: 5 }, (_, i) => log.publish('k', payload(i))));
    const written = await collect(log, 0, 5);
    await log.close();
    const seg = join(
      dir,
      readdirSync(dir)
        .filter((n) => n.endsWith('.seg'))
        .sort()
        .pop()!,
    );
    // Cut the file inside the last record's payload: it is incomplete.
    truncateSync(seg, written[4]!.position + 8 + 3);
    const reopened = await EmbeddedLog.open(dir, OPTIONS);
    const seen = await collect(reopened, 0, 4);
    expect(seen).toHaveLength(4);
    expect(reopened.stats().endPosition).toBe(seen[3]!.next);
    await reopened.close();
  });

  it('deletes segments every consumer has acknowledged, never the active one', async () => {
    const dir = newDir();
    const log = await EmbeddedLog.open(dir, OPTIONS);
    for (let i = 0; i < 500; i += 100) {
      await Promise.all(Array.from({ length: 100 }, () => log.publish('k', [Buffer.alloc(1024, 7)])));
    }
    const before = log.stats().segments;
    let last = 0;
    const handle = log.consume('c', 0, async (batch) => {
      last = batch.at(-1)!.next;
      log.ack('c', last);
    });
    await handle.caughtUp();
    // Deletion runs in the background after the ack.
    await until(() => log.stats().segments === 1);
    expect(before).toBeGreaterThan(2);
    expect(log.stats().segments).toBe(1);
    expect(log.startPosition).toBeLessThanOrEqual(last);
    await handle.stop();
    await log.close();
  });

  it('keeps acknowledged segments for retainMs and reads them back without a consumer', async () => {
    const dir = newDir();
    const log = await EmbeddedLog.open(dir, { ...OPTIONS, retainMs: 60 * 60_000 });
    // 300 records of 1 KB: several 64 KB segments.
    for (let i = 0; i < 300; i++)
      await log.publish('k', [Buffer.from(`record-${i}-`), Buffer.alloc(1024, 120)]);
    const handle = log.consume('c', 0, async (batch) => log.ack('c', batch.at(-1)!.next));
    await handle.caughtUp();
    await handle.stop();
    await new Promise((r) => setTimeout(r, 50));
    // Everything is acknowledged, but nothing is an hour old: every segment stays.
    expect(log.stats().segments).toBeGreaterThan(2);
    expect(log.startPosition).toBe(0);
    const all = await collect(log, 0, 300, 'all');
    const from = all[100]!.position;
    const to = all[200]!.position;
    const read: string[] = [];
    await log.read(from, to, (batch) => {
      read.push(...batch.map(text));
    });
    expect(read).toEqual(all.slice(100, 200).map(text));
    expect(read[0]).toBe(`record-100-${'x'.repeat(1024)}`);
    await log.close();

    // Reopened, the segments are as old as their files: back-dated past retention, they go on the next ack.
    const old = new Date(Date.now() - 2 * 60 * 60_000);
    for (const n of readdirSync(dir)) if (n.endsWith('.seg')) utimesSync(join(dir, n), old, old);
    const reopened = await EmbeddedLog.open(dir, { ...OPTIONS, retainMs: 60 * 60_000 });
    const again = reopened.consume('c', 0, async (batch) => reopened.ack('c', batch.at(-1)!.next));
    await again.caughtUp();
    await until(() => reopened.stats().segments === 1);
    expect(reopened.stats().segments).toBe(1);
    await again.stop();
    await reopened.close();
  });

  it('refuses publishes once the backlog is over its bound', async () => {
    const log = await EmbeddedLog.open(newDir(), { ...OPTIONS, maxBacklogBytes: 1024 * 1024 });
    // A consumer that never acknowledges holds the backlog.
    const handle = log.consume('slow', 0, async () => {});
    const big = [Buffer.alloc(300 * 1024, 1)];
    for (let i = 0; i < 4; i++) await log.publish('k', big);
    await expect(log.publish('k', big)).rejects.toBeInstanceOf(BusFullError);
    await handle.stop();
    await log.close();
  });

  it('offers a failed batch again instead of skipping it', async () => {
    const log = await EmbeddedLog.open(newDir(), OPTIONS);
    await Promise.all(Array.from({ length: 3 }, (_, i) => log.publish('k', payload(i))));
    let attempts = 0;
    const seen: string[] = [];
    const handle = log.consume('c', 0, async (batch) => {
      attempts++;
      if (attempts === 1) throw new Error('store down');
      seen.push(...batch.map(text));
    });
    await handle.caughtUp();
    await handle.stop();
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(seen).toEqual([0, 1, 2].map((i) => Buffer.concat(payload(i)).toString()));
    await log.close();
  });
});

/** The open flags of this process's descriptors for `path`, from /proc (the kernel's own view). */
function openFlags(path: string): number[] {
  const flags: number[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    let target = '';
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    if (target !== path) continue;
    const m = /^flags:\s+([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    if (m) flags.push(Number.parseInt(m[1]!, 8));
  }
  return flags;
}

const segmentsOf = (dir: string) =>
  readdirSync(dir)
    .filter((n) => n.endsWith('.seg'))
    .sort()
    .map((n) => join(dir, n));

describe('embedded log with O_DIRECT', () => {
  const OPTIONS: EmbeddedLogOptions = { ...BASE_OPTIONS, segmentBytes: 1024 * 1024, directIo: true };

  it('writes the active segment with O_DIRECT, each batch padded to a 4096-byte boundary', async () => {
    const dir = newDir();
    const log = await EmbeddedLog.open(dir, OPTIONS);
    const seg = segmentsOf(dir)[0]!;
    expect(openFlags(seg).some((f) => (f & constants.O_DIRECT) !== 0)).toBe(true);
    // Batches of 1, 7 and 30 records of odd sizes.
    let n = 0;
    for (const size of [1, 7, 30]) {
      await Promise.all(Array.from({ length: size }, () => log.publish('k', payload(n++))));
      expect(statSync(seg).size % 4096).toBe(0);
    }
    const fromMemory = await collect(log, 0, n);
    // The padding belongs to the last record of each batch: positions stay contiguous, and the end is the file's.
    expect(fromMemory.every((r, i) => i === 0 || r.position === fromMemory[i - 1]!.next)).toBe(true);
    expect(fromMemory.at(-1)!.next).toBe(statSync(seg).size);
    await log.close();

    // Read back from disk, one record per batch, so padding is found past the chunk each time.
    const reopened = await EmbeddedLog.open(dir, { ...OPTIONS, maxBatchRecords: 1 });
    const fromDisk = await collect(reopened, 0, n);
    expect(fromDisk.map((r) => [r.position, r.next, text(r)])).toEqual(
      fromMemory.map((r) => [r.position, r.next, text(r)]),
    );
    await reopened.close();
  });

  it('starts a new segment when a crash cut a batch in the middle', async () => {
    const dir = newDir();
    const log = await EmbeddedLog.open(dir, OPTIONS);
    await Promise.all(Array.from({ length: 5 }, (_, i) => log.publish('k', payload(i))));
    const written = await collect(log, 0, 5);
    await log.close();
    // A torn write: the third record is incomplete, the rest never reached the disk.
    truncateSync(segmentsOf(dir)[0]!, written[2]!.position + 8 + 2);

    const reopened = await EmbeddedLog.open(dir, OPTIONS);
    // Direct writes start on a boundary, so the cut segment is left and a new one begun.
    expect(segmentsOf(dir)).toHaveLength(2);
    expect(reopened.stats().endPosition).toBe(written[1]!.next);
    await reopened.publish('k', [Buffer.from('after-crash')]);
    const seen = await collect(reopened, 0, 3);
    expect(seen.map(text)).toEqual([
      Buffer.concat(payload(0)).toString(),
      Buffer.concat(payload(1)).toString(),
      'after-crash',
    ]);
    expect(seen[2]!.position).toBe(written[1]!.next);
    await reopened.close();
  });

  it('stops at padding that does not end on a boundary, as at any corrupt record', async () => {
    const dir = newDir();
    const log = await EmbeddedLog.open(dir, OPTIONS);
    await log.publish('k', payload(1));
    const [first] = await collect(log, 0, 1);
    await log.publish('k', payload(2));
    await log.close();
    // Corrupt the length of the first batch's padding: the second batch is after it and must be cut too.
    const seg = segmentsOf(dir)[0]!;
    const fd = openSync(seg, 'r+');
    const padAt = first!.position + 8 + Buffer.concat(payload(1)).length;
    const bad = Buffer.alloc(4);
    bad.writeUInt32LE(100);
    writeSync(fd, bad, 0, 4, padAt + 4);
    closeSync(fd);

    const reopened = await EmbeddedLog.open(dir, OPTIONS);
    expect(reopened.stats().endPosition).toBe(padAt);
    const seen = await collect(reopened, 0, 1);
    expect(seen.map(text)).toEqual([Buffer.concat(payload(1)).toString()]);
    await reopened.close();
  });
});
