#!/usr/bin/env node
/**
 * `npm run bench:pipeline`: how fast the pipeline turns logged beacons into
 * stored rows and view state, on one core, and how much memory one active
 * view costs.
 *
 * 1. Throughput: N beacons of 20 samples are written to a real log first;
 *    then the real consumer (decode from disk → de-duplicate → raw rows and
 *    checkpoint in DuckDB → view model) drains them, timed. The process pins
 *    itself to one core (taskset) so DuckDB's threads share it too.
 * 2. Memory: 10 000 views, each fed a realistic start (play request, startup,
 *    playing samples), held in ActiveViews; heap after GC with them minus
 *    heap after GC without them, divided by 10 000. Target ≤ 2 KB.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    beacons: { type: 'string', default: '20000' },
    views: { type: 'string', default: '10000' },
    core: { type: 'string', default: '1' },
    child: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(`usage: npm run bench:pipeline -- [--beacons N] [--views N] [--core C]
  --beacons  beacons of 20 samples drained through the pipeline (default 20000)
  --views    active views held for the memory measurement (default 10000)
  --core     CPU core to pin to (default 1)`);
  process.exit(0);
}

// Re-run pinned to one core with an exposed GC; the child does the work.
if (!args.child) {
  const node = [
    process.execPath,
    '--expose-gc',
    import.meta.filename,
    '--child',
    '--beacons',
    args.beacons,
    '--views',
    args.views,
  ];
  const hasTaskset = spawnSync('sh', ['-c', 'command -v taskset'], { stdio: 'ignore' }).status === 0;
  const cmd = hasTaskset ? ['taskset', '-c', args.core, ...node] : node;
  execFileSync(cmd[0], cmd.slice(1), { stdio: 'inherit' });
  process.exit(0);
}

const dist = (p) => new URL(`../dist/${p}`, import.meta.url).href;
const { makeSample, makeEvent, makeBeacon } = await import('@openqoe/schema');
const { EmbeddedLog } = await import(dist('bus/embedded/embedded-log.js'));
const { DuckDBStore } = await import(dist('store/duckdb/duckdb-store.js'));
const { IntakeConsumer } = await import(dist('pipeline/intake-consumer.js'));
const { ActiveViews } = await import(dist('pipeline/view-model/active-views.js'));
const { nativeItems } = await import(dist('pipeline/view-model/normalize-native.js'));
const { encodeIntakeRecord } = await import(dist('bus/intake-record.js'));
const { createMetrics } = await import(dist('observability/metrics.js'));

const dir = mkdtempSync(join(tmpdir(), 'openqoe-bench-pipeline-'));
const BEACONS = Number(args.beacons);
const PER = 20;

function beaconOf(i, now) {
  const viewId = `bench-view-${Math.floor(i / 5)}`;
  const first = (i % 5) * PER;
  const samples = Array.from({ length: PER }, (_, k) =>
    makeSample({
      viewId,
      sequenceNumber: first + k,
      state: first + k === 0 ? 'startup' : 'playing',
      timestamp: now + (first + k) * 10_000,
      durationMs: 10_000,
      viewerTime: now + (first + k + 1) * 10_000,
    }),
  );
  return makeBeacon({ envKey: 'k', sentAt: now, samples });
}

try {
  // 1. Throughput.
  const log = await EmbeddedLog.open(join(dir, 'log'), {
    segmentBytes: 64 << 20,
    maxBacklogBytes: 8 << 30,
    memoryTailBytes: 1 << 20,
    groupCommitMaxDelayMs: 0,
    fsync: false,
    maxBatchRecords: 5000,
    retainMs: 0,
  });
  const now = Date.now();
  console.log(`writing ${BEACONS} beacons (${BEACONS * PER} samples) to the log…`);
  for (let i = 0; i < BEACONS; i += 500) {
    const batch = [];
    for (let j = i; j < Math.min(BEACONS, i + 500); j++) {
      const text = JSON.stringify(beaconOf(j, now));
      const meta = {
        kind: 'native',
        envId: 'env',
        receivedAtMs: now,
        clockOffsetMs: 0,
        ip: '127.0.0.1',
        userAgent: 'bench',
      };
      batch.push(log.publish('k', encodeIntakeRecord(meta, Buffer.from(text))));
    }
    await Promise.all(batch);
  }
  await log.close();

  // Reopened, the log has nothing in memory: the consumer decodes every record from disk, as after a restart.
  const reopened = await EmbeddedLog.open(join(dir, 'log'), {
    segmentBytes: 64 << 20,
    maxBacklogBytes: 8 << 30,
    memoryTailBytes: 1 << 20,
    groupCommitMaxDelayMs: 0,
    fsync: true,
    maxBatchRecords: 5000,
    retainMs: 0,
  });
  const store = await DuckDBStore.open({
    path: join(dir, 'bench.duckdb'),
    checkpointThreshold: '256MB',
    memoryLimit: '',
    threads: 0,
  });
  const views = new ActiveViews();
  const metrics = createMetrics();
  const consumer = new IntakeConsumer(reopened, store, views, metrics, {
    dedupeRetentionMs: 3_900_000,
    viewTickIntervalMs: 1000,
  });
  const started = performance.now();
  await consumer.start();
  await consumer.caughtUp();
  const seconds = (performance.now() - started) / 1000;
  const stored = (await metrics.registry.getSingleMetric('openqoe_pipeline_samples_stored_total').get())
    .values[0].value;
  await consumer.stop();
  await reopened.close();
  await store.close();
  console.log(
    `\npipeline: ${stored} samples in ${seconds.toFixed(2)} s → ${Math.round(stored / seconds)} samples/s on one core`,
  );
  console.log(`          (${views.size} active views after the run)`);

  // 2. Memory per active view.
  const VIEWS = Number(args.views);
  const gcHeap = () => {
    for (let i = 0; i < 3; i++) globalThis.gc();
    return process.memoryUsage().heapUsed;
  };
  // Realistic dimensions: shared titles and players, distinct ids.
  const titles = Array.from({ length: 200 }, (_, i) => `Episode ${i}: a title of ordinary length`);
  const memViews = new ActiveViews();
  // The real-time tracker follows every view in the default server, so its share is counted too.
  const { RealtimeTracker } = await import(dist('pipeline/realtime/realtime-tracker.js'));
  const { PipelineEvents } = await import(dist('pipeline/pipeline-events.js'));
  const memTracker = new RealtimeTracker(memViews, { tickMs: 5000, attemptWindowMs: 60_000 });
  const memEvents = new PipelineEvents(memViews);
  memTracker.subscribe(memEvents);
  const arrival = {
    envId: 'env',
    receivedAtMs: now,
    clockOffsetMs: 0,
    ip: '198.51.100.7',
    userAgent: 'Mozilla/5.0',
  };
  // Each view's beacon is made and parsed inside the loop, as the pipeline receives it, so the heap
  // difference is what the views retain, not the input.
  const feed = (v) => {
    const viewId = `mem-${v}-${Math.random().toString(36).slice(2)}`;
    const base = {
      viewId,
      videoTitle: titles[v % 200],
      videoId: `video-${v % 200}`,
      viewerId: `viewer-${v}`,
      sessionId: `session-${v}`,
    };
    const samples = [
      makeSample({ ...base, sequenceNumber: 1, state: 'startup', timestamp: now, durationMs: 700 }),
      makeSample({ ...base, sequenceNumber: 2, state: 'playing', timestamp: now + 700, durationMs: 10_000 }),
      makeSample({
        ...base,
        sequenceNumber: 3,
        state: 'playing',
        timestamp: now + 10_700,
        durationMs: 10_000,
      }),
    ];
    const events = [
      makeEvent({ viewId, sequenceNumber: 0, type: 'playrequest', state: 'startup', viewerTime: now }),
    ];
    const b = JSON.parse(JSON.stringify({ samples, events }));
    const items = nativeItems(b.samples, b.events);
    memViews.apply(arrival, viewId, items);
    const beacon = { arrival, sourceViewId: viewId, view: memViews.get('env', viewId), items };
    void memEvents.deliver({ event: { beacons: [beacon], replay: false }, accepted: 0 });
  };
  feed(-1); // warm up code paths and the intern pool's first entries
  const before = gcHeap();
  for (let v = 0; v < VIEWS; v++) feed(v);
  const after = gcHeap();
  const perView = (after - before) / VIEWS;
  console.log(
    `memory: ${memViews.size} active views, heap +${((after - before) / 1024 / 1024).toFixed(1)} MiB → ${Math.round(perView)} bytes per view (target ≤ 2048)`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
