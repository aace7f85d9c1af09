/**
 * The embedded bus: an append-only log of segment files in `{dataDir}/log`.
 *
 * Record on disk: u32 LE payload length, u32 LE CRC-32 of the payload, payload.
 * A segment is named by the global position of its first byte, so positions
 * are plain byte offsets that survive segment rolls and deletions.
 *
 * Group commit: publishes that arrive while a write+fdatasync is running (or
 * within `groupCommitMaxDelayMs` of the first waiting one) share the next one,
 * so throughput grows with load while a lone publish waits one fsync.
 * After a crash the active segment is scanned and cut at the first torn or
 * corrupt record: everything before it was acknowledged, nothing after was.
 *
 * With `directIo` (the default) batches are written with O_DIRECT and each
 * ends with a padding record up to a 4096-byte boundary (direct-writer.ts);
 * the last record of a batch then ends, as a position, after the padding,
 * so positions stay contiguous for consumers. Where the filesystem refuses
 * O_DIRECT the log writes through the page cache, without padding; readers
 * handle both.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, constants, existsSync, openSync, readSync } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import {
  type BatchHandler,
  type Bus,
  BusClosedError,
  BusFullError,
  type BusRecord,
  type BusStats,
  type ConsumerHandle,
} from '../bus.js';
import { ALIGN, DirectWriter, HEADER_BYTES, isValidPad, PAD_MARK } from './direct-writer.js';

const SEGMENT_SUFFIX = '.seg';
/** Reads from disk in large chunks: each consumer batch is one store transaction, and fewer, larger ones cost less per row. */
const READ_CHUNK_BYTES = 16 * 1024 * 1024;
/** A length above this is corruption, not a record (the intake caps bodies far lower). */
const MAX_RECORD_BYTES = 64 * 1024 * 1024;

export interface EmbeddedLogOptions {
  segmentBytes: number;
  maxBacklogBytes: number;
  memoryTailBytes: number;
  groupCommitMaxDelayMs: number;
  fsync: boolean;
  /** Write with O_DIRECT where the filesystem allows it (direct-writer.ts). */
  directIo?: boolean;
  maxBatchRecords: number;
  /**
   * How long a consumed segment is kept after its last write (0: dropped as
   * soon as every consumer is past it). The pipeline rebuilds its in-memory
   * state on start by reading back this much of the log.
   */
  retainMs: number;
  /** Called with each fsync's duration in seconds and the records it committed. */
  onCommit?: (seconds: number, records: number) => void;
  onError?: (err: Error, context: string) => void;
}

interface Pending {
  parts: readonly Buffer[];
  length: number;
  value: unknown;
  resolve: () => void;
  reject: (err: Error) => void;
}

interface Segment {
  base: number;
  path: string;
  /** When the segment received its last write (undefined while it is the active one). */
  sealedAtMs?: number;
}

interface ConsumerState {
  name: string;
  position: number;
  acked: number;
  running: boolean;
  wake: (() => void) | undefined;
  done: Promise<void>;
  waiters: { target: number; resolve: () => void }[];
}

const segmentName = (base: number) => `${String(base).padStart(20, '0')}${SEGMENT_SUFFIX}`;

export class EmbeddedLog implements Bus {
  private segments: Segment[] = [];
  private fh!: FileHandle;
  /** Set while the active segment is open with O_DIRECT. */
  private direct: DirectWriter | undefined;
  /** Kept across segments: its aligned buffer is allocated once. */
  private directWriter: DirectWriter | undefined;
  /** The filesystem refused O_DIRECT once: not asked again. */
  private directRefused = false;
  private activeSize = 0;
  private end = 0;
  private pending: Pending[] = [];
  private flushing = false;
  private flushScheduled = false;
  private closed = false;
  private broken: Error | undefined;
  /** Durable records not yet consumed by every consumer, oldest first, for delivery without a disk read. */
  private tail: TailRecord[] = [];
  private tailHead = 0;
  private tailBytes = 0;
  private readonly consumers = new Map<string, ConsumerState>();

  private constructor(
    private readonly dir: string,
    readonly id: string,
    private readonly options: EmbeddedLogOptions,
  ) {}

