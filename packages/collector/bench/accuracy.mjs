#!/usr/bin/env node
/**
 * `npm run bench:collector-accuracy [-- --runs N]`: runs the players' scripted-stall
 * e2e tests N times (default 3) and prints, per player, how far the measured
 * rebuffer duration and startup time were from the page's own ground truth
 * (presented-frame gap, play request → first presented frame).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '../../..');
const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 3;
const dir = mkdtempSync(join(tmpdir(), 'openqoe-accuracy-'));
const report = join(dir, 'rows.jsonl');
const files = ['html5', 'hlsjs', 'dashjs', 'shaka', 'videojs'].map(
  (p) => `packages/collector/test/e2e/${p}.e2e.test.ts`,
);
for (let i = 1; i <= runs; i++) {
  console.log(`run ${i}/${runs}`);
  spawnSync(
    process.execPath,
    [join(root, 'node_modules/vitest/vitest.mjs'), 'run', ...files, '-t', 'scripted stall'],
    {
      cwd: root,
      env: { ...process.env, OPENQOE_E2E_REPORT: report },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
}
const rows = readFileSync(report, 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l));
rmSync(dir, { recursive: true, force: true });
const byPlayer = new Map();
for (const r of rows) byPlayer.set(r.player, [...(byPlayer.get(r.player) ?? []), r]);
const table = [...byPlayer].map(([player, rs]) => {
  const err = rs.map((r) => r.rebufferMs - r.frameGapMs);
  const st = rs.map((r) => r.startupMs - r.startupMarksMs);
  const fmt = (xs) => `${Math.min(...xs)} … ${Math.max(...xs)}`;
  return {
    player,
    runs: rs.length,
    'frame gap ms': fmt(rs.map((r) => r.frameGapMs)),
    'rebuffer − gap ms': fmt(err),
    'worst |err| % of gap': Math.max(
      ...rs.map((r) => (100 * Math.abs(r.rebufferMs - r.frameGapMs)) / r.frameGapMs),
    ).toFixed(1),
    'startup − marks ms': fmt(st),
  };
});
console.table(table);
