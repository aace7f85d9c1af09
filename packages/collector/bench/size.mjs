#!/usr/bin/env node
/**
 * `npm run bench:collector-size`: builds the collector and prints, per file
 * the pages load, its minified, gzip and brotli sizes and its budget.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const dir = join(import.meta.dirname, '..');
execFileSync(process.execPath, [join(dir, 'build.mjs'), '--no-types'], { stdio: 'inherit' });
const budget = JSON.parse(readFileSync(join(dir, 'size-budget.json'), 'utf8'));
const rows = [];
for (const [file, limit] of Object.entries(budget)) {
  if (file === 'comment') continue;
  const bytes = readFileSync(join(dir, 'dist', file));
  const br = brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  rows.push({
    file,
    minified: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: br,
    budget: limit,
  });
}
console.table(rows);
