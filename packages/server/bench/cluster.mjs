#!/usr/bin/env node
/**
 * `npm run bench:cluster`: beacons/s and end-to-end lag through the scale-out
 * deployment (a real nats-server -js, two ingest nodes, two pipeline workers
 * with four partitions each, one api node owning DuckDB), with the embedded
 * default (one process) measured in the same run on the same load.
 *
 * Per deployment:
 * 1. Intake: N beacons of S samples over V views, sent by C concurrent
 *    clients (alternating ingest nodes in the cluster); beacons/s until the
 *    last 202.
 * 2. Drain: from the last 202 until every sample is committed by the
 *    pipeline (cluster: handed to the store stream; then until the store
 *    writer has written everything to DuckDB).
 * 3. End-to-end lag at rest: one beacon at a time, from POST to the
 *    pipeline's commit counter moving (median and max of P probes).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    beacons: { type: 'string', default: '20000' },
    samples: { type: 'string', default: '10' },
    views: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '64' },
    probes: { type: 'string', default: '20' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(`usage: npm run bench:cluster -- [--beacons N] [--samples S] [--views V] [--concurrency C] [--probes P]
  --beacons      beacons sent to each deployment (default 20000)
  --samples      samples per beacon (default 10)
  --views        distinct views the beacons belong to (default 2000)
  --concurrency  requests in flight (default 64)
  --probes       single beacons timed for the lag at rest (default 20)`);
  process.exit(0);
}
const N = Number(args.beacons);
const S = Number(args.samples);
const V = Number(args.views);
const C = Number(args.concurrency);
const P = Number(args.probes);

const { makeBeacon, makeSample } = await import('@openqoe/schema');
const CLI = new URL('../dist/cli.js', import.meta.url).pathname;
const children = [];
const dirs = [];

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

function tempDir(name) {
  const d = mkdtempSync(join(tmpdir(), `openqoe-bench-${name}-`));
  dirs.push(d);
  return d;
}

const CONFIG = {
  logLevel: 'warn',
  intake: {
    rateLimit: { perIpPerSecond: 0, perEnvKeyPerSecond: 0 },
    // Throughput runs: the caps on new views (intake.views) off, as the rate limits are.
    views: { maxInProgressPerEnv: 0, newPerSecondPerEnv: 0, maxInMemory: 100_000_000 },
  },
  live: { rtmp: { port: 0 } },
  demo: { enabled: false },
};

/** Starts `openqoe serve` with extra args; resolves with its URL once it listens. */
function serve(name, extra = []) {
  const dataDir = tempDir(name);
  writeFileSync(join(dataDir, 'config.json'), JSON.stringify(CONFIG));
  const child = spawn(
    process.execPath,
    [CLI, 'serve', '--port', '0', '--data-dir', dataDir, '--config', join(dataDir, 'config.json'), ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (d) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ name, url: m[1].replace('localhost', '127.0.0.1'), dataDir, child });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}:\n${out}`)));
  });
}

async function startNats() {
  const dir = tempDir('nats');
  const port = await freePort();
  // Larger messages than the 1 MB default, as docs/deploy.md recommends.
  writeFileSync(join(dir, 'nats.conf'), 'max_payload: 8MB\n');
  const child = spawn(
    'nats-server',
    ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir, '-c', join(dir, 'nats.conf')],
    {
      stdio: 'ignore',
    },
  );
  children.push(child);
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((r) => {
      const s = createServer();
      s.once('error', () => r(true));
      s.listen(port, '127.0.0.1', () => s.close(() => r(false)));
    });
    if (ok) return `nats://127.0.0.1:${port}`;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('nats-server did not start');
}

async function metric(url, series) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

const stored = async (nodes) => {
  let n = 0;
  for (const node of nodes) n += await metric(node.url, 'openqoe_pipeline_samples_stored_total');
  return n;
};

async function until(check, timeoutMs = 600_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('timed out');
}

function beaconBody(key, viewIndex, seq, run) {
  const viewId = `${run}-v${viewIndex}`;
  const samples = [];
  for (let i = 0; i < S; i++)
    samples.push(makeSample({ viewId, sequenceNumber: seq + i, timestamp: Date.now() - 10_000 + i * 1000 }));
  return JSON.stringify(makeBeacon({ envKey: key, sentAt: Date.now(), samples, events: [] }));
}

