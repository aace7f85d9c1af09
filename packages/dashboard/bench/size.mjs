/**
 * `npm run bench:dashboard-size`: builds the dashboard and prints what the
 * first page load transfers — every script and stylesheet index.html loads,
 * raw, gzip (level 9) and brotli (quality 11), as the server sends them
 * precompressed — against the 300 KB compressed JavaScript budget.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const dir = join(import.meta.dirname, '..');
const dist = join(dir, 'dist');
execFileSync('npm', ['run', 'build', '--silent'], { cwd: dir, stdio: 'inherit' });

const html = readFileSync(join(dist, 'index.html'), 'utf8');
const urls = [
  ...html.matchAll(/<script[^>]*\ssrc="([^"]+)"/g),
  ...html.matchAll(/<link[^>]*rel="(?:modulepreload|stylesheet)"[^>]*href="([^"]+)"/g),
].map((m) => m[1]);

const rows = [];
const total = { js: [0, 0, 0], css: [0, 0, 0] };
for (const url of new Set(urls)) {
  const bytes = readFileSync(join(dist, url.slice('/ui/'.length)));
  const sizes = [
    bytes.length,
    gzipSync(bytes, { level: 9 }).length,
    brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  ];
  const kind = url.endsWith('.css') ? 'css' : 'js';
  sizes.forEach((s, i) => {
    total[kind][i] += s;
  });
  rows.push([url, ...sizes]);
}
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log('file'.padEnd(40), 'raw'.padStart(10), 'gzip'.padStart(10), 'brotli'.padStart(10));
for (const [url, raw, gz, br] of rows)
  console.log(url.padEnd(40), kb(raw).padStart(10), kb(gz).padStart(10), kb(br).padStart(10));
for (const kind of ['js', 'css']) {
  const [raw, gz, br] = total[kind];
  console.log(`total ${kind}`.padEnd(40), kb(raw).padStart(10), kb(gz).padStart(10), kb(br).padStart(10));
}
const budget = 300 * 1024;
const worst = Math.max(total.js[1], total.js[2]);
console.log(
  `first-load JS budget: ${kb(worst)} of ${kb(budget)} compressed (${((100 * worst) / budget).toFixed(0)} %)`,
);
