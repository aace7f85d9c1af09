/**
 * A bounded on-disk FIFO of payloads for one sink: appended (and fsync'd)
 * before the stream's progress is recorded, removed only once the sink
 * acknowledged them, so neither a sink outage nor a crash loses a payload.
 *
 * Layout: numbered segment files of entries
 * `[u32 length][u32 crc32][u16 key length][key][u16 id length][id][f64 dueAtMs][payload]`
 * plus `cursor.json` (the first unacknowledged entry). A torn entry at the
 * tail (crash mid-write) is cut off on open; it was never fsync'd, so the
 * stream re-emits it. A lost cursor update only causes a resend (same ids).
 */
import { closeSync, fsyncSync, openSync, readdirSync, writeSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

export interface QueueEntry {
  partitionKey: string;
  /** Deterministic id (sinks that de-duplicate use it). */
  id: string;
  /** When the data was due (window end + allowed lateness): the lag is measured from here. */
  dueAtMs: number;
  payload: Buffer;
}

export interface DiskQueueOptions {
  maxBytes: number;
  segmentBytes: number;
}

interface Position {
  segment: number;
  offset: number;
}

const HEADER = 8;

function encodeEntry(e: QueueEntry): Buffer {
  const key = Buffer.from(e.partitionKey);
  const id = Buffer.from(e.id);
  const body = Buffer.alloc(2 + key.length + 2 + id.length + 8 + e.payload.length);
  let o = body.writeUInt16BE(key.length, 0);
  o += key.copy(body, o);
  o = body.writeUInt16BE(id.length, o);
  o += id.copy(body, o);
  o = body.writeDoubleBE(e.dueAtMs, o);
  e.payload.copy(body, o);
  const head = Buffer.alloc(HEADER);
  head.writeUInt32BE(body.length, 0);
  head.writeUInt32BE(crc32(body), 4);
  return Buffer.concat([head, body]);
}

/** Parses whole entries from `buf`; returns them with the bytes they span (a torn tail stops it). */
function decodeEntries(buf: Buffer, max: number): { entries: QueueEntry[]; sizes: number[]; valid: number } {
  const entries: QueueEntry[] = [];
  const sizes: number[] = [];
  let o = 0;
  while (entries.length < max && o + HEADER <= buf.length) {
    const len = buf.readUInt32BE(o);
    const crc = buf.readUInt32BE(o + 4);
    if (len < 12 || o + HEADER + len > buf.length) break;
    const body = buf.subarray(o + HEADER, o + HEADER + len);
    if (crc32(body) !== crc) break;
    let p = 0;
    const kl = body.readUInt16BE(p);
    p += 2;
    const partitionKey = body.toString('utf8', p, p + kl);
    p += kl;
    const il = body.readUInt16BE(p);
    p += 2;
    const id = body.toString('utf8', p, p + il);
    p += il;
    const dueAtMs = body.readDoubleBE(p);
    p += 8;
    entries.push({ partitionKey, id, dueAtMs, payload: Buffer.from(body.subarray(p)) });
    sizes.push(HEADER + len);
    o += HEADER + len;
  }
  return { entries, sizes, valid: o };
}

const segName = (n: number) => `${String(n).padStart(10, '0')}.q`;

export class DiskQueue {
  private head: Position = { segment: 1, offset: 0 };
  private writeSegment = 1;
  private writeOffset = 0;
  /** Bytes on disk not yet acknowledged. */
  private pendingBytes = 0;
  private writeFd: number | undefined;

  private constructor(
    private readonly dir: string,
    private readonly options: DiskQueueOptions,
  ) {}

  static async open(dir: string, options: DiskQueueOptions): Promise<DiskQueue> {
    await mkdir(dir, { recursive: true });
    const q = new DiskQueue(dir, options);
    await q.recover();
    return q;
  }

  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  private async recover(): Promise<void> {
    const segments = (await readdir(this.dir))
      .filter((f) => f.endsWith('.q'))
      .map((f) => Number.parseInt(f, 10))
      .sort((a, b) => a - b);
    try {
      const c = JSON.parse(await readFile(join(this.dir, 'cursor.json'), 'utf8')) as Position;
      this.head = c;
    } catch {
      this.head = { segment: segments[0] ?? 1, offset: 0 };
    }
    if (segments.length === 0) {
      this.writeSegment = this.head.segment;
      this.writeOffset = 0;
      this.head.offset = 0;
      return;
    }
    // Segments before the cursor were acknowledged (their deletion may not have happened).
    for (const s of segments) if (s < this.head.segment) await unlink(join(this.dir, segName(s)));
    const live = segments.filter((s) => s >= this.head.segment);
    if (live.length === 0 || live[0]! > this.head.segment) this.head = { segment: live[0] ?? 1, offset: 0 };
    this.pendingBytes = 0;
    for (const s of live) {
      const path = join(this.dir, segName(s));
      const buf = await readFile(path);
      const { valid } = decodeEntries(buf, Number.POSITIVE_INFINITY);
      if (valid < buf.length) await truncate(path, valid);
      this.pendingBytes += valid - (s === this.head.segment ? Math.min(this.head.offset, valid) : 0);
      this.writeSegment = s;
      this.writeOffset = valid;
    }
  }

  /**
   * Appends and fsyncs the longest prefix of `entries` that fits the size
   * bound (a prefix, so order is kept); the caller decides what to do with
   * the rest.
   */
  append(entries: QueueEntry[]): { accepted: number } {
    let accepted = 0;
    const chunks: Buffer[] = [];
    for (const e of entries) {
      const b = encodeEntry(e);
      if (this.pendingBytes + b.length > this.options.maxBytes) break;
      chunks.push(b);
      this.pendingBytes += b.length;
      accepted++;
    }
    for (const b of chunks) {
      if (this.writeOffset > 0 && this.writeOffset + b.length > this.options.segmentBytes) {
        this.closeWriter();
        this.writeSegment++;
        this.writeOffset = 0;
      }
      this.writeFd ??= openSync(join(this.dir, segName(this.writeSegment)), 'a');
      writeSync(this.writeFd, b);
      this.writeOffset += b.length;
    }
    if (this.writeFd !== undefined && chunks.length) fsyncSync(this.writeFd);
    return { accepted };
  }

  private closeWriter(): void {
    if (this.writeFd !== undefined) closeSync(this.writeFd);
    this.writeFd = undefined;
  }

  /**
   * Up to `max` entries from the head, without removing them; `sizes` are
   * their bytes in the queue (acknowledge a prefix with their sum).
   */
  async peek(
    max: number,
    maxBytes = 8 * 1024 * 1024,
  ): Promise<{ entries: QueueEntry[]; bytes: number; sizes: number[] }> {
    for (;;) {
      if (this.head.segment > this.writeSegment) return { entries: [], bytes: 0, sizes: [] };
      const path = join(this.dir, segName(this.head.segment));
      let size = 0;
      try {
        size = (await stat(path)).size;
      } catch {
        size = 0;
      }
      if (this.head.offset >= size) {
        if (this.head.segment >= this.writeSegment) return { entries: [], bytes: 0, sizes: [] };
        // An exhausted older segment: move on (it is deleted on the next ack).
        this.head = { segment: this.head.segment + 1, offset: 0 };
        continue;
      }
      const fh = await open(path, 'r');
      try {
        const length = Math.min(size - this.head.offset, Math.max(maxBytes, 64 * 1024));
        const buf = Buffer.alloc(length);
        const { bytesRead } = await fh.read(buf, 0, length, this.head.offset);
        let { entries, sizes } = decodeEntries(buf.subarray(0, bytesRead), max);
        if (entries.length === 0 && bytesRead < size - this.head.offset) {
          // One entry larger than the read: read exactly it.
          const whole = Buffer.alloc(HEADER + buf.readUInt32BE(0));
          await fh.read(whole, 0, whole.length, this.head.offset);
          ({ entries, sizes } = decodeEntries(whole, 1));
        }
        return { entries, bytes: sizes.reduce((a, b) => a + b, 0), sizes };
      } finally {
        await fh.close();
      }
    }
  }

  /** Removes `bytes` worth of entries (as returned by peek) from the head and records the cursor. */
  async ack(bytes: number): Promise<void> {
    this.head = { segment: this.head.segment, offset: this.head.offset + bytes };
    const tmp = join(this.dir, 'cursor.json.tmp');
    await writeFile(tmp, JSON.stringify(this.head));
    await rename(tmp, join(this.dir, 'cursor.json'));
    for (const f of readdirSync(this.dir)) {
      const n = Number.parseInt(f, 10);
      if (f.endsWith('.q') && n < this.head.segment) await unlink(join(this.dir, f));
    }
    // Only once the cursor is on disk: whoever sees the queue empty may rely
    // on the delivery being final (and the caller counts it in the same tick).
    this.pendingBytes = Math.max(0, this.pendingBytes - bytes);
  }

  close(): void {
    this.closeWriter();
  }
}