async function post(url, body) {
  const res = await fetch(`${url}/v1/beacon`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body,
  });
  await res.arrayBuffer();
  if (res.status !== 202) throw new Error(`beacon refused: ${res.status}`);
}

/** Runs the load against `targets` (round robin) and times the pipeline nodes' commits. */
async function measure(label, key, targets, pipelines, storeDrained) {
  const run = `${label}-${Date.now()}`;
  const seqs = new Array(V).fill(0);
  const before = await stored(pipelines);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: C }, async () => {
      for (;;) {
        const i = next++;
        if (i >= N) return;
        const v = i % V;
        const body = beaconBody(key, v, seqs[v], run);
        seqs[v] += S;
        await post(targets[i % targets.length].url, body);
      }
    }),
  );
  const intakeS = (performance.now() - started) / 1000;
  await until(async () => (await stored(pipelines)) - before >= N * S);
  const drainedS = (performance.now() - started) / 1000;
  if (storeDrained) await until(storeDrained);
  const storedS = (performance.now() - started) / 1000;

  // Lag at rest: one beacon, then the pipeline's commit counter.
  const lags = [];
  for (let p = 0; p < P; p++) {
    const base = await stored(pipelines);
    const t = performance.now();
    await post(targets[p % targets.length].url, beaconBody(key, V + p, 0, `${run}-probe`));
    await until(async () => (await stored(pipelines)) > base);
    lags.push(performance.now() - t);
  }
  lags.sort((a, b) => a - b);
  return {
    label,
    intakeBeaconsPerS: Math.round(N / intakeS),
    pipelineSamplesPerS: Math.round((N * S) / drainedS),
    drainAfterLastAckMs: Math.round((drainedS - intakeS) * 1000),
    storedAfterLastAckMs: Math.round((storedS - intakeS) * 1000),
    lagMedianMs: Math.round(lags[Math.floor(lags.length / 2)]),
    lagMaxMs: Math.round(lags[lags.length - 1]),
  };
}

const cleanup = () => {
  for (const c of children) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
};
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

try {
  console.log(
    `bench:cluster: ${N} beacons × ${S} samples over ${V} views, ${C} in flight; ${cpus().length} cores (${cpus()[0]?.model ?? '?'})`,
  );
  const results = [];

  // Embedded default: one process.
  const embedded = await serve('embedded');
  const ekey = JSON.parse(readFileSync(join(embedded.dataDir, 'bootstrap.json'), 'utf8')).environment.key;
  const healthz = async (node) => (await (await fetch(`${node.url}/healthz`)).json()).bus.backlog_bytes === 0;
  results.push(await measure('embedded (1 process)', ekey, [embedded], [embedded], () => healthz(embedded)));
  embedded.child.kill('SIGTERM');

  // Scale-out: nats-server, api, 2 ingest, 2 workers.
  const bus = await startNats();
  const api = await serve('api', ['--role', 'api', '--bus', bus]);
  const ingest = await Promise.all(
    [1, 2].map((i) => serve(`ingest${i}`, ['--role', 'ingest', '--bus', bus])),
  );
  const workers = await Promise.all(
    ['0-3', '4-7'].map((p, i) =>
      serve(`worker${i + 1}`, ['--role', 'pipeline', '--bus', bus, '--partitions', p]),
    ),
  );
  const ckey = JSON.parse(readFileSync(join(api.dataDir, 'bootstrap.json'), 'utf8')).environment.key;
  // The ingest nodes learn the environment from the api node.
  await until(async () => {
    try {
      await post(ingest[0].url, beaconBody(ckey, 0, 0, 'warmup'));
      await post(ingest[1].url, beaconBody(ckey, 1, 0, 'warmup'));
      return true;
    } catch {
      return false;
    }
  }, 30_000);
  results.push(await measure('NATS: 2 ingest + 2 workers + api', ckey, ingest, workers, () => healthz(api)));

  console.log('');
  console.log(
    '| deployment | intake beacons/s | pipeline samples/s | drained after last 202 | in DuckDB after last 202 | lag at rest median / max |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const r of results)
    console.log(
      `| ${r.label} | ${r.intakeBeaconsPerS} | ${r.pipelineSamplesPerS} | ${r.drainAfterLastAckMs} ms | ${r.storedAfterLastAckMs} ms | ${r.lagMedianMs} / ${r.lagMaxMs} ms |`,
    );
} finally {
  cleanup();
}
