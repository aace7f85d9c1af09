#!/usr/bin/env node
/**
 * `npm run bench:alerts`: what alerting costs and how fast it pages, on the
 * real server with views in progress from the live generator
 * (`openqoe generate --live`).
 *
 * 1. Evaluation cost per tick: the server's CPU over a stretch of real-time
 *    ticks (5 s, the default) without rules, then with --rules real-time
 *    rules (half over the whole environment, half broken down by
 *    --breakdown, video_title: the generator's dimension with the most
 *    values, ~500 at 10 000 views), none breaching;
 *    the difference per tick, and the engine's own measure of a tick's
 *    evaluation (`openqoe_alert_evaluation_seconds` in /metrics).
 * 2. Detection delay: a per-CDN rebuffering rule (for_seconds --for) with a
 *    webhook channel to a local listener; --runs times, the bench's own
 *    views on one CDN host start stalling (fault start) and the time to
 *    the trigger notification at the listener is recorded; they play again
 *    and the incident resolves before the next run.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeBeacon, makeSample } from '@openqoe/schema';

const { values: args } = parseArgs({
  options: {
    viewers: { type: 'string', default: '10000' },
    rules: { type: 'string', default: '1000' },
    measure: { type: 'string', default: '60' },
    runs: { type: 'string', default: '5' },
    for: { type: 'string', default: '15' },
    ramp: { type: 'string', default: '60' },
    breakdown: { type: 'string', default: 'video_title' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(`usage: npm run bench:alerts -- [--viewers N] [--rules R] [--measure S] [--runs K] [--for F] [--ramp S]
  --viewers  views in progress from openqoe generate --live (default 10000; ~0.3 GB of generator memory per 2000)
  --rules    real-time rules, half broken down (default 1000)
  --measure  seconds of ticks measured without and with the rules (default 60)
  --runs     scripted faults timed for the detection delay (default 5)
  --for      the fault rule's for_seconds (default 15)
  --ramp     seconds over which the generator starts its views (default 60)
  --breakdown  the dimension of the broken-down rules (default video_title: ~500 values at 10 000 views)`);
  process.exit(0);
}
const N = Number(args.viewers);
const RULES = Number(args.rules);
const MEASURE_S = Number(args.measure);
const RUNS = Number(args.runs);
const FOR_S = Number(args.for);
const TICK_MS = 5000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const work = mkdtempSync(join(tmpdir(), 'openqoe-bench-alerts-'));
writeFileSync(
  join(work, 'config.json'),
  JSON.stringify({
    logLevel: 'warn',
    intake: { rateLimit: { perIpPerSecond: 0, perEnvKeyPerSecond: 0 } },
    live: { rtmp: { enabled: false } },
    realtime: { tickMs: TICK_MS },
    notifications: { rateLimitPerMinute: 600 },
  }),
);
const cli = new URL('../dist/cli.js', import.meta.url).pathname;
const dataDir = join(work, 'data');
const server = spawn(
  process.execPath,
  [cli, 'serve', '--port', '0', '--data-dir', dataDir, '--config', join(work, 'config.json')],
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
const boot = JSON.parse(readFileSync(join(dataDir, 'bootstrap.json'), 'utf8'));
const auth = `Basic ${Buffer.from(`${boot.access_token.id}:${boot.access_token.secret}`).toString('base64')}`;

const api = async (method, path, body) => {
  const r = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: auth, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await r.text();
  if (r.status >= 300) throw new Error(`${method} ${path} answered ${r.status}: ${text.slice(0, 500)}`);
  return text ? JSON.parse(text) : null;
};

/** CPU seconds (user + system) a process has used, from /proc. */
const cpuSeconds = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
/** The real-time evaluation histogram's count and sum (seconds), from /metrics. */
async function evaluation() {
  const text = await (await fetch(`${url}/metrics`)).text();
  const read = (name) =>
    Number(
      new RegExp(`^openqoe_alert_evaluation_seconds_${name}\\{kind="realtime"\\} (\\S+)$`, 'm').exec(
        text,
      )?.[1] ?? 0,
    );
  const buckets = [
    ...text.matchAll(/^openqoe_alert_evaluation_seconds_bucket\{le="([^"]+)",kind="realtime"\} (\S+)$/gm),
  ].map((m) => [Number(m[1]), Number(m[2])]);
  const cpu = Number(
    /^openqoe_alert_evaluation_cpu_seconds_total\{kind="realtime"\} (\S+)$/m.exec(text)?.[1] ?? 0,
  );
  return { count: read('count'), sum: read('sum'), cpu, buckets };
}