  static async open(dir: string, options: EmbeddedLogOptions): Promise<EmbeddedLog> {
    await mkdir(dir, { recursive: true });
    const idFile = join(dir, 'log.id');
    let id: string;
    if (existsSync(idFile)) id = (await readFile(idFile, 'utf8')).trim();
    else {
      id = randomUUID();
      await writeFile(idFile, `${id}\n`, { mode: 0o600 });
    }
    const log = new EmbeddedLog(dir, id, options);
    await log.recover();
    log.startRetentionTimer();
    return log;
  }

  get startPosition(): number {
    return this.segments[0]?.base ?? 0;
  }

  private async recover(): Promise<void> {
    const names = (await readdir(this.dir)).filter((n) => n.endsWith(SEGMENT_SUFFIX)).sort();
    this.segments = [];
    for (const n of names) {
      const path = join(this.dir, n);
      const base = Number(n.slice(0, -SEGMENT_SUFFIX.length));
      this.segments.push({ base, path, sealedAtMs: (await stat(path)).mtimeMs });
    }
    if (this.segments.length === 0) this.segments.push({ base: 0, path: join(this.dir, segmentName(0)) });
    const last = this.segments[this.segments.length - 1]!;
    delete last.sealedAtMs;
    const validBytes = existsSync(last.path) ? await this.scanValidPrefix(last.path) : 0;
    await this.openActive(last.path, !existsSync(last.path));
    const { size } = await this.fh.stat();
    if (size !== validBytes) {
      // A torn or corrupt tail was never acknowledged: cut it so new records follow valid ones.
      await this.fh.truncate(validBytes);
      await this.fh.datasync();
      this.options.onError?.(
        new Error(`cut ${size - validBytes} bytes of unacknowledged tail from ${last.path}`),
        'recover',
      );
    }
    this.activeSize = validBytes;
    this.end = last.base + validBytes;
    // Direct writes start on a boundary; a segment cut mid-batch (or written through the page cache) is
    // left as it is and the next records go to a new one.
    if (this.direct && validBytes % ALIGN !== 0) await this.roll();
  }

  /** Opens the active segment, with O_DIRECT when configured and the filesystem allows it. */
  private async openActive(path: string, create: boolean): Promise<void> {
    const flags = constants.O_RDWR | (create ? constants.O_CREAT | constants.O_TRUNC : 0);
    this.direct = undefined;
    if (this.options.directIo && !this.directRefused) {
      try {
        this.fh = await open(path, flags | constants.O_DIRECT, 0o644);
        this.direct = this.directWriter ??= new DirectWriter();
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
        this.refuseDirect(err as Error);
      }
    }
    this.fh = await open(path, flags, 0o644);
  }

  private refuseDirect(err: Error): void {
    this.directRefused = true;
    this.options.onError?.(
      new Error(`the filesystem refused O_DIRECT (${err.message}); writing through the page cache`),
      'open',
    );
  }

  /** Length of the prefix of a segment made of whole records with matching checksums. */
  private async scanValidPrefix(path: string): Promise<number> {
    const size = (await stat(path)).size;
    const fh = await open(path, 'r');
    try {
      let offset = 0;
      const header = Buffer.alloc(HEADER_BYTES);
      while (offset + HEADER_BYTES <= size) {
        await fh.read(header, 0, HEADER_BYTES, offset);
        const length = header.readUInt32LE(0);
        const sum = header.readUInt32LE(4);
        if (length === PAD_MARK) {
          if (!isValidPad(offset, sum, size)) break;
          offset += sum;
          continue;
        }
        if (length === 0 || length > MAX_RECORD_BYTES || offset + HEADER_BYTES + length > size) break;
        const payload = Buffer.alloc(length);
        await fh.read(payload, 0, length, offset + HEADER_BYTES);
        if (crc32(payload) !== sum) break;
        offset += HEADER_BYTES + length;
      }
      return offset;
    } finally {
      await fh.close();
    }
  }

