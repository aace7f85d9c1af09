/**
 * A destination's durable queue: the records handed over and not yet
 * accepted by the destination, in order. The storage is the embedded bus's
 * segment log (bus/embedded/embedded-log.ts: CRC-framed records, a torn tail
 * cut on open, group commit ending in fdatasync), one log per destination.
 * What a delivery queue needs on top, this adds:
 *
 * - a bound (`maxBytes`) and the outage policy: records that do not fit are
 *   dropped (`drop`) or held in memory, in order, until acknowledgements make
 *   room (`block`); the caller holds its own input meanwhile;
 * - replays are not queued twice: the ids on disk and those offered since are
 *   remembered (the pipeline offers an uncommitted batch again after a crash);
 * - a durable cursor (`cursor`, replaced atomically): records before it were
 *   accepted, and the log deletes its segments behind it;
 * - read-ahead for the delivery loop: the log's consumer hands records (from
 *   memory, or from disk after a restart) to a bounded staging list that the
 *   loop takes its batches from.
 *
 * A record on the log: [u16 BE key length][key][u16 BE id length][id][f64 BE dueAtMs][payload].
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { BusRecord } from '../../bus/bus.js';
import { HEADER_BYTES } from '../../bus/embedded/direct-writer.js';
import { EmbeddedLog } from '../../bus/embedded/embedded-log.js';
import type { QueueRecord } from './destination.js';

export interface DiskQueueOptions {
  maxBytes: number;
  segmentBytes: number;
  /** The staging list stops filling at this many records or payload bytes (the loop's batch size). */
  readAhead: { records: number; bytes: number };
  onError(err: Error, context: string): void;
  /** Records that became durable (offered, or moved in from the held ones). */
  onWritten?(count: number): void;
  /** A queue the previous version left, moved into this one when it opens. */
  previous?: PreviousQueue | undefined;
}

/** A queue the previous version left (previous-queues.ts). */
export interface PreviousQueue {
  /** Records not yet acknowledged, in order; none when there is no such queue. */
  read(): Promise<QueueRecord[]>;
  remove(): Promise<void>;
}

/** A record staged for delivery; `next` is the cursor once it is accepted. */
export interface Staged {
  record: QueueRecord;
  next: number;
}

export interface Admission {
  written: number;
  held: number;
  dropped: number;
  duplicates: number;
  /** Resolves once every record offered (held ones included) is durable; rejects if a write failed. */
  durable: Promise<void>;
}

interface Entry {
  record: QueueRecord;
  head: Buffer;
  /** Bytes on the log, framing included. */
  size: number;
}

const CONSUMER = 'delivery';
const RECENT_IDS = 200_000;
const closedError = () => new Error('the delivery queue is closed');

export class DiskQueue {
  private cursor = 0;
  /** Between the cursor and the end of the log, and being written: counted when admitted, not when durable. */
  private waitingRecords = 0;
  private waitingBytes = 0;
  private held: Entry[] = [];
  /** Settles once the records held now are all durable (or could not be written). */
  private heldWritten: Deferred | undefined;
  private readonly recent = new Set<string>();
  private staged: Staged[] = [];
  private stagedBytes = 0;
  private stageRoom: (() => void) | undefined;
  private roomWaiters: (() => void)[] = [];
  private closed = false;
  /** Told when records were staged (the delivery loop may have a batch). */
  onStaged: () => void = () => {};

  private constructor(
    private readonly dir: string,
    private readonly log: EmbeddedLog,
    private readonly options: DiskQueueOptions,
  ) {}

  static async open(dir: string, options: DiskQueueOptions): Promise<DiskQueue> {
    await mkdir(dir, { recursive: true });
    const log = await EmbeddedLog.open(dir, {
      segmentBytes: options.segmentBytes,
      // The bound is this queue's (it counts what is being written too).
      maxBacklogBytes: Number.MAX_SAFE_INTEGER,
      memoryTailBytes: 8 * 1024 * 1024,
      groupCommitMaxDelayMs: 0,
      fsync: true,
      // No padding to 4 KiB per write: the bound counts bytes, and appends are small.
      directIo: false,
      maxBatchRecords: 1024,
      retainMs: 0,
      onError: options.onError,
    });
    const queue = new DiskQueue(dir, log, options);
    try {
      await queue.load();
    } catch (err) {
      await log.close();
      throw err;
    }
    return queue;
  }

  /** Records waiting (durable or being written), held ones not included. */
  get records(): number {
    return this.waitingRecords;
  }

  /** Bytes on disk waiting for the destination, and those being written. */
  get bytes(): number {
    return this.waitingBytes;
  }

