#!/usr/bin/env node
/**
 * Summarises V8 .cpuprofile files (from `node --cpu-prof`): self time by
 * function, and by package, as a share of all samples and of non-idle ones.
 *
 *   node packages/server/bench/cpuprofile-top.mjs <file.cpuprofile | dir> [--top 15] [--window FROM-TO]
 *
 * --window keeps samples taken FROM..TO seconds after the profile started,
 * e.g. only the load, without start-up and shutdown.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '15' }, window: { type: 'string' } },
});
if (positionals.length === 0) {
  process.stderr.write('usage: cpuprofile-top.mjs <file.cpuprofile | dir> [--top 15] [--window FROM-TO]\n');
  process.exit(2);
}
const files = positionals.flatMap((p) =>
  statSync(p).isDirectory()
    ? readdirSync(p)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(p, f))
    : [p],
);

/** Where a function lives, short: a package name, node:…, or the path inside the repo. */
function place(url) {
  if (!url) return '';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return url;
  const pkg = url.indexOf('/packages/');
  return pkg >= 0 ? url.slice(pkg + 1) : url.replace(/^file:\/\//, '');
}

const [fromUs, toUs] = (opts.window ?? '0-Infinity').split('-').map((x) => Number(x) * 1e6);
const byFunction = new Map();
const byPackage = new Map();
let total = 0;
let idle = 0;
for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  // timeDeltas[i] is the time before samples[i]; charged to the function sampled (µs).
  let at = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    at += us;
    if (at < fromUs || at > toUs) return;
    const f = nodes.get(id);
    total += us;
    if (f.functionName === '(idle)') idle += us;
    const where = place(f.url);
    const fnKey = where ? `${f.functionName || '(anonymous)'}  ${where}:${f.lineNumber + 1}` : f.functionName;
    byFunction.set(fnKey, (byFunction.get(fnKey) ?? 0) + us);
    const pkgKey = where.startsWith('node:')
      ? 'node: (built-in JS)'
      : where.split('/dist/')[0] || f.functionName;
    byPackage.set(pkgKey, (byPackage.get(pkgKey) ?? 0) + us);
  });
}

const busy = total - idle;
const pct = (us, of) => `${((100 * us) / of).toFixed(1).padStart(5)}%`;
const print = (title, map, n) => {
  process.stdout.write(`\n${title}\n   self ms   total  non-idle\n`);
  for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    const share = key === '(idle)' ? '      ' : pct(us, busy);
    process.stdout.write(`${(us / 1000).toFixed(0).padStart(10)}  ${pct(us, total)}  ${share}  ${key}\n`);
  }
};
process.stdout.write(
  `${files.length} profile(s): ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s not idle\n`,
);
print('Self time by function', byFunction, Number(opts.top));
print('Self time by package', byPackage, Number(opts.top));
