#!/usr/bin/env node
/**
 * `npm run bench:monitoring-api`: the monitoring API's answer times with N
 * active views (default 10 000) kept alive by real beacons through the real
 * server, i.e. what the dashboard's Monitor page waits for on each refresh.
 *
 * Views get 5 s samples on a steady clock (2 % rebuffering, a spread of
 * CDNs, titles, players and stream types). Once every view is active, the
 * requests of one Monitor refresh (the seven headline timeseries and seven
 * breakdowns) are timed one by one, again and again, while the traffic goes
 * on; then the whole refresh is timed with its requests in parallel.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeBeacon, makeSample } from '@openqoe/schema';

const { values: args } = parseArgs({
  options: {
    views: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '20' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(`usage: npm run bench:monitoring-api -- [--views N] [--rounds R]
  --views   active views kept alive by beacons (default 10000)
  --rounds  Monitor refreshes timed (default 20)`);
  process.exit(0);
}
const N = Number(args.views);
const ROUNDS = Number(args.rounds);
const TICK_MS = 5000;
const SEG_MS = 5000;
const PER_BEACON = 500;

const work = mkdtempSync(join(tmpdir(), 'openqoe-bench-monapi-'));
writeFileSync(
  join(work, 'config.json'),
  JSON.stringify({
    logLevel: 'warn',
    intake: {
      rateLimit: { perIpPerSecond: 0, perEnvKeyPerSecond: 0 },
      // Throughput runs: the caps on new views (intake.views) off, as the rate limits are.
      views: { maxInProgressPerEnv: 0, newPerSecondPerEnv: 0, maxInMemory: 100_000_000 },
    },
    live: { rtmp: { enabled: false } },
    realtime: { tickMs: TICK_MS },
  }),
);
const cli = new URL('../dist/cli.js', import.meta.url).pathname;
const server = spawn(
  process.execPath,
  [cli, 'serve', '--port', '0', '--data-dir', join(work, 'data'), '--config', join(work, 'config.json')],
  { stdio: ['ignore', 'pipe', 'pipe'] },
);
let out = '';
const url = await new Promise((resolve, reject) => {
  const on = (d) => {
    out += d;
    const m = /listening on (http:\/\/\S+)/.exec(out);
    if (m) resolve(m[1].replace('localhost', '127.0.0.1'));
  };
  server.stdout.on('data', on);
  server.stderr.on('data', on);
  server.once('exit', () => reject(new Error(out)));
});
const boot = JSON.parse(readFileSync(join(work, 'data', 'bootstrap.json'), 'utf8'));
const auth = `Basic ${Buffer.from(`${boot.access_token.id}:${boot.access_token.secret}`).toString('base64')}`;

const CDNS = ['cdn-a', 'cdn-b', 'cdn-c', 'cdn-d', 'cdn-e'];
const PLAYERS = ['web', 'ios', 'android', 'tv'];
let stopped = false;
let posted = 0;
/** Keeps every view alive: one 5 s sample per view per 5 s of event time. */
async function traffic() {
  // Like a player's heartbeat: each 5 s sample is sent when its 5 s are over.
  const t0 = Math.floor(Date.now() / SEG_MS) * SEG_MS - SEG_MS;
  for (let s = 0; !stopped; s++) {
    const segStart = t0 + s * SEG_MS;
    while (!stopped && Date.now() < segStart + SEG_MS) await new Promise((r) => setTimeout(r, 50));
    const posts = [];
    for (let v0 = 0; v0 < N; v0 += PER_BEACON) {
      const samples = [];
      for (let v = v0; v < Math.min(N, v0 + PER_BEACON); v++) {
        samples.push(
          makeSample({
            viewId: `mon-${v}`,
            sequenceNumber: s,
            state: s === 0 ? 'startup' : s >= 2 && v % 50 === 0 ? 'rebuffering' : 'playing',
            timestamp: segStart,
            durationMs: s === 0 ? 800 + (v % 20) * 100 : SEG_MS,
            viewerTime: segStart + SEG_MS,
            cdnHost: CDNS[v % CDNS.length],
            playerName: PLAYERS[v % PLAYERS.length],
            videoTitle: `title-${v % 200}`,
            streamType: v % 3 === 0 ? 'live' : 'vod',
          }),
        );
      }
      const body = JSON.stringify(makeBeacon({ envKey: boot.environment.key, sentAt: Date.now(), samples }));
      posts.push(
        fetch(`${url}/v1/beacon?backfill=true`, {
          method: 'POST',
          headers: { 'content-type': 'text/plain', authorization: auth },
          body,
        }).then(async (r) => {
          const text = await r.text();
          if (r.status !== 202) throw new Error(`beacon answered ${r.status}: ${text.slice(0, 500)}`);
          posted += samples.length;
        }),
      );
    }
    await Promise.all(posts);
  }
}
const trafficDone = traffic();