  /** Records wait in memory for room (`block`): the caller should hold its input. */
  get holding(): boolean {
    return this.held.length > 0;
  }

  get stagedCount(): { records: number; bytes: number } {
    return { records: this.staged.length, bytes: this.stagedBytes };
  }

  private async load(): Promise<void> {
    const start = this.log.startPosition;
    const end = this.log.stats().endPosition;
    // No cursor file reads as 0: before `start` unless the log starts at 0, and so `start` either way.
    this.cursor = Number((await readFile(join(this.dir, 'cursor'), 'utf8').catch(() => '')).trim());
    if (!Number.isInteger(this.cursor) || this.cursor < start || this.cursor > end) this.cursor = start;
    await this.log.read(start, end, (batch) => {
      for (const r of batch) {
        this.remember(decodeRecord(r.payload).id);
        if (r.position >= this.cursor) this.waitingRecords++;
      }
    });
    this.waitingBytes = end - this.cursor;
    if (this.options.previous) await this.migrate(this.options.previous);
    this.log.consume(CONSUMER, this.cursor, (batch) => this.take(batch));
  }

  /** Moves what the previous version left queued into this queue (once durable, the old files go). */
  private async migrate(previous: PreviousQueue): Promise<void> {
    const records = await previous.read();
    const fresh = records.filter((r) => !this.recent.has(r.id));
    // The bound does not apply: these were accepted under it before.
    if (fresh.length) await this.write(fresh.map(entryOf));
    await previous.remove();
  }

  private remember(id: string): void {
    this.recent.add(id);
    if (this.recent.size > RECENT_IDS) {
      const oldest = this.recent.values().next();
      if (oldest.done !== true) this.recent.delete(oldest.value);
    }
  }

  /**
   * Admits records now (synchronously): those that fit are written, the rest
   * are dropped (`drop`) or held in order until there is room (`block`).
   * While records are held, everything offered is held behind them. A record
   * larger than the whole bound still goes when nothing else waits (`block`).
   */
  offer(records: readonly QueueRecord[], mode: 'drop' | 'block'): Admission {
    if (this.closed)
      return { written: 0, held: 0, dropped: 0, duplicates: 0, durable: deferred(closedError()).promise };
    const write: Entry[] = [];
    let dropped = 0;
    let duplicates = 0;
    let held = 0;
    let room = this.room();
    let waiting = this.bytes;
    for (const record of records) {
      if (this.recent.has(record.id)) {
        duplicates++;
        continue;
      }
      const e = entryOf(record);
      if (this.held.length === 0 && (e.size <= room || (mode === 'block' && waiting === 0))) {
        write.push(e);
        room -= e.size;
        waiting += e.size;
      } else if (mode === 'drop') dropped++;
      else {
        this.held.push(e);
        this.remember(record.id);
        held++;
      }
    }
    const parts: Promise<void>[] = [];
    if (write.length) parts.push(this.write(write));
    if (this.held.length) {
      this.heldWritten ??= deferred();
      parts.push(this.heldWritten.promise);
    }
    const durable = parts.length <= 1 ? (parts[0] ?? Promise.resolve()) : Promise.all(parts).then(() => {});
    return { written: write.length, held, dropped, duplicates, durable };
  }

  private room(): number {
    return this.options.maxBytes - this.bytes;
  }

  /** Appends entries to the log (one group commit); resolves when all are durable. */
  private write(entries: Entry[]): Promise<void> {
    let bytes = 0;
    const writes = entries.map((e) => {
      this.remember(e.record.id);
      bytes += e.size;
      return this.log.publish(e.record.key, [e.head, e.record.payload], e.record);
    });
    this.waitingBytes += bytes;
    this.waitingRecords += entries.length;
    return Promise.allSettled(writes).then((results) => {
      let failure: unknown;
      let failed = 0;
      results.forEach((r, i) => {
        if (r.status === 'fulfilled') return;
        failure ??= r.reason;
        failed++;
        // Not on disk: it does not wait, and an offer of it again must write it.
        this.waitingBytes -= entries[i]!.size;
        this.waitingRecords--;
        this.recent.delete(entries[i]!.record.id);
      });
      if (failed < entries.length) this.options.onWritten?.(entries.length - failed);
      if (failed) throw failure;
    });
  }