  publish(_partitionKey: string, parts: readonly Buffer[], value?: unknown): Promise<void> {
    if (this.closed) return Promise.reject(new BusClosedError());
    if (this.broken) return Promise.reject(this.broken);
    const backlog = this.backlogBytes();
    if (backlog > this.options.maxBacklogBytes) return Promise.reject(new BusFullError(backlog));
    let length = 0;
    for (const p of parts) length += p.length;
    // A zero length marks the end of the data on disk.
    if (length === 0) return Promise.reject(new Error('an empty record cannot be published'));
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ parts, length, value, resolve, reject });
      this.scheduleFlush();
    });
  }

  /**
   * `afterFlush`: publishes that arrived during a flush have waited for it already, so they go in the
   * next turn of the event loop rather than after another delay (which left the core idle under load).
   */
  private scheduleFlush(afterFlush = false): void {
    if (this.flushing || this.flushScheduled) return;
    this.flushScheduled = true;
    const delay = afterFlush ? 0 : this.options.groupCommitMaxDelayMs;
    // With no delay, publishes of the same event-loop turn still share one fsync.
    if (delay > 0) setTimeout(() => void this.flush(), delay);
    else setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    this.flushScheduled = false;
    if (this.flushing || this.pending.length === 0) return;
    this.flushing = true;
    const batch = this.pending;
    this.pending = [];
    try {
      if (this.activeSize >= this.options.segmentBytes) await this.roll();
      // Headers and the publishers' own buffers: copied once into the aligned buffer (direct I/O), or written with one pwritev.
      const buffers: Buffer[] = [];
      const headers = Buffer.allocUnsafe(HEADER_BYTES * batch.length);
      let total = 0;
      for (const [i, p] of batch.entries()) {
        const header = headers.subarray(i * HEADER_BYTES, (i + 1) * HEADER_BYTES);
        let sum = 0;
        for (const part of p.parts) sum = crc32(part, sum);
        header.writeUInt32LE(p.length, 0);
        header.writeUInt32LE(sum, 4);
        buffers.push(header, ...p.parts);
        total += HEADER_BYTES + p.length;
      }
      const started = performance.now();
      const written = await this.write(buffers, total);
      if (this.options.fsync) await this.fh.datasync();
      this.options.onCommit?.((performance.now() - started) / 1000, batch.length);
      let position = this.end;
      const { path: segmentPath, base: segmentBase } = this.segments[this.segments.length - 1]!;
      for (const [i, p] of batch.entries()) {
        // The batch's padding belongs to its last record, so the next batch starts at that record's next.
        const next = i === batch.length - 1 ? this.end + written : position + HEADER_BYTES + p.length;
        this.pushTail(
          tailRecord(position, next, p.parts, p.length, p.value, segmentPath, position - segmentBase),
        );
        position = next;
      }
      this.activeSize += written;
      this.end = position;
      for (const p of batch) p.resolve();
      this.wakeConsumers();
    } catch (err) {
      await this.failBatch(batch, err as Error);
    } finally {
      this.flushing = false;
      if (this.pending.length > 0) this.scheduleFlush(true);
    }
  }

  /** Writes a batch at the end of the active segment; returns the bytes written, padding included. */
  private async write(buffers: Buffer[], total: number): Promise<number> {
    if (this.direct) {
      try {
        return await this.direct.writeBatch(this.fh, buffers, total, this.activeSize);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
        // Opened, but a write refused (alignment the device does not take): page cache from now on.
        this.refuseDirect(err as Error);
        await this.fh.close();
        await this.openActive(this.segments[this.segments.length - 1]!.path, false);
        await this.fh.truncate(this.activeSize);
      }
    }
    await this.writeFully(buffers, total, this.activeSize);
    return total;
  }

  private async writeFully(buffers: Buffer[], total: number, at: number): Promise<void> {
    let written = 0;
    let rest = buffers;
    while (written < total) {
      const { bytesWritten } = await this.fh.writev(rest, at + written);
      if (bytesWritten === 0) throw new Error('log write made no progress');
      written += bytesWritten;
      if (written < total) rest = dropBytes(rest, bytesWritten);
    }
  }

  /** A failed write is undone so the log never holds a record nobody was told about. */
  private async failBatch(batch: Pending[], err: Error): Promise<void> {
    this.options.onError?.(err, 'append');
    try {
      await this.fh.truncate(this.activeSize);
    } catch (truncateErr) {
      this.broken = new Error(`log is unusable after a failed write: ${(truncateErr as Error).message}`);
    }
    for (const p of batch) p.reject(err);
  }

  private async roll(): Promise<void> {
    await this.fh.close();
    const active = this.segments[this.segments.length - 1];
    if (active) active.sealedAtMs = Date.now();
    const seg = { base: this.end, path: join(this.dir, segmentName(this.end)) };
    await this.openActive(seg.path, true);
    this.segments.push(seg);
    this.activeSize = 0;
  }

  private pushTail(record: TailRecord): void {
    this.tail.push(record);
    this.tailBytes += record.bytes;
    // Past its bound the memory tail gives up its oldest records; consumers read those from disk.
    while (this.tailBytes > this.options.memoryTailBytes && this.tailHead < this.tail.length)
      this.dropTailHead();
  }

  private dropTailHead(): void {
    const r = this.tail[this.tailHead]!;
    this.tailBytes -= r.bytes;
    this.tail[this.tailHead] = undefined as unknown as TailRecord;
    this.tailHead++;
    if (this.tailHead > 4096 && this.tailHead * 2 > this.tail.length) {
      this.tail = this.tail.slice(this.tailHead);
      this.tailHead = 0;
    }
  }

  private trimTail(): void {
    const min = this.slowest('position');
    while (this.tailHead < this.tail.length && this.tail[this.tailHead]!.next <= min) this.dropTailHead();
  }

  /** The slowest consumer's position or acknowledged position (the end when none runs). */
  private slowest(field: 'position' | 'acked'): number {
    let min = this.end;
    for (const c of this.consumers.values()) min = Math.min(min, c[field]);
    return min;
  }

  backlogBytes(): number {
    return this.consumers.size === 0 ? 0 : this.end - this.slowest('acked');
  }

  private wakeConsumers(): void {
    for (const c of this.consumers.values()) {
      const wake = c.wake;
      c.wake = undefined;
      wake?.();
    }
  }

  consume(name: string, from: number, handler: BatchHandler): ConsumerHandle {
    if (this.consumers.has(name)) throw new Error(`consumer ${name} is already running`);
    let position = from;
    if (position < this.startPosition || position > this.end) {
      this.options.onError?.(
        new Error(
          `consumer ${name}: saved position ${from} is outside the log [${this.startPosition}, ${this.end}]; starting at ${this.startPosition}`,
        ),
        'consume',
      );
      position = this.startPosition;
    }
    const state: ConsumerState = {
      name,
      position,
      acked: position,
      running: true,
      wake: undefined,
      done: Promise.resolve(),
      waiters: [],
    };
    this.consumers.set(name, state);
    state.done = this.runConsumer(state, handler);
    return {
      stop: async () => {
        state.running = false;
        state.wake?.();
        await state.done;
        this.consumers.delete(name);
      },
      caughtUp: () => {
        const target = this.end;
        if (state.position >= target) return Promise.resolve();
        return new Promise<void>((resolve) => state.waiters.push({ target, resolve }));
      },
    };
  }

  private async runConsumer(state: ConsumerState, handler: BatchHandler): Promise<void> {
    let failures = 0;
    while (state.running) {
      if (state.position >= this.end) {
        await new Promise<void>((resolve) => {
          state.wake = resolve;
        });
        continue;
      }
      let step = 'read';
      try {
        const batch = this.takeFromTail(state.position) ?? (await this.readFromDisk(state.position));
        if (batch.length === 0) {
          await sleep(10);
          continue;
        }
        step = 'handler';
        await handler(batch);
        failures = 0;
        state.position = batch[batch.length - 1]!.next;
      } catch (err) {
        // Never skip a record: the same batch is offered again after a pause.
        this.options.onError?.(err as Error, `consumer ${state.name}: ${step}`);
        await sleep(Math.min(5000, 100 * 2 ** failures++));
        continue;
      }
      this.trimTail();
      if (state.waiters.length) {
        state.waiters = state.waiters.filter((w) => {
          if (state.position < w.target) return true;
          w.resolve();
          return false;
        });
      }
    }
  }

  private takeFromTail(position: number): BusRecord[] | undefined {
    const first = this.tail[this.tailHead];
    if (!first || first.position > position) return undefined;
    // Binary search: the consumer is usually at the head, but need not be.
    let lo = this.tailHead;
    let hi = this.tail.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.tail[mid]!.position < position) lo = mid + 1;
      else hi = mid;
    }
    if (this.tail[lo]?.position !== position) return undefined;
    return this.tail.slice(lo, lo + this.options.maxBatchRecords);
  }

  private async readFromDisk(position: number): Promise<BusRecord[]> {
    let index = this.segments.length - 1;
    while (index > 0 && this.segments[index]!.base > position) index--;
    const seg = this.segments[index]!;
    const segEnd = index === this.segments.length - 1 ? this.end : this.segments[index + 1]!.base;
    const want = Math.min(READ_CHUNK_BYTES, segEnd - position);
    const fh = await open(seg.path, 'r');
    try {
      const out: BusRecord[] = [];
      let buf = Buffer.alloc(want);
      const { bytesRead } = await fh.read(buf, 0, want, position - seg.base);
      buf = buf.subarray(0, bytesRead);
      const segBytes = segEnd - seg.base;
      const fileAt = position - seg.base;
      /** Padding at `at` (within `buf`) is added to the record before it; returns its length. */
      const skipPad = (header: Buffer, at: number): number => {
        const pad = header.readUInt32LE(4);
        if (!isValidPad(fileAt + at, pad, segBytes))
          throw new Error(`corrupt padding at position ${position + at} in ${seg.path}`);
        const last = out[out.length - 1];
        if (last) last.next += pad;
        return pad;
      };
      let offset = 0;
      while (offset + HEADER_BYTES <= buf.length && out.length < this.options.maxBatchRecords) {
        const length = buf.readUInt32LE(offset);
        if (length === PAD_MARK) {
          offset += skipPad(buf.subarray(offset, offset + HEADER_BYTES), offset);
          continue;
        }
        const sum = buf.readUInt32LE(offset + 4);
        const start = offset + HEADER_BYTES;
        let payload: Buffer;
        if (start + length <= buf.length) payload = buf.subarray(start, start + length);
        else if (out.length > 0) break;
        else {
          // One record larger than the chunk: read it whole.
          payload = Buffer.alloc(length);
          await fh.read(payload, 0, length, position - seg.base + start);
        }
        if (crc32(payload) !== sum)
          throw new Error(`corrupt record at position ${position + offset} in ${seg.path}`);
        const recPos = position + offset;
        out.push({
          position: recPos,
          next: recPos + HEADER_BYTES + length,
          payload: Buffer.from(payload),
          value: undefined,
        });
        offset = start + length;
      }
      // A batch's padding belongs to its last record: look past the chunk or the batch limit for it, so
      // a consumer's next position is never a padding record.
      const last = out[out.length - 1];
      if (last && last.next === position + offset && fileAt + offset + HEADER_BYTES <= segBytes) {
        let header = buf.subarray(offset, offset + HEADER_BYTES);
        if (header.length < HEADER_BYTES) {
          header = Buffer.alloc(HEADER_BYTES);
          await fh.read(header, 0, HEADER_BYTES, fileAt + offset);
        }
        if (header.readUInt32LE(0) === PAD_MARK) skipPad(header, offset);
      }
      // Only padding was read (a position that pointed at it): go on after it.
      if (out.length === 0 && offset > 0 && position + offset < this.end)
        return this.readFromDisk(position + offset);
      return out;
    } finally {
      await fh.close();
    }
  }

  ack(name: string, position: number): void {
    const c = this.consumers.get(name);
    if (!c || position <= c.acked) return;
    c.acked = position;
    void this.deleteConsumedSegments();
  }

  private deleting = false;
  private deleteAgain = false;

  /** Segments wholly before every consumer's acknowledged position, and past retention, are no longer needed. */
  private async deleteConsumedSegments(): Promise<void> {
    // An ack that lands during a deletion must not be lost: note it and run once more.
    if (this.deleting) {
      this.deleteAgain = true;
      return;
    }
    this.deleting = true;
    try {
      do {
        this.deleteAgain = false;
        const acked = this.slowest('acked');
        const keepAfter = Date.now() - this.options.retainMs;
        while (
          this.segments.length > 1 &&
          this.segments[1]!.base <= acked &&
          (this.segments[0]!.sealedAtMs ?? Number.POSITIVE_INFINITY) <= keepAfter
        ) {
          const seg = this.segments.shift()!;
          await rm(seg.path, { force: true });
        }
      } while (this.deleteAgain);
    } catch (err) {
      this.options.onError?.(err as Error, 'retention');
    } finally {
      this.deleting = false;
    }
  }

  /** Retention by age needs a clock, not only acks: an idle log still drops old segments. */
  private retentionTimer: NodeJS.Timeout | undefined;

  private startRetentionTimer(): void {
    if (this.options.retainMs <= 0) return;
    this.retentionTimer = setInterval(() => void this.deleteConsumedSegments(), 60_000);
    this.retentionTimer.unref();
  }

  async read(
    from: number,
    to: number,
    onBatch: (records: BusRecord[]) => void | Promise<void>,
  ): Promise<void> {
    let position = Math.max(from, this.startPosition);
    const end = Math.min(to, this.end);
    while (position < end) {
      const batch = (await this.readFromDisk(position)).filter((r) => r.position < end);
      if (batch.length === 0) break;
      await onBatch(batch);
      position = batch[batch.length - 1]!.next;
    }
  }

  stats(): BusStats {
    return { endPosition: this.end, backlogBytes: this.backlogBytes(), segments: this.segments.length };
  }

  /** Finishes pending publishes, stops consumers, closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.flushing || this.pending.length > 0 || this.flushScheduled) {
      if (!this.flushing && this.pending.length > 0 && !this.flushScheduled) this.scheduleFlush();
      await sleep(1);
    }
    this.closed = true;
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    for (const c of this.consumers.values()) {
      c.running = false;
      c.wake?.();
    }
    await Promise.all([...this.consumers.values()].map((c) => c.done));
    await this.fh.close();
  }
}

/** A record of the memory tail; its payload is made only if a consumer asks for it. */
type TailRecord = BusRecord & { bytes: number };

