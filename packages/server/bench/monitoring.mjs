#!/usr/bin/env node
/**
 * `npm run bench:monitoring`: N concurrent synthetic views (default 10 000)
 * through the real view model and monitoring stage, one 1 s sample each per
 * second of event time, windows of 1 s, delivered to a real file sink
 * (protobuf) and, with --nats-port, to a running `nats-server -js`.
 * Prints encode throughput (records and bytes per second of the emission
 * work) and the lag from each window's emission point (end + allowed
 * lateness) to the sink's acknowledgement (p50/p99/max).
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
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(`usage: npm run bench:monitoring -- [--views N] [--seconds S] [--format protobuf|json]`);
  process.exit(0);
}
const dist = '../dist';
const { ActiveViews, DEFAULT_TIMERS } = await import(`${dist}/pipeline/view-model/active-views.js`);
const { nativeItems } = await import(`${dist}/pipeline/view-model/normalize-native.js`);
const { MonitoringStage } = await import(`${dist}/pipeline/monitoring/monitoring-stage.js`);

const N = Number(args.views);
const S = Number(args.seconds);
const dir = mkdtempSync(join(tmpdir(), 'openqoe-bench-mon-'));
const views = new ActiveViews(DEFAULT_TIMERS);
const registry = new Registry();
const INTERVAL = 1000;
const LATENESS = 200;
const sinkCommon = { bufferMaxBytes: 1 << 30, retryInitialDelayMs: 50, retryMaxDelayMs: 500 };
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
  views,
  minStallMs: 250,
  registry,
  log: { info() {}, warn: console.warn, error: console.error },
});

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
  stage.batch(applied);
  const t = performance.now();
  stage.tick(Date.now());
  emitMs += performance.now() - t;
}
// Let the last windows fall due and drain.
await new Promise((r) => setTimeout(r, INTERVAL + LATENESS + 100));
let t = performance.now();
stage.tick(Date.now());
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