const api = async (path) => {
  const t = performance.now();
  const r = await fetch(`${url}/data/v1/monitoring/${path}`, { headers: { authorization: auth } });
  const body = await r.json();
  if (r.status !== 200) throw new Error(`${path} answered ${r.status}: ${JSON.stringify(body)}`);
  return { ms: performance.now() - t, body };
};
process.stdout.write(`waiting for ${N} concurrent viewers `);
for (;;) {
  // Every view watching, and the stalls (which start after the first sample) under way.
  const { body } = await api('metrics/current_concurrent_viewers/timeseries');
  const { body: rebuffering } = await api('metrics/current_rebuffering_percentage/timeseries');
  if ((body.data.at(-1)?.value ?? 0) >= N && (rebuffering.data.at(-1)?.value ?? 0) > 1.9) break;
  process.stdout.write(
    `\rwaiting: ${body.data.at(-1)?.value ?? 0} viewers, ${(rebuffering.data.at(-1)?.value ?? 0).toFixed(2)} % rebuffering`,
  );
  await new Promise((r) => setTimeout(r, 1000));
}
console.log(' ok');

const METRICS = [
  'current_concurrent_viewers',
  'current_rebuffering_percentage',
  'video_startup_time',
  'video_startup_failure_percentage',
  'exits_before_video_start',
  'playback_failure_percentage',
  'current_average_bitrate',
];
const DIMS = ['cdn', 'country', 'operating_system', 'browser', 'player_name', 'video_title', 'stream_type'];
const refresh = [
  ...METRICS.map((m) => ['timeseries', `metrics/${m}/timeseries`]),
  ...DIMS.map((d) => ['breakdown', `metrics/current_rebuffering_percentage/breakdown?dimension=${d}`]),
  [
    'breakdown (filtered)',
    'metrics/current_rebuffering_percentage/breakdown?dimension=video_title&filters[]=cdn:cdn-b',
  ],
  ['breakdown-timeseries', 'metrics/current_rebuffering_percentage/breakdown-timeseries?dimension=cdn'],
  ['histogram-timeseries', 'metrics/video_startup_time/histogram-timeseries'],
];
const times = new Map();
const whole = [];
for (let r = 0; r < ROUNDS; r++) {
  for (const [kind, path] of refresh) {
    const { ms } = await api(path);
    times.set(kind, [...(times.get(kind) ?? []), ms]);
  }
  const t = performance.now();
  await Promise.all(refresh.map(([, path]) => api(path)));
  whole.push(performance.now() - t);
  process.stdout.write(`\rround ${r + 1}/${ROUNDS}`);
  await new Promise((r2) => setTimeout(r2, 250));
}
const check = await api('metrics/current_rebuffering_percentage/timeseries');
stopped = true;
await trafficDone;
server.kill('SIGTERM');
await new Promise((r) => server.once('exit', r));
rmSync(work, { recursive: true, force: true });

const q = (a, p) => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
const all = [...times.values()].flat();
console.log(`\n\nmachine              ${cpus().length} × ${cpus()[0]?.model}, Node ${process.version}`);
console.log(
  `active views         ${N} (one 5 s sample each per 5 s; ${posted} samples posted during the run)`,
);
console.log(`rebuffering now      ${check.body.data.at(-1)?.value?.toFixed(2)} % (2 % of views stall)`);
console.log(`requests timed       ${all.length} one at a time, over ${ROUNDS} Monitor refreshes`);
console.log('kind                   median      p95');
for (const [kind, a] of times)
  console.log(
    `${kind.padEnd(22)} ${q(a, 0.5).toFixed(1).padStart(6)} ms ${q(a, 0.95).toFixed(1).padStart(6)} ms`,
  );
console.log(
  `${'all requests'.padEnd(22)} ${q(all, 0.5).toFixed(1).padStart(6)} ms ${q(all, 0.95).toFixed(1).padStart(6)} ms`,
);
console.log(
  `${'whole refresh (17 ∥)'.padEnd(22)} ${q(whole, 0.5).toFixed(1).padStart(6)} ms ${q(whole, 0.95).toFixed(1).padStart(6)} ms`,
);
process.exit(0);
