/**
 * The test kit's media server on its own (real sockets): holds, error
 * answers, throttling and byte ranges behave as the browser tests rely on.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CDN_HEADER_VALUE, type MediaServer, startMediaServer } from './e2e/kit/index.js';

let dir: string;
let media: MediaServer;
const BODY = Buffer.alloc(100_000, 7);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'openqoe-media-server-'));
  writeFileSync(join(dir, 'seg_00001.ts'), BODY);
  media = await startMediaServer(dir);
});
afterAll(async () => {
  await media.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = async (path: string, headers: Record<string, string> = {}) => {
  const t0 = Date.now();
  const res = await fetch(`${media.url}/media/${path}`, { headers });
  const body = Buffer.from(await res.arrayBuffer());
  return { res, body, ms: Date.now() - t0 };
};

describe('media server', () => {
  it('serves files with the CDN header and byte ranges', async () => {
    const full = await get('seg_00001.ts');
    expect(full.res.status).toBe(200);
    expect(full.res.headers.get('x-cdn')).toBe(CDN_HEADER_VALUE);
    expect(full.body.equals(BODY)).toBe(true);
    const part = await get('seg_00001.ts', { range: 'bytes=10-19' });
    expect(part.res.status).toBe(206);
    expect(part.res.headers.get('content-range')).toBe(`bytes 10-19/${BODY.length}`);
    expect(part.body.length).toBe(10);
    expect((await get('missing.ts')).res.status).toBe(404);
  });

  it('holds the matching request for the given time, once, and records it', async () => {
    const hold = media.rule({ match: /seg_00001\.ts$/, holdMs: 600, times: 1 });
    const first = await get('seg_00001.ts');
    const second = await get('seg_00001.ts');
    hold.remove();
    expect(first.ms).toBeGreaterThanOrEqual(590);
    expect(first.body.equals(BODY)).toBe(true);
    expect(second.ms).toBeLessThan(first.ms);
    expect(hold.hits).toHaveLength(1);
    expect(hold.hits[0]!.endMs - hold.hits[0]!.startMs).toBeGreaterThanOrEqual(595);
  });

  it('answers a status instead of the file, and throttles', async () => {
    const fail = media.rule({ match: /seg_00001\.ts$/, status: 500, times: 1 });
    expect((await get('seg_00001.ts')).res.status).toBe(500);
    expect((await get('seg_00001.ts')).res.status).toBe(200);
    fail.remove();
    // 100 000 bytes at 200 000 B/s: at least ~0.5 s.
    const slow = media.rule({ match: /seg_00001\.ts$/, throttleBps: 200_000 });
    const r = await get('seg_00001.ts');
    slow.remove();
    expect(r.body.equals(BODY)).toBe(true);
    expect(r.ms).toBeGreaterThanOrEqual(400);
  });
});
