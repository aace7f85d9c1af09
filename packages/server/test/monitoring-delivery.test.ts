/**
 * The monitoring stream's own delivery parts: the file sink's rotation, and
 * payload packing within the size bound. (Its queue is the delivery core's:
 * delivery-core.test.ts, which replaced the tests of the old DiskQueue.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { create, fromBinary, fromJson, type JsonValue } from '@bufbuild/protobuf';
import { monitoring as pb } from '@openqoe/schema';
import { afterEach, describe, expect, it } from 'vitest';
import type { QueueRecord } from '../src/outputs/delivery/destination.js';
import { encodeSample, packPayloads } from '../src/outputs/stream/sample-builder.js';
import { fileSink } from '../src/outputs/stream/sinks/file.js';
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
const entry = (i: number, size = 100): QueueRecord => ({
  key: String(i % 3),
  id: `id-${i}`,
  dueAtMs: 1000 + i,
  payload: Buffer.alloc(size, i % 256),
});

describe('file sink', () => {
  it('writes NDJSON lines and rotates, keeping the newest files', async () => {
    const dir = temp();
    const sink = fileSink.create(
      {
        type: 'file',
        name: 'f',
        format: 'json',
        directory: dir,
        maxFileBytes: 1024,
        maxFiles: 2,
        bufferMaxBytes: 1 << 20,
        whenFull: 'block',
        retryInitialBackoffMs: 1,
        retryMaxBackoffMs: 1,
      },
      { key: 'monitoring.sinks[0]', env: {} },
    );
    const line = (i: number) => Buffer.from(JSON.stringify({ i, pad: 'x'.repeat(280) }));
    expect(
      await sink.send(
        Array.from({ length: 12 }, (_, i) => ({ ...entry(i), payload: line(i) })),
        new AbortController().signal,
      ),
    ).toEqual({ ok: true });
    await sink.close?.();
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
