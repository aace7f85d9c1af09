#!/usr/bin/env node
/**
 * `npm run bench:monitoring`: N concurrent synthetic views (default 10 000),
 * one 1 s sample each per second of event time, windows of 1 s.
 *
 * 1. Encode throughput, in process: the real view model and monitoring
 *    stage delivering to a file sink; records per second of emission work
 *    (closing windows, building, encoding, packing, buffering with fsync).
 * 2. Lag, through the real pipeline: the `openqoe serve` CLI as a child
 *    process, beacons POSTed over HTTP, a file sink and (when `nats-server`
 *    is installed) a JetStream sink; the lag from each window's emission
 *    point (end + allowed lateness) to the sink's acknowledgement, from the
 *    server's `openqoe_monitoring_ack_lag_seconds` histogram.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeSample } from '@openqoe/schema';
import { Registry } from 'prom-client';

const { values: args } = parseArgs({
  options: {
    views: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '20' },
    format: { type: 'string', default: 'protobuf' },
    'server-seconds': { type: 'string', default: '30' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(`usage: npm run bench:monitoring -- [--views N] [--seconds S] [--server-seconds S] [--format protobuf|json]
  --views           concurrent views (default 10000)
  --seconds         event seconds of the in-process encode measurement (default 20)
  --server-seconds  seconds of traffic through the real server (default 30; 0 skips it)
  --format          payload encoding (default protobuf)`);
  process.exit(0);
}
const dist = '../dist';
const { ActiveViews, DEFAULT_TIMERS } = await import(`${dist}/pipeline/view-model/active-views.js`);
const { nativeItems } = await import(`${dist}/pipeline/view-model/normalize-native.js`);
const { MonitoringStage } = await import(`${dist}/outputs/stream/monitoring-stage.js`);
const { PipelineEvents } = await import(`${dist}/pipeline/pipeline-events.js`);

const N = Number(args.views);
const S = Number(args.seconds);
const dir = mkdtempSync(join(tmpdir(), 'openqoe-bench-mon-'));
const views = new ActiveViews(DEFAULT_TIMERS);
const events = new PipelineEvents(views);
const registry = new Registry();
const INTERVAL = 1000;
const LATENESS = 200;
const sinkCommon = {
  bufferMaxBytes: 1 << 30,
  whenFull: 'block',
  retryInitialBackoffMs: 50,
  retryMaxBackoffMs: 500,
};
const stage = await MonitoringStage.open({
  config: {
    intervalMs: INTERVAL,
    allowedLatenessMs: LATENESS,
    ebvsDelayMs: 60_000,
    maxPayloadBytes: 512 * 1024,
    partitions: 64,
    sinks: [
      {
        type: 'file',
        name: 'file',
        format: args.format,
        directory: join(dir, 'out'),
        maxFileBytes: 256 << 20,
        maxFiles: 4,
        ...sinkCommon,
      },
    ],
  },
  dataDir: dir,
  minStallMs: 250,
  registry,
  log: { info() {}, warn: console.warn, error: console.error },
});
stage.subscribe(events);
stage.startEmitting();

const seq = new Map();
let emitMs = 0;
let windowsEmitted = 0;
const start = Math.ceil(Date.now() / INTERVAL) * INTERVAL;
for (let s = 0; s < S; s++) {
  // Wait for second s of event time to pass, then feed every view its sample of that second.
  const segStart = start + s * INTERVAL;
  while (Date.now() < segStart + INTERVAL) await new Promise((r) => setTimeout(r, 5));
  const now = Date.now();
  const applied = [];
  for (let v = 0; v < N; v++) {
    const viewId = `bench-${v}`;
    const n = seq.get(viewId) ?? 0;
    seq.set(viewId, n + 1);
    const sample = makeSample({
      viewId,
      sequenceNumber: n,
      state: n === 0 ? 'startup' : v % 50 === 0 && n % 7 === 0 ? 'rebuffering' : 'playing',
      timestamp: segStart,
      durationMs: INTERVAL,
      viewerTime: segStart + INTERVAL,
    });
    const arrival = { envId: 'bench', receivedAtMs: now, clockOffsetMs: 0, ip: '', userAgent: '' };
    const items = nativeItems([sample], []);
    views.apply(arrival, viewId, items);
    applied.push({ arrival, sourceViewId: viewId, view: views.get('bench', viewId), items });
  }
  void events.deliver({ event: { beacons: applied, replay: false }, accepted: 0 });
  const t = performance.now();
  stage.tick(Date.now());
  // Until the payloads are durable (the append and its fsync run after tick returns).
  await stage.flushed();
  emitMs += performance.now() - t;
}
// Let the last windows fall due and drain.
await new Promise((r) => setTimeout(r, INTERVAL + LATENESS + 100));
let t = performance.now();
stage.tick(Date.now());
await stage.flushed();
emitMs += performance.now() - t;
for (let i = 0; i < 600; i++) {
  const buffered = (await stage.metrics.buffered.get()).values.every((v) => v.value === 0);
  if (buffered) break;
  await new Promise((r) => setTimeout(r, 50));
}
const records = (await stage.metrics.records.get()).values.reduce((a, v) => a + v.value, 0);
const bytes = (await stage.metrics.bytesSent.get()).values.reduce((a, v) => a + v.value, 0);
const lag = (await stage.metrics.ackLag.get()).values;
const buckets = lag.filter((v) => v.metricName?.endsWith('_bucket'));
const count = lag.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
const q = (p) => buckets.find((b) => b.value >= p * count)?.labels.le;
windowsEmitted = records;
await stage.close();
rmSync(dir, { recursive: true, force: true });
t = 0;
console.log('1. in process: view model + monitoring stage → file sink');
console.log(`views                ${N}`);
console.log(
  `event seconds        ${S} (windows of ${INTERVAL} ms, lateness ${LATENESS} ms, format ${args.format})`,
);
console.log(`records emitted      ${windowsEmitted}`);
console.log(`emission work        ${emitMs.toFixed(0)} ms (window close + encode + buffer fsync)`);
console.log(
  `encode throughput    ${Math.round(windowsEmitted / (emitMs / 1000))} records/s, ${(bytes / (emitMs / 1000) / 1e6).toFixed(1)} MB/s`,
);
console.log(`payloads acked       ${count}`);
console.log(`lag emission→ack     p50 ≤ ${q(0.5)} s, p99 ≤ ${q(0.99)} s (histogram bucket bounds)`);

// 2. Through the real server.
const SS = Number(args['server-seconds']);
if (SS > 0) await throughServer(SS);

async function throughServer(seconds) {
  const { spawn, spawnSync } = await import('node:child_process');
  const { createServer } = await import('node:net');
  const { writeFileSync } = await import('node:fs');
  const { makeBeacon } = await import('@openqoe/schema');
  const freePort = () =>
    new Promise((r) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = s.address().port;
        s.close(() => r(p));
      });
    });
  const work = mkdtempSync(join(tmpdir(), 'openqoe-bench-mon-srv-'));
  const children = [];
  const sinks = [{ type: 'file', name: 'file', format: args.format, directory: join(work, 'stream') }];
  if (spawnSync('sh', ['-c', 'command -v nats-server'], { stdio: 'ignore' }).status === 0) {
    const port = await freePort();
    children.push(
      spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', join(work, 'nats')], {
        stdio: 'ignore',
      }),
    );
    sinks.push({
      type: 'nats',
      name: 'nats',
      format: args.format,
      servers: `nats://127.0.0.1:${port}`,
      subject: 'bench.samples',
      stream: 'BENCH',
    });
  }
  const config = {
    logLevel: 'warn',
    intake: {
      rateLimit: { perIpPerSecond: 0, perEnvKeyPerSecond: 0 },
      // Throughput runs: the caps on new views (intake.views) off, as the rate limits are.
      views: { maxInProgressPerEnv: 0, newPerSecondPerEnv: 0, maxInMemory: 100_000_000 },
    },
    monitoring: { intervalMs: 1000, allowedLatenessMs: 2000, sinks },
  };
  writeFileSync(join(work, 'config.json'), JSON.stringify(config));
  const cli = new URL('../dist/cli.js', import.meta.url).pathname;
  const server = spawn(
    process.execPath,
    [cli, 'serve', '--port', '0', '--data-dir', join(work, 'data'), '--config', join(work, 'config.json')],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(server);
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
  const key = JSON.parse((await import('node:fs')).readFileSync(join(work, 'data', 'bootstrap.json'), 'utf8'))
    .environment.key;
  const PER_BEACON = 500;
  const startAt = Math.ceil(Date.now() / 1000) * 1000 + 1000;
  let posted = 0;
  let maxBacklog = 0;
  for (let s = 0; s < seconds; s++) {
    const segStart = startAt + s * 1000;
    while (Date.now() < segStart + 1000) await new Promise((r) => setTimeout(r, 2));
    const posts = [];
    for (let v0 = 0; v0 < N; v0 += PER_BEACON) {
      const samples = [];
      for (let v = v0; v < Math.min(N, v0 + PER_BEACON); v++) {
        samples.push(
          makeSample({
            viewId: `srv-${v}`,
            sequenceNumber: s,
            state: s === 0 ? 'startup' : 'playing',
            timestamp: segStart,
            durationMs: 1000,
            viewerTime: segStart + 1000,
          }),
        );
      }
      const body = JSON.stringify(makeBeacon({ envKey: key, sentAt: Date.now(), samples }));
      posts.push(
        fetch(`${url}/v1/beacon`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body }).then(
          async (r) => {
            await r.arrayBuffer();
            if (r.status !== 202) throw new Error(`beacon answered ${r.status}`);
            posted += samples.length;
          },
        ),
      );
    }
    await Promise.all(posts);
    const health = await (await fetch(`${url}/healthz`)).json();
    maxBacklog = Math.max(maxBacklog, health.bus?.backlog_bytes ?? 0);
  }
  // Let the last windows fall due and the sinks drain.
  await new Promise((r) => setTimeout(r, 3000));
  const text = await (await fetch(`${url}/metrics`)).text();
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  for (const c of children.slice(0, -1)) c.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });

  console.log('\n2. through the real server: HTTP intake → log → pipeline → monitoring stage → sinks');
  console.log(
    `views                ${N} (${seconds} s of traffic, ${posted} samples posted, windows of 1000 ms, lateness 2000 ms)`,
  );
  const value = (name, labels) =>
    Number(
      text
        .split('\n')
        .find((l) => l.startsWith(`${name}{${labels}}`))
        ?.split(' ')
        .pop() ?? 0,
    );
  console.log(`records emitted      ${value('openqoe_monitoring_records_total', 'kind="window"')}`);
  console.log(
    `pipeline backlog     max ${(maxBacklog / 1e6).toFixed(1)} MB behind the log (sampled once a second)`,
  );
  const late = Number(/^openqoe_monitoring_late_records_total (\S+)$/m.exec(text)?.[1] ?? 0);
  console.log(`late (not emitted)   ${late}`);
  for (const sink of sinks.map((x) => x.name)) {
    const bucketLines = text
      .split('\n')
      .filter(
        (l) => l.startsWith('openqoe_monitoring_ack_lag_seconds_bucket{') && l.includes(`sink="${sink}"`),
      );
    const buckets = bucketLines.map((l) => ({
      le: /le="([^"]+)"/.exec(l)[1],
      count: Number(l.split(' ').pop()),
    }));
    const total = buckets.at(-1)?.count ?? 0;
    const quantile = (p) => buckets.find((b) => b.count >= p * total)?.le;
    const sum = Number(
      text
        .split('\n')
        .find((l) => l.startsWith(`openqoe_monitoring_ack_lag_seconds_sum{sink="${sink}"}`))
        ?.split(' ')
        .pop() ?? 0,
    );
    console.log(
      `lag ${sink.padEnd(5)}            ${total} payloads; mean ${(total ? (sum / total) * 1000 : 0).toFixed(0)} ms, p50 ≤ ${quantile(0.5)} s, p99 ≤ ${quantile(0.99)} s`,
    );
  }
}
