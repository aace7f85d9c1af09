/**
 * A connector's bounded on-disk buffer: what the pipeline handed over and the
 * destination has not yet accepted. The pipeline commits its bus position
 * only after `append` resolved (write + fdatasync), and the delivery loop
 * moves the durable cursor only after the destination accepted a batch, so
 * neither a SIGKILL nor an outage of the destination loses an event.
 *
 * Layout in `dir`: segment files `{20-digit start position}.seg` holding one
 * record per line (`{id}\t{json}\n`), and `cursor` (the position up to which
 * everything was delivered, replaced atomically). Positions are global byte
 * offsets, as in the embedded log, so they survive segment rolls. Segments
 * wholly behind the cursor are deleted.
 *
 * Replays: after a crash the pipeline offers the same batch again. Ids of the
 * records still on disk (and the latest ones appended) are remembered, so a
 * replayed record is not buffered twice.
 */
import { closeSync, fsyncSync, openSync } from 'node:fs';
import {
  type FileHandle,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';

export interface DiskBufferOptions {
  dir: string;
  maxBytes: number;
  segmentBytes: number;
  /** Ids remembered for de-duplicating replays. */
  recentIds?: number;
}

export interface BufferRecord {
  id: string;
  text: string;
}

export interface ReadResult {
  records: BufferRecord[];
  /** Position after the last record returned. */
  end: number;
  bytes: number;
}

export interface AppendResult {
  appended: number;
  /** Records refused because the buffer was full. */
  full: number;
  duplicates: number;
}

interface Segment {
  start: number;
  size: number;
}

const SEGMENT_RE = /^(\d{20})\.seg$/;
const NEWLINE = 0x0a;
const TAB = 0x09;

export class BufferFullError extends Error {}

export class DiskBuffer {
  private segments: Segment[] = [];
  private writer: FileHandle | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly recent = new Set<string>();
  private roomWaiters: (() => void)[] = [];
  private readonly recentMax: number;
  /** Everything before it was accepted by the destination. */
  cursor = 0;
  /** Everything before it is durable (fsync'd). */
  end = 0;
  /** Records between the cursor and the end. */
  records = 0;
  /** When the oldest record not yet handed to the delivery loop was appended. */
  oldestAppendMs: number | undefined;

  private constructor(private readonly options: DiskBufferOptions) {
    this.recentMax = options.recentIds ?? 200_000;
  }

  static async open(options: DiskBufferOptions): Promise<DiskBuffer> {
    const buffer = new DiskBuffer(options);
    await buffer.load();
    return buffer;
  }

  get bytes(): number {
    return this.end - this.cursor;
  }

  private segmentPath(start: number): string {
    return join(this.options.dir, `${String(start).padStart(20, '0')}.seg`);
  }

  private async load(): Promise<void> {
    const dir = this.options.dir;
    await mkdir(dir, { recursive: true });
    for (const name of (await readdir(dir)).sort()) {
      const m = SEGMENT_RE.exec(name);
      if (!m) continue;
      const start = Number(m[1]);
      this.segments.push({ start, size: (await stat(join(dir, name))).size });
    }
    try {
      this.cursor = Number((await readFile(join(dir, 'cursor'), 'utf8')).trim()) || 0;
    } catch {
      this.cursor = 0;
    }
    const last = this.segments[this.segments.length - 1];
    if (last) {
      // A write cut by a crash was never acknowledged: cut the file after its last whole record.
      const data = await readFile(this.segmentPath(last.start));
      const whole = data.lastIndexOf(NEWLINE) + 1;
      if (whole < data.length) {
        const fh = await open(this.segmentPath(last.start), 'r+');
        await fh.truncate(whole);
        await fh.sync();
        await fh.close();
        last.size = whole;
      }
    }
    if (this.segments.length === 0) this.segments.push({ start: this.cursor, size: 0 });
    const tail = this.segments[this.segments.length - 1]!;
    this.end = tail.start + tail.size;
    if (this.cursor > this.end || this.cursor < this.segments[0]!.start)
      this.cursor = this.segments[0]!.start;
    // Count what is still owed and remember the ids on disk.
    for (const seg of this.segments) {
      if (seg.size === 0) continue;
      const data = await readFile(this.segmentPath(seg.start));
      let lineStart = 0;
      for (let i = data.indexOf(NEWLINE); i !== -1; i = data.indexOf(NEWLINE, i + 1)) {
        const tab = data.indexOf(TAB, lineStart);
        if (tab > lineStart && tab < i) this.remember(data.toString('utf8', lineStart, tab));
        if (seg.start + lineStart >= this.cursor) this.records++;
        lineStart = i + 1;
      }
    }
    if (this.records > 0) this.oldestAppendMs = 0;
    this.writer = await open(this.segmentPath(tail.start), 'a');
  }

  private remember(id: string): void {
    this.recent.add(id);
    if (this.recent.size > this.recentMax) {
      const oldest = this.recent.values().next();
      if (oldest.done !== true) this.recent.delete(oldest.value);
    }
  }

  /**
   * Appends records and makes them durable. In 'drop' mode records that do not
   * fit are refused and counted; in 'block' mode the records that fit are
   * written and a BufferFullError is thrown for the rest, so the caller holds
   * its input and offers it again (the ids already written are skipped).
   */
  append(records: readonly BufferRecord[], mode: 'drop' | 'block' = 'drop'): Promise<AppendResult> {
    const run = this.chain.then(() => this.appendNow(records, mode));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async appendNow(records: readonly BufferRecord[], mode: 'drop' | 'block'): Promise<AppendResult> {
    const chunks: Buffer[] = [];
    const ids: string[] = [];
    let bytes = 0;
    let full = 0;
    let duplicates = 0;
    let blocked = false;
    const room = this.options.maxBytes - this.bytes;
    for (const r of records) {
      if (this.recent.has(r.id)) {
        duplicates++;
        continue;
      }
      const line = Buffer.from(`${r.id}\t${r.text}\n`);
      if (bytes + line.length > room) {
        if (mode === 'block') {
          blocked = true;
          break;
        }
        full++;
        continue;
      }
      bytes += line.length;
      chunks.push(line);
      ids.push(r.id);
    }
    if (chunks.length > 0) {
      await this.write(chunks);
      for (const id of ids) this.remember(id);
      this.records += chunks.length;
      this.oldestAppendMs ??= Date.now();
    }
    if (blocked) {
      // What fit is written (and remembered), so a retry of the same records makes progress
      // even when they are more than the whole buffer holds.
      throw new BufferFullError(
        `buffer full (${this.bytes} of ${this.options.maxBytes} bytes waiting for the destination)`,
      );
    }
    return { appended: chunks.length, full, duplicates };
  }

  /** Writes lines at the end, rolling to a new segment at a record boundary when one is full, then syncs. */
  private async write(lines: Buffer[]): Promise<void> {
    let i = 0;
    while (i < lines.length) {
      let tail = this.segments[this.segments.length - 1]!;
      if (tail.size > 0 && tail.size + lines[i]!.length > this.options.segmentBytes) {
        await this.writer?.close();
        tail = { start: this.end, size: 0 };
        this.segments.push(tail);
        this.writer = await open(this.segmentPath(tail.start), 'a');
        syncDir(this.options.dir);
      }
      // As many lines as fit in this segment (at least one).
      let j = i + 1;
      let size = lines[i]!.length;
      while (j < lines.length && tail.size + size + lines[j]!.length <= this.options.segmentBytes) {
        size += lines[j]!.length;
        j++;
      }
      const data = j - i === 1 ? lines[i]! : Buffer.concat(lines.slice(i, j), size);
      const writer = this.writer!;
      let off = 0;
      while (off < data.length) off += (await writer.write(data, off, data.length - off)).bytesWritten;
      // Synced before the next roll, so every segment left behind is durable.
      await writer.datasync();
      tail.size += data.length;
      this.end += data.length;
      i = j;
    }
  }

  /** Reads whole records from `from`, at most `maxRecords` and about `maxBytes` (at least one record). */
  async read(from: number, maxRecords: number, maxBytes: number): Promise<ReadResult> {
    const records: BufferRecord[] = [];
    let pos = from;
    let bytes = 0;
    while (records.length < maxRecords && pos < this.end) {
      const seg = this.segments.find((s) => pos >= s.start && pos < s.start + s.size);
      if (!seg) break;
      const segEnd = seg.start + seg.size;
      const want = Math.min(segEnd - pos, Math.max(64 * 1024, maxBytes - bytes + 64 * 1024));
      const fh = await open(this.segmentPath(seg.start), 'r');
      let chunk: Buffer;
      try {
        chunk = Buffer.alloc(want);
        const { bytesRead } = await fh.read(chunk, 0, want, pos - seg.start);
        chunk = chunk.subarray(0, bytesRead);
      } finally {
        await fh.close();
      }
      let lineStart = 0;
      let progressed = false;
      for (
        let i = chunk.indexOf(NEWLINE);
        i !== -1 && records.length < maxRecords;
        i = chunk.indexOf(NEWLINE, i + 1)
      ) {
        const size = i - lineStart + 1;
        if (records.length > 0 && bytes + size > maxBytes) return { records, end: pos, bytes };
        const tab = chunk.indexOf(TAB, lineStart);
        records.push({
          id: chunk.toString('utf8', lineStart, tab),
          text: chunk.toString('utf8', tab + 1, i),
        });
        bytes += size;
        pos += size;
        lineStart = i + 1;
        progressed = true;
      }
      if (!progressed) {
        // One record longer than the chunk: read it whole.
        const fh2 = await open(this.segmentPath(seg.start), 'r');
        try {
          const rest = Buffer.alloc(segEnd - pos);
          await fh2.read(rest, 0, rest.length, pos - seg.start);
          const nl = rest.indexOf(NEWLINE);
          const tab = rest.indexOf(TAB);
          records.push({ id: rest.toString('utf8', 0, tab), text: rest.toString('utf8', tab + 1, nl) });
          bytes += nl + 1;
          pos += nl + 1;
        } finally {
          await fh2.close();
        }
      }
      if (bytes >= maxBytes) break;
    }
    return { records, end: pos, bytes };
  }

  /** Resolves at the next ack (room may have been made) or after `ms`. */
  waitForRoom(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.roomWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Marks everything before `position` as delivered (durably) and deletes segments behind it. */
  async ack(position: number, count: number): Promise<void> {
    this.cursor = position;
    this.records = Math.max(0, this.records - count);
    const tmp = join(this.options.dir, 'cursor.tmp');
    await writeFile(tmp, String(position));
    const fh = await open(tmp, 'r');
    await fh.sync();
    await fh.close();
    await rename(tmp, join(this.options.dir, 'cursor'));
    syncDir(this.options.dir);
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const w of waiters) w();
    while (this.segments.length > 1) {
      const first = this.segments[0]!;
      if (first.start + first.size > position) break;
      this.segments.shift();
      await rm(this.segmentPath(first.start), { force: true });
    }
  }

  async close(): Promise<void> {
    await this.chain;
    await this.writer?.close();
    this.writer = undefined;
  }
}

/** A new or renamed file's directory entry is durable only once the directory is synced. */
function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
