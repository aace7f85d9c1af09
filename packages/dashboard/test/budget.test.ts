/**
 * The first page load's JavaScript budget: every script index.html loads
 * (its module entry and the chunks it preloads), compressed here with gzip
 * and brotli at the levels the build's precompressed files use, must stay
 * within 300 KB. Reads the built app (built first when missing).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DIST_DIR, ensureBuilt } from './kit.js';

const BUDGET_BYTES = 300 * 1024;

/** Local script URLs index.html loads at once: <script src> and <link rel=modulepreload>. */
export function firstLoadScripts(html: string): string[] {
  const urls = [
    ...html.matchAll(/<script[^>]*\ssrc="([^"]+)"/g),
    ...html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g),
  ].map((m) => m[1]!);
  return [...new Set(urls)];
}

describe('dashboard first-load budget', () => {
  it('loads at most 300 KB of compressed JavaScript', () => {
    ensureBuilt();
    const html = readFileSync(join(DIST_DIR, 'index.html'), 'utf8');
    const scripts = firstLoadScripts(html);
    expect(scripts.length).toBeGreaterThan(0);
    let raw = 0;
    let gzip = 0;
    let brotli = 0;
    for (const url of scripts) {
      expect(url.startsWith('/ui/')).toBe(true);
      const bytes = readFileSync(join(DIST_DIR, url.slice('/ui/'.length)));
      raw += bytes.length;
      gzip += gzipSync(bytes, { level: 9 }).length;
      brotli += brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
    }
    console.log(
      `dashboard first load: ${scripts.length} script(s), ${raw} B raw, ${gzip} B gzip, ${brotli} B brotli (budget ${BUDGET_BYTES} B compressed)`,
    );
    expect(gzip).toBeLessThanOrEqual(BUDGET_BYTES);
    expect(brotli).toBeLessThanOrEqual(BUDGET_BYTES);
  });
});
