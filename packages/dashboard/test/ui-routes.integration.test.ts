/**
 * How the server serves the dashboard, over real HTTP from the real CLI:
 * `/` redirects to `/ui/`, deep links get the app, the favicon is served, hashed assets are sent
 * precompressed and cached for good, a missing asset is a 404 (not the
 * app), and without a build the server still starts and /ui/ says what to do.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIST_DIR, removeDir, type ServerProcess, startDashboardServer, stopServer } from './kit.js';

const get = (url: string, headers: Record<string, string> = {}) =>
  fetch(url, { headers, redirect: 'manual' });

describe('the dashboard under /ui/', () => {
  let server: ServerProcess;
  let noBuild: ServerProcess;
  const emptyDir = mkdtempSync(join(tmpdir(), 'openqoe-no-ui-'));

  beforeAll(async () => {
    [server, noBuild] = await Promise.all([
      startDashboardServer(),
      startDashboardServer({ ui: { distDir: emptyDir } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([stopServer(server), stopServer(noBuild)]);
    removeDir(emptyDir);
  });

  it('redirects / to /ui/ and answers deep links with the app', async () => {
    const root = await get(`${server.url}/`);
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/ui/');
    const index = readFileSync(join(DIST_DIR, 'index.html'), 'utf8');
    for (const path of [
      '/ui/',
      '/ui/views/some-view-id',
      '/ui/live-streams/abc',
      '/ui/sign-in?next=%2Fui%2F',
    ]) {
      const res = await get(`${server.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(await res.text()).toBe(index);
    }
  });

  it('serves the favicon the app links, and points /favicon.ico at it', async () => {
    const html = readFileSync(join(DIST_DIR, 'index.html'), 'utf8');
    const icon = /<link rel="icon"[^>]*href="([^"]+)"/.exec(html)![1]!;
    expect(icon).toBe('/ui/favicon.svg');
    const res = await get(`${server.url}${icon}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(await res.text()).toBe(readFileSync(join(DIST_DIR, 'favicon.svg'), 'utf8'));
    const ico = await get(`${server.url}/favicon.ico`);
    expect(ico.status).toBe(302);
    expect(ico.headers.get('location')).toBe(icon);
  });

  it('sends hashed assets precompressed with a long cache, and 404s a missing one', async () => {
    const html = readFileSync(join(DIST_DIR, 'index.html'), 'utf8');
    const script = /<script[^>]*src="([^"]+)"/.exec(html)![1]!;
    const res = await get(`${server.url}${script}`, { 'accept-encoding': 'br' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-encoding')).toBe('br');
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const body = Buffer.from(await res.arrayBuffer());
    // fetch does not decode here: the bytes are the .br file, which decodes to the script.
    const raw = readFileSync(join(DIST_DIR, script.slice('/ui/'.length)));
    expect(body.equals(raw) || brotliDecompressSync(body).equals(raw)).toBe(true);
    // A build made after the start: its new asset is served too.
    const later = join(DIST_DIR, 'assets', `later-${process.pid}.js`);
    writeFileSync(later, 'export const later = 1;\n');
    try {
      const res2 = await get(`${server.url}/ui/assets/later-${process.pid}.js`);
      expect(res2.status).toBe(200);
      expect(await res2.text()).toBe('export const later = 1;\n');
    } finally {
      rmSync(later);
    }
    expect((await get(`${server.url}/ui/assets/..%2F..%2Fpackage.json`)).status).toBe(404);
    const missing = await get(`${server.url}/ui/assets/missing-0000.js`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('QOE_ERR_NOT_FOUND');
  });

  it('without a build the server still starts, its APIs work, and /ui/ says how to build', async () => {
    const res = await get(`${noBuild.url}/ui/views`);
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(text).toContain('The dashboard is not built');
    expect(text).toContain('npm run build');
    expect((await get(`${noBuild.url}/healthz`)).status).toBe(200);
    expect((await get(`${noBuild.url}/`)).headers.get('location')).toBe('/ui/');
  });
});