  /** Moves held records to the log as far as there is room, in order. */
  private admitHeld(): void {
    let room = this.room();
    let n = 0;
    while (n < this.held.length && (this.held[n]!.size <= room || (n === 0 && this.bytes === 0))) {
      room -= this.held[n]!.size;
      n++;
    }
    if (n === 0) return;
    const written = this.write(this.held.splice(0, n));
    if (this.held.length > 0) return;
    // The last held records are on their way: their offers settle with this write.
    const waiting = this.heldWritten;
    this.heldWritten = undefined;
    if (waiting) written.then(waiting.resolve, waiting.reject);
    for (const w of this.roomWaiters.splice(0)) w();
  }

  /** Resolves true once nothing is held, or false after `ms`. */
  untilRoom(ms: number): Promise<boolean> {
    if (!this.holding) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.roomWaiters = this.roomWaiters.filter((w) => w !== done);
        resolve(false);
      }, ms);
      this.roomWaiters.push(done);
    });
  }

  /** The log's consumer: stages records for the delivery loop, waiting while the staging list is full. */
  private async take(batch: BusRecord[]): Promise<void> {
    for (const r of batch) {
      const record = (r.value as QueueRecord | undefined) ?? decodeRecord(r.payload);
      this.staged.push({ record, next: r.next });
      this.stagedBytes += record.payload.length;
    }
    this.onStaged();
    const ahead = this.options.readAhead;
    while (!this.closed && (this.staged.length >= ahead.records || this.stagedBytes >= ahead.bytes))
      await new Promise<void>((resolve) => {
        this.stageRoom = resolve;
      });
  }

  /** Up to `maxRecords` staged records from the head, within about `maxBytes` (at least one). */
  peek(maxRecords: number, maxBytes: number): Staged[] {
    let n = 0;
    let bytes = 0;
    while (n < this.staged.length && n < maxRecords) {
      const size = this.staged[n]!.record.payload.length;
      if (n > 0 && bytes + size > maxBytes) break;
      bytes += size;
      n++;
    }
    return this.staged.slice(0, n);
  }

  /** The first `count` staged records were accepted (or set aside): moves the durable cursor past them. */
  async ack(count: number): Promise<void> {
    const done = this.staged.splice(0, count);
    const last = done[done.length - 1];
    if (!last) return;
    for (const s of done) this.stagedBytes -= s.record.payload.length;
    this.waitingRecords -= done.length;
    this.waitingBytes -= last.next - this.cursor;
    this.cursor = last.next;
    const release = this.stageRoom;
    this.stageRoom = undefined;
    release?.();
    try {
      await this.saveCursor(last.next);
    } finally {
      // Only once the cursor is on disk do the segments behind it go (and room appear).
      this.log.ack(CONSUMER, last.next);
      this.admitHeld();
    }
  }

  private async saveCursor(position: number): Promise<void> {
    const tmp = join(this.dir, 'cursor.tmp');
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(String(position));
      await fh.sync();
    } finally {
      await fh.close();
    }
    // A rename lost in a crash only means a resend (same ids) from the older cursor.
    await rename(tmp, join(this.dir, 'cursor'));
  }

  /** Held records are let go (their offers reject): the caller never committed their input. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stageRoom?.();
    this.held = [];
    this.heldWritten?.reject(closedError());
    for (const w of this.roomWaiters.splice(0)) w();
    await this.log.close();
  }
}

function entryOf(record: QueueRecord): Entry {
  const key = Buffer.from(record.key);
  const id = Buffer.from(record.id);
  const head = Buffer.allocUnsafe(2 + key.length + 2 + id.length + 8);
  let o = head.writeUInt16BE(key.length, 0);
  o += key.copy(head, o);
  o = head.writeUInt16BE(id.length, o);
  o += id.copy(head, o);
  head.writeDoubleBE(record.dueAtMs, o);
  return { record, head, size: HEADER_BYTES + head.length + record.payload.length };
}

/** A record from its bytes on the log (the body of a previous DiskQueue entry has the same layout). */
export function decodeRecord(body: Buffer): QueueRecord {
  const keyEnd = 2 + body.readUInt16BE(0);
  const idEnd = keyEnd + 2 + body.readUInt16BE(keyEnd);
  return {
    key: body.toString('utf8', 2, keyEnd),
    id: body.toString('utf8', keyEnd + 2, idEnd),
    dueAtMs: body.readDoubleBE(idEnd),
    payload: body.subarray(idEnd + 8),
  };
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(err: Error): void;
}

/** A promise settled from outside (already rejected with `failed`). */
function deferred(failed?: Error): Deferred {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Whoever offered may have stopped waiting (the pipeline gave up for now): not an unhandled rejection.
  promise.catch(() => {});
  if (failed) reject(failed);
  return { promise, resolve, reject };
}