// --- Views in progress, from the live generator ---
const generator = spawn(
  process.execPath,
  [
    cli,
    'generate',
    '--live',
    '--viewers',
    String(N),
    '--duration',
    '2h',
    '--ramp',
    `${args.ramp}s`,
    '--url',
    url,
    '--data-dir',
    dataDir,
  ],
  { stdio: ['ignore', 'ignore', 'pipe'] },
);
let genErr = '';
generator.stderr.on('data', (d) => {
  genErr += d;
});
const viewersNow = async () =>
  (await api('GET', '/data/v1/monitoring/metrics/current_concurrent_viewers/timeseries')).data.at(-1)
    ?.value ?? 0;
process.stdout.write(`waiting for ${N} views in progress `);
for (let seen = 0; seen < N * 0.95; ) {
  if (generator.exitCode !== null) throw new Error(`the generator exited: ${genErr}`);
  await sleep(2000);
  seen = await viewersNow();
  process.stdout.write(`\rwaiting for ${N} views in progress: ${seen} `);
}
console.log('ok');

// The breakdown's series at this audience, and the other dimensions' for comparison (geo
// dimensions have one value here: every view comes from 127.0.0.1).
const counts = {};
for (const d of [args.breakdown, 'cdn', 'player_name', 'operating_system', 'country']) {
  const b = await api(
    'GET',
    `/data/v1/monitoring/metrics/current_concurrent_viewers/breakdown?dimension=${d}&limit=1000`,
  );
  counts[d] = b.data.length;
}
const dim = args.breakdown;
console.log(`series per dimension: ${JSON.stringify(counts)}`);

/** Server CPU per tick and the engine's own measure, over MEASURE_S seconds. */
async function measure() {
  const e0 = await evaluation();
  const c0 = cpuSeconds(server.pid);
  const t0 = performance.now();
  const v0 = await viewersNow();
  await sleep(MEASURE_S * 1000);
  const ticks = (performance.now() - t0) / TICK_MS;
  const c1 = cpuSeconds(server.pid);
  const e1 = await evaluation();
  const evals = e1.count - e0.count;
  // The smallest bucket bound holding 95 % of this stretch's evaluations.
  const p95 = e1.buckets
    .map(([le, n], i) => [le, n - (e0.buckets[i]?.[1] ?? 0)])
    .find(([, n]) => evals > 0 && n >= 0.95 * evals)?.[0];
  return {
    cpuMsPerTick: ((c1 - c0) * 1000) / ticks,
    evals,
    evalMsMean: evals ? ((e1.sum - e0.sum) * 1000) / evals : 0,
    evalCpuMsMean: evals ? ((e1.cpu - e0.cpu) * 1000) / evals : 0,
    evalP95Bucket: (p95 ?? Number.NaN) * 1000,
    viewers: Math.round((v0 + (await viewersNow())) / 2),
  };
}
process.stdout.write(`measuring ${MEASURE_S} s without rules… `);
const bare = await measure();
console.log('ok');

const METRICS = [
  'current_concurrent_viewers',
  'current_rebuffering_percentage',
  'video_startup_failure_percentage',
  'playback_failure_percentage',
  'exits_before_video_start',
  'video_startup_time',
  'current_average_bitrate',
];
process.stdout.write(`creating ${RULES} rules (half by ${dim}, ${counts[dim]} series)… `);
for (let i = 0; i < RULES; i += 20) {
  await Promise.all(
    Array.from({ length: Math.min(20, RULES - i) }, (_, k) => {
      const n = i + k;
      const metric = METRICS[n % METRICS.length];
      // Never breaching: what is measured is the evaluation, not transitions.
      const condition =
        metric === 'current_concurrent_viewers'
          ? { type: 'threshold', operator: '<', value: 0, for_seconds: 60 }
          : { type: 'threshold', operator: '>', value: 1e12, for_seconds: 60, min_audience: 5 };
      return api('POST', '/system/v1/alert-rules', {
        name: `bench ${n}`,
        metric,
        ...(n % 2 ? { breakdown: dim } : {}),
        condition,
      });
    }),
  );
}
console.log('ok');
process.stdout.write(`measuring ${MEASURE_S} s with ${RULES} rules… `);
const ruled = await measure();
console.log('ok');
const generatorRss = rssMb(generator.pid);
const serverRss = rssMb(server.pid);

