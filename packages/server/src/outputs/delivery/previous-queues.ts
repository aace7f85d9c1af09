/**
 * Readers of the queues the previous version left in a data dir, so an
 * upgraded server delivers what they still held: the monitoring sinks'
 * DiskQueue (`{dataDir}/monitoring/buffer/{sink}/`: `NNNNNNNNNN.q` segments
 * of CRC-framed entries and `cursor.json`) and the connectors' DiskBuffer
 * (`{dataDir}/connectors/{name}/`: `{position}.seg` files of `{id}\t{json}\n`
 * lines and `cursor`). The records after each cursor are moved into the new
 * queue once (disk-queue.ts), then the old files are deleted; a crash in
 * between moves them again, and the new queue skips the ids it holds.
 */
import { readdir, readFile, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { QueueRecord } from './destination.js';
import { decodeRecord, type PreviousQueue } from './disk-queue.js';

/** The directory's files whose names match, sorted; none when it does not exist. */
const filesOf = (dir: string, re: RegExp): Promise<string[]> =>
  readdir(dir).then(
    (names) => names.filter((f) => re.test(f)).sort(),
    () => [],
  );

const DISK_QUEUE_SEGMENT = /^\d{10}\.q$/;

/** A monitoring sink's DiskQueue directory. */
export function previousDiskQueue(dir: string): PreviousQueue {
  return {
    async read() {
      const segments = (await filesOf(dir, DISK_QUEUE_SEGMENT)).map((f) => Number.parseInt(f, 10));
      if (segments.length === 0) return [];
      let head = { segment: segments[0]!, offset: 0 };
      try {
        head = JSON.parse(await readFile(join(dir, 'cursor.json'), 'utf8')) as typeof head;
      } catch {
        // No cursor: nothing was acknowledged.
      }
      const out: QueueRecord[] = [];
      for (const s of segments.filter((n) => n >= head.segment)) {
        const buf = await readFile(join(dir, `${String(s).padStart(10, '0')}.q`));
        // [u32 BE length][u32 BE crc32][body]; a torn or corrupt entry ends the segment (it was never fsync'd).
        let o = s === head.segment ? head.offset : 0;
        while (o + 8 <= buf.length) {
          const len = buf.readUInt32BE(o);
          if (len < 12 || o + 8 + len > buf.length) break;
          const body = buf.subarray(o + 8, o + 8 + len);
          if (crc32(body) !== buf.readUInt32BE(o + 4)) break;
          out.push(decodeRecord(body));
          o += 8 + len;
        }
      }
      return out;
    },
    async remove() {
      for (const f of await filesOf(dir, /^(\d{10}\.q|cursor\.json(\.tmp)?)$/)) await rm(join(dir, f));
      // The directory and its parent (`buffer/`) go when nothing else is in them.
      await rmdir(dir).catch(() => {});
      await rmdir(join(dir, '..')).catch(() => {});
    },
  };
}

const DISK_BUFFER_SEGMENT = /^\d{20}\.seg$/;

/** A connector's DiskBuffer directory (the new queue lives in its `queue/` subdirectory). */
export function previousDiskBuffer(dir: string): PreviousQueue {
  return {
    async read() {
      const names = await filesOf(dir, DISK_BUFFER_SEGMENT);
      if (names.length === 0) return [];
      // No (readable) cursor: nothing was acknowledged.
      const saved = Number((await readFile(join(dir, 'cursor'), 'utf8').catch(() => '')).trim()) || 0;
      const cursor = Math.max(saved, Number(names[0]!.slice(0, 20)));
      const out: QueueRecord[] = [];
      for (const name of names) {
        const start = Number(name.slice(0, 20));
        const data = await readFile(join(dir, name));
        // Whole lines only: a write cut by a crash was never acknowledged.
        let lineStart = 0;
        for (let nl = data.indexOf(0x0a); nl !== -1; nl = data.indexOf(0x0a, lineStart)) {
          const tab = data.indexOf(0x09, lineStart);
          if (start + lineStart >= cursor && tab > lineStart && tab < nl)
            out.push({
              id: data.toString('utf8', lineStart, tab),
              key: '',
              dueAtMs: 0,
              payload: Buffer.from(data.subarray(tab + 1, nl)),
            });
          lineStart = nl + 1;
        }
      }
      return out;
    },
    async remove() {
      for (const f of await filesOf(dir, /^(\d{20}\.seg|cursor(\.tmp)?)$/)) await rm(join(dir, f));
    },
  };
}
