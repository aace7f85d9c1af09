/**
 * The delivery parts of the monitoring stream on their own: the on-disk
 * buffer (order, acknowledgement, bound, recovery after a torn write), file
 * rotation, and payload packing within the size bound.
 */
import { appendFileSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { create, fromBinary, fromJson, type JsonValue } from '@bufbuild/protobuf';
import { monitoring as pb } from '@openqoe/schema';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeSample, packPayloads } from '../src/outputs/stream/sample-builder.js';
import { DiskQueue, type QueueEntry } from '../src/outputs/stream/sinks/disk-queue.js';
import { FileSink } from '../src/outputs/stream/sinks/file-sink.js';
import { removeDir, tempDataDir } from './helpers/server-process.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});
const temp = () => {
  const d = tempDataDir('openqoe-mon-del-');
  dirs.push(d);
  return d;
};
const entry = (i: number, size = 100): QueueEntry => ({
  partitionKey: String(i % 3),
  id: `id-${i}`,
  dueAtMs: 1000 + i,
  payload: Buffer.alloc(size, i % 256),
});

describe('disk queue', () => {
  it('gives entries back in order until acknowledged, across reopen and segment files', async () => {
    const dir = temp();
    let q = await DiskQueue.open(dir, { maxBytes: 1 << 20, segmentBytes: 1000 });
    q.append(Array.from({ length: 30 }, (_, i) => entry(i)));
    // A peek stays within one segment file (8 entries of 125 bytes here).
    const first = await q.peek(10);
    expect(first.entries.map((e) => e.id)).toEqual(Array.from({ length: 8 }, (_, i) => `id-${i}`));
    await q.ack(first.bytes);
    q.close();
    q = await DiskQueue.open(dir, { maxBytes: 1 << 20, segmentBytes: 1000 });
    const rest: string[] = [];
    for (;;) {
      const p = await q.peek(7);
      if (p.entries.length === 0) break;
      rest.push(...p.entries.map((e) => e.id));
      expect(p.entries[0]!.payload.equals(Buffer.alloc(100, Number(p.entries[0]!.id.slice(3)) % 256))).toBe(
        true,
      );
      await q.ack(p.bytes);
    }
    expect(rest).toEqual(Array.from({ length: 22 }, (_, i) => `id-${i + 8}`));
    expect(q.bufferedBytes).toBe(0);
    // Acknowledged segment files are removed.
    expect(readdirSync(dir).filter((f) => f.endsWith('.q')).length).toBeLessThanOrEqual(1);
    q.close();
  });

  it('cuts a torn entry at the tail on open and keeps the whole ones', async () => {
    const dir = temp();
    const q = await DiskQueue.open(dir, { maxBytes: 1 << 20, segmentBytes: 1 << 20 });
    q.append([entry(1), entry(2)]);
    q.close();
    const seg = readdirSync(dir).find((f) => f.endsWith('.q'))!;
    const whole = statSync(join(dir, seg)).size;
    // A crash in the middle of a write: a header promising more bytes than follow.
    appendFileSync(join(dir, seg), Buffer.from([0, 0, 1, 0, 1, 2, 3, 4, 5]));
    const again = await DiskQueue.open(dir, { maxBytes: 1 << 20, segmentBytes: 1 << 20 });
    expect(statSync(join(dir, seg)).size).toBe(whole);
    expect((await again.peek(10)).entries.map((e) => e.id)).toEqual(['id-1', 'id-2']);
    again.append([entry(3)]);
    expect((await again.peek(10)).entries.map((e) => e.id)).toEqual(['id-1', 'id-2', 'id-3']);
    again.close();
  });

  it('takes the prefix that fits its bound, and the rest once acknowledged entries left', async () => {
    const q = await DiskQueue.open(temp(), { maxBytes: 1000, segmentBytes: 1 << 20 });
    // Each entry is 100 bytes of payload plus 8 + 2 + 1 + 2 + 4 + 8 bytes of framing = 125.
    const all = Array.from({ length: 10 }, (_, i) => entry(i));
    expect(q.append(all).accepted).toBe(8);
    // A small entry after the refused ones is refused too: order is kept.
    expect(q.append([{ ...entry(99), payload: Buffer.alloc(1) }]).accepted).toBe(0);
    const p = await q.peek(2);
    await q.ack(p.bytes);
    expect(q.append(all.slice(8)).accepted).toBe(2);
    const ids: string[] = [];
    for (;;) {
      const next = await q.peek(100);
      if (!next.entries.length) break;
      ids.push(...next.entries.map((e) => e.id));
      await q.ack(next.bytes);
    }
    expect(ids).toEqual(all.slice(2).map((e) => e.id));
    q.close();
  });
});

describe('file sink', () => {
  it('writes NDJSON lines and rotates, keeping the newest files', async () => {
    const dir = temp();
    const sink = new FileSink({
      type: 'file',
      name: 'f',
      format: 'json',
      directory: dir,
      maxFileBytes: 1024,
      maxFiles: 2,
      bufferMaxBytes: 1 << 20,
      whenFull: 'block',
      retryInitialDelayMs: 1,
      retryMaxDelayMs: 1,
    });
    const line = (i: number) => Buffer.from(JSON.stringify({ i, pad: 'x'.repeat(280) }));
    await sink.send(Array.from({ length: 12 }, (_, i) => ({ ...entry(i), payload: line(i) })));
    await sink.close();
    const files = readdirSync(dir).sort();
    // 12 lines of 300 bytes, three per 1 KiB file → files 1..4, the newest two kept.
    expect(files).toEqual(['samples-000003.ndjson', 'samples-000004.ndjson']);
    const lines = files.flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean));
    expect(lines.map((l) => (JSON.parse(l) as { i: number }).i)).toEqual([6, 7, 8, 9, 10, 11]);
  });
});

describe('payload packing', () => {
  it('keeps payloads within the bound, holding every sample once, in both encodings', () => {
    const samples = Array.from({ length: 200 }, (_, i) =>
      create(pb.SampleSchema, { viewId: `view-${i}`, videoTitle: 't'.repeat(i % 50), records: [] }),
    );
    for (const format of ['json', 'protobuf'] as const) {
      const parts = samples.map((s) => ({ bytes: encodeSample(s, format), records: 0 }));
      const payloads = packPayloads('7', parts, format, 2000);
      expect(payloads.length).toBeGreaterThan(1);
      const ids: string[] = [];
      for (const p of payloads) {
        expect(p.body.length).toBeLessThanOrEqual(2000);
        const msg =
          format === 'json'
            ? fromJson(pb.SamplesSchema, JSON.parse(p.body.toString()) as JsonValue)
            : fromBinary(pb.SamplesSchema, p.body);
        ids.push(...msg.samples.map((s) => s.viewId));
      }
      expect(ids).toEqual(samples.map((s) => s.viewId));
    }
  });
});