/**
 * A record with a decoded value keeps only the value: its consumers use that,
 * and holding the publisher's buffers too kept every beacon's body alive for
 * as long as the pipeline took to commit (up to a second of traffic, in the
 * old generation), which cost a full garbage collection twice a second under
 * load. Its payload, if a consumer asks after all, is read back from the
 * segment it was just written to.
 */
function tailRecord(
  position: number,
  next: number,
  parts: readonly Buffer[],
  bytes: number,
  value: unknown,
  segmentPath: string,
  fileOffset: number,
): TailRecord {
  let payload: Buffer | undefined = parts.length === 1 ? parts[0] : undefined;
  const kept = value === undefined ? parts : undefined;
  if (!kept) payload = undefined;
  return {
    position,
    next,
    bytes,
    value,
    get payload() {
      payload ??= kept ? Buffer.concat(kept, bytes) : readPayloadSync(segmentPath, fileOffset, bytes);
      return payload;
    },
  };
}

/** A record's payload from its segment, for a consumer that asks for the bytes of a record it got from memory. */
function readPayloadSync(path: string, fileOffset: number, bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  const fd = openSync(path, 'r');
  try {
    let done = 0;
    while (done < bytes) {
      const n = readSync(fd, out, done, bytes - done, fileOffset + HEADER_BYTES + done);
      if (n === 0) throw new Error(`log record at ${path}:${fileOffset} is shorter than ${bytes} bytes`);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

/** The buffers left after the first `n` bytes of them were written. */
function dropBytes(buffers: Buffer[], n: number): Buffer[] {
  let i = 0;
  while (i < buffers.length && n >= buffers[i]!.length) n -= buffers[i++]!.length;
  const rest = buffers.slice(i);
  if (n > 0 && rest.length > 0) rest[0] = rest[0]!.subarray(n);
  return rest;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
