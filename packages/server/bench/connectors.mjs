#!/usr/bin/env node
import { mkdtempSync, rmSync } from 'node:fs';
/**
 * `npm run bench:connectors`: events per second through the connector stage
 * (envelope building + durable append to the disk buffer, fsync included)
 * and on to a loopback HTTP listener (batching, encoding, gzip, POST).
 *
 * Beacons of one sample and ten player events per view are applied to a real
 * ActiveViews and handed to the real ConnectorStage in pipeline-sized
 * batches, as the pipeline does. One scenario per destination format.
 */
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    batch: { type: 'string', default: '200' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(`usage: npm run bench:connectors -- [--events N] [--batch B]
  --events  player events per scenario (default 100000)
  --batch   beacons per pipeline batch handed to the stage (default 200)`);
  process.exit(0);
}

const dist = (p) => new URL(`../dist/${p}`, import.meta.url).href;
const { makeSample, makeEvent } = await import('@openqoe/schema');
const { ActiveViews } = await import(dist('pipeline/view-model/active-views.js'));
const { nativeItems } = await import(dist('pipeline/view-model/normalize-native.js'));
const { ConnectorStage } = await import(dist('outputs/connectors/connector-stage.js'));
const { PipelineEvents } = await import(dist('pipeline/pipeline-events.js'));
const { openConnectors } = await import(dist('outputs/connectors/connectors.js'));
const { createConnectorMetrics } = await import(dist('outputs/connectors/connector-metrics.js'));
const { loadConfig } = await import(dist('config/load-config.js'));

const EVENTS_PER_BEACON = 10;
const TYPES = [
  'play',
  'pause',
  'qualitychange',
  'rebufferstart',
  'rebufferend',
  'seekstart',
  'seekend',
  'play',
  'pause',
  'play',
];
const totalEvents = Number(args.events);
const beaconsPerBatch = Number(args.batch);
const quiet = { info() {}, warn: (m) => console.error(m), error: (m) => console.error(m) };

/** A loopback destination that counts events (by counting `"event_id"`) and bytes. */
async function listener() {
  let events = 0;
  let requests = 0;
  let bytes = 0;
  let onEvents = () => {};
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      let body = Buffer.concat(chunks);
      bytes += body.length;
      if (req.headers['content-encoding'] === 'gzip') body = (await import('node:zlib')).gunzipSync(body);
      const text = body.toString();
      let n = 0;
      for (let i = text.indexOf('"event_id"'); i !== -1; i = text.indexOf('"event_id"', i + 1)) n++;
      events += n;
      requests++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      onEvents();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    stats: () => ({ events, requests, bytes }),
    waitFor: (target) =>
      new Promise((resolve) => {
        onEvents = () => events >= target && resolve();
        onEvents();
      }),
    close: () => new Promise((r) => server.close(r)),
  };
}

async function scenario(name, connectorConfig) {
  const dir = mkdtempSync(join(tmpdir(), 'openqoe-bench-connectors-'));
  const sink = await listener();
  const config = loadConfig({
    env: {},
    // A buffer big enough for the whole run: the stage may outpace delivery, and nothing may be dropped.
    flags: {
      connectors: [{ name: 'bench', url: sink.url, bufferMaxBytes: 2 ** 31, ...connectorConfig(sink.url) }],
    },
  });
  const views = new ActiveViews();
  const metrics = createConnectorMetrics(new Registry());
  process.env.BENCH_TOKEN = 'bench-token';
  const connectors = await openConnectors(config.connectors, { dataDir: dir, views, metrics, log: quiet });
  const stage = new ConnectorStage(connectors, views, metrics, quiet);
  const pipelineEvents = new PipelineEvents(views);
  stage.subscribe(pipelineEvents);

  const beacons = Math.ceil(totalEvents / EVENTS_PER_BEACON);
  const views_ = Math.max(1, Math.floor(beacons / 20));
  const t0 = Date.now() - 3_600_000;
  const seqs = new Array(views_).fill(0);
  const started = performance.now();
  let stageMs = 0;
  for (let b = 0; b < beacons; ) {
    const applied = [];
    for (let k = 0; k < beaconsPerBatch && b < beacons; k++, b++) {
      const v = b % views_;
      const viewId = `bench-view-${v}`;
      const base = seqs[v];
      const at = t0 + base * 1000;
      const samples = [
        makeSample({ viewId, sequenceNumber: base, viewerTime: at, timestamp: at - 1000, durationMs: 1000 }),
      ];
      const events = TYPES.map((type, i) =>
        makeEvent({
          viewId,
          sequenceNumber: base + 1 + i,
          type,
          viewerTime: at + i,
          videoBitrateBps: type === 'qualitychange' ? 5_000_000 : 0,
        }),
      );
      seqs[v] = base + 1 + EVENTS_PER_BEACON;
      const arrival = {
        envId: 'env-bench',
        receivedAtMs: Date.now(),
        clockOffsetMs: 0,
        ip: '192.0.2.1',
        userAgent: 'Mozilla/5.0',
      };
      const items = nativeItems(samples, events);
      views.apply(arrival, viewId, items);
      applied.push({ arrival, sourceViewId: viewId, view: views.get('env-bench', viewId), items });
    }
    const s0 = performance.now();
    await pipelineEvents.deliver({ event: { beacons: applied, replay: false }, accepted: 0 });
    stageMs += performance.now() - s0;
  }
  const events = beacons * EVENTS_PER_BEACON;
  await sink.waitFor(events);
  const deliveredMs = performance.now() - started;
  const s = sink.stats();
  console.log(
    `${name.padEnd(28)} ${String(events).padStart(8)} events | batchApplied (envelopes + fsync'd append): ` +
      `${Math.round(events / (stageMs / 1000))
        .toLocaleString('en-US')
        .padStart(9)} events/s | ` +
      `delivered: ${Math.round(events / (deliveredMs / 1000))
        .toLocaleString('en-US')
        .padStart(9)} events/s | ` +
      `${s.requests} requests, ${(s.bytes / events).toFixed(0)} B/event on the wire`,
  );
  await stage.close();
  await sink.close();
  rmSync(dir, { recursive: true, force: true });
}

console.log(
  `node ${process.version}, ${totalEvents} events per scenario, ${beaconsPerBatch} beacons per stage batch`,
);
await scenario('webhook (JSON array)', () => ({ type: 'webhook', batchMaxDelayMs: 50 }));
await scenario('webhook (gzip)', () => ({ type: 'webhook', compression: 'gzip', batchMaxDelayMs: 50 }));
await scenario('splunk_hec (gzip)', () => ({
  type: 'splunk_hec',
  token: { env: 'BENCH_TOKEN' },
  batchMaxDelayMs: 50,
}));
await scenario('new_relic (gzip, flattened)', () => ({
  type: 'new_relic',
  apiKey: { env: 'BENCH_TOKEN' },
  batchMaxDelayMs: 50,
}));