// --- Detection delay ---
const received = [];
const hook = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const at = Date.now();
    for (const b of JSON.parse(Buffer.concat(chunks).toString('utf8')).batches)
      for (const n of b.notices) received.push({ at, transition: n.transition, series: n.breakdown_value });
    res.end('ok');
  });
});
await new Promise((r) => hook.listen(0, '127.0.0.1', r));
const channel = await api('POST', '/system/v1/notification-channels', {
  name: 'bench hook',
  type: 'webhook',
  settings: { url: `http://127.0.0.1:${hook.address().port}/hook` },
});
const FAULT_HOST = 'fault.bench.example';
await api('POST', '/system/v1/alert-rules', {
  name: 'Rebuffering per CDN host',
  metric: 'current_rebuffering_percentage',
  breakdown: 'cdn',
  condition: {
    type: 'threshold',
    operator: '>',
    value: 50,
    resolve_value: 10,
    for_seconds: FOR_S,
    resolve_for_seconds: 10,
    min_audience: 10,
  },
  channel_ids: [channel.data.id],
});
/** 20 viewers on the fault host, each sending a second of its state every second. */
const FAULT_VIEWS = 20;
let stalling = false;
let faultOn = true;
const faultTraffic = (async () => {
  let seq = 0;
  let t = Date.now();
  while (faultOn) {
    const now = Date.now();
    const samples = [];
    for (let v = 0; v < FAULT_VIEWS; v++)
      samples.push(
        makeSample({
          viewId: `fault-${v}`,
          sequenceNumber: seq,
          state: seq === 0 ? 'startup' : stalling ? 'rebuffering' : 'playing',
          timestamp: t,
          durationMs: Math.max(1, now - t),
          viewerTime: now,
          cdnHost: FAULT_HOST,
          playerName: 'bench',
          streamType: 'live',
        }),
      );
    seq++;
    t = now;
    await fetch(`${url}/v1/beacon`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify(makeBeacon({ envKey: boot.environment.key, sentAt: now, samples })),
    }).catch(() => {});
    await sleep(1000);
  }
})();
await sleep(3 * TICK_MS);
const delays = [];
for (let run = 0; run < RUNS; run++) {
  process.stdout.write(`\rfault ${run + 1}/${RUNS}`);
  const before = received.length;
  stalling = true;
  const start = Date.now();
  while (!received.slice(before).some((n) => n.transition === 'trigger' && n.series === FAULT_HOST)) {
    if (Date.now() - start > 10 * 60_000) throw new Error('no trigger within 10 minutes');
    await sleep(50);
  }
  delays.push((received.slice(before).find((n) => n.transition === 'trigger').at - start) / 1000);
  stalling = false;
  while (!received.slice(before).some((n) => n.transition === 'resolve' && n.series === FAULT_HOST)) {
    if (Date.now() - start > 20 * 60_000) throw new Error('no resolve within 20 minutes');
    await sleep(100);
  }
  // A quiet tick or two before the next fault.
  await sleep(2 * TICK_MS);
}
faultOn = false;
await faultTraffic;
hook.close();
generator.kill('SIGTERM');
server.kill('SIGTERM');
await new Promise((r) => server.once('exit', r));
rmSync(work, { recursive: true, force: true });

const q = (a, p) => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
};
const f1 = (x) => x.toFixed(1);
console.log(
  `\n\nmachine              ${cpus().length} × ${cpus()[0]?.model}, ${Math.round(totalmem() / 2 ** 30)} GB, Node ${process.version}`,
);
console.log(
  `views in progress    ~${ruled.viewers} (openqoe generate --live --viewers ${N}; generator RSS ${Math.round(generatorRss)} MB, server RSS ${Math.round(serverRss)} MB)`,
);
console.log(
  `rules                ${RULES} real-time: ${Math.ceil(RULES / 2)} whole environment, ${Math.floor(RULES / 2)} by ${dim} (${counts[dim]} series each)`,
);
console.log(`tick                 ${TICK_MS / 1000} s, measured over ${MEASURE_S} s each`);
console.log(
  `server CPU per tick  ${f1(bare.cpuMsPerTick)} ms without rules, ${f1(ruled.cpuMsPerTick)} ms with: +${f1(ruled.cpuMsPerTick - bare.cpuMsPerTick)} ms`,
);
console.log(
  `evaluation CPU/tick  mean ${f1(ruled.evalCpuMsMean)} ms with the rules, ${f1(bare.evalCpuMsMean)} ms without (openqoe_alert_evaluation_cpu_seconds_total)`,
);
console.log(
  `evaluation per tick  wall: mean ${f1(ruled.evalMsMean)} ms, p95 ≤ ${f1(ruled.evalP95Bucket)} ms (openqoe_alert_evaluation_seconds, ${ruled.evals} ticks)`,
);
console.log(
  `detection delay      fault start → trigger at the webhook, for_seconds ${FOR_S}, tick ${TICK_MS / 1000} s, ${RUNS} runs:`,
);
console.log(
  `                     ${delays.map(f1).join(', ')} s; median ${f1(q(delays, 0.5))} s, p95 ${f1(q(delays, 0.95))} s (target ≤ ${FOR_S + 10} s)`,
);
process.exit(0);
