/**
 * The connector disk buffer on a real file system: bounded (drop or block
 * when full), durable across reopen, a torn last write cut off, replayed ids
 * not buffered twice, segments behind the cursor deleted. Plus the retry
 * helpers: backoff bounds and Retry-After parsing.
 */
import { appendFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backoffMs } from '../src/outputs/connectors/delivery.js';
import { BufferFullError, DiskBuffer } from '../src/outputs/connectors/disk-buffer.js';
import { parseRetryAfter } from '../src/outputs/connectors/http-post.js';
import { removeDir, tempDataDir } from './helpers/server-process.js';

const root = tempDataDir('openqoe-buffer-');
afterAll(() => removeDir(root));

let n = 0;
const dir = () => join(root, `b${n++}`);
/** A record of exactly `size` bytes on disk: id, tab, text, newline. */
const rec = (id: string, size = 100) => ({ id, text: 'x'.repeat(size - id.length - 2) });

describe('DiskBuffer', () => {
  it('keeps what fits and counts the rest when full (drop)', async () => {
    const b = await DiskBuffer.open({ dir: dir(), maxBytes: 1000, segmentBytes: 400 });
    const r = await b.append(Array.from({ length: 15 }, (_, i) => rec(`id-${String(i).padStart(2, '0')}`)));
    expect(r).toEqual({ appended: 10, full: 5, duplicates: 0 });
    expect(b.bytes).toBe(1000);
    expect(b.records).toBe(10);
    await b.close();
  });

  it('writes what fits and throws for the rest when full (block); a retry skips what was written', async () => {
    const b = await DiskBuffer.open({ dir: dir(), maxBytes: 1000, segmentBytes: 400 });
    await b.append(Array.from({ length: 9 }, (_, i) => rec(`a${i}`)));
    await expect(b.append([rec('b0'), rec('b1')], 'block')).rejects.toBeInstanceOf(BufferFullError);
    expect(b.records).toBe(10);
    // Nothing was delivered: b0 is known, b1 still does not fit.
    await expect(b.append([rec('b0'), rec('b1')], 'block')).rejects.toBeInstanceOf(BufferFullError);
    expect(b.records).toBe(10);
    // Once the destination took some, the retry goes through.
    const taken = await b.read(b.cursor, 2, 1_000_000);
    await b.ack(taken.end, 2);
    expect(await b.append([rec('b0'), rec('b1')], 'block')).toEqual({ appended: 1, full: 0, duplicates: 1 });
    await b.close();
  });

  it('reads in order across segments, survives reopen, and resumes from the durable cursor', async () => {
    const d = dir();
    let b = await DiskBuffer.open({ dir: d, maxBytes: 10_000, segmentBytes: 250 });
    await b.append(Array.from({ length: 10 }, (_, i) => rec(`r${i}`)));
    // 100-byte records, 250-byte segments: two records per segment file.
    expect(readdirSync(d).filter((f) => f.endsWith('.seg'))).toHaveLength(5);
    const first = await b.read(b.cursor, 3, 1_000_000);
    expect(first.records.map((r) => r.id)).toEqual(['r0', 'r1', 'r2']);
    expect(first.records[0]!.text).toBe(rec('r0').text);
    await b.ack(first.end, 3);
    // The first segment (r0, r1) is behind the cursor and gone.
    expect(readdirSync(d).filter((f) => f.endsWith('.seg'))).toHaveLength(4);
    await b.close();

    b = await DiskBuffer.open({ dir: d, maxBytes: 10_000, segmentBytes: 250 });
    expect(b.records).toBe(7);
    const rest = await b.read(b.cursor, 100, 1_000_000);
    expect(rest.records.map((r) => r.id)).toEqual(['r3', 'r4', 'r5', 'r6', 'r7', 'r8', 'r9']);
    // A replay of ids still on disk is not buffered again.
    expect(await b.append([rec('r5'), rec('r10')])).toEqual({ appended: 1, full: 0, duplicates: 1 });
    await b.close();
  });

  it('stops a read at maxBytes but always returns at least one record', async () => {
    const b = await DiskBuffer.open({ dir: dir(), maxBytes: 10_000, segmentBytes: 10_000 });
    await b.append([rec('big', 500), rec('s1'), rec('s2')]);
    const one = await b.read(b.cursor, 10, 200);
    expect(one.records.map((r) => r.id)).toEqual(['big']);
    const two = await b.read(one.end, 10, 200);
    expect(two.records.map((r) => r.id)).toEqual(['s1', 's2']);
    await b.close();
  });

  it('cuts a torn last write on open (it was never acknowledged)', async () => {
    const d = dir();
    let b = await DiskBuffer.open({ dir: d, maxBytes: 10_000, segmentBytes: 10_000 });
    await b.append([rec('ok1'), rec('ok2')]);
    await b.close();
    const seg = readdirSync(d).find((f) => f.endsWith('.seg'))!;
    appendFileSync(join(d, seg), 'torn\t{"half":');
    b = await DiskBuffer.open({ dir: d, maxBytes: 10_000, segmentBytes: 10_000 });
    expect(b.records).toBe(2);
    await b.append([rec('ok3')]);
    const all = await b.read(b.cursor, 10, 1_000_000);
    expect(all.records.map((r) => r.id)).toEqual(['ok1', 'ok2', 'ok3']);
    await b.close();
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
