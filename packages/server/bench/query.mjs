#!/usr/bin/env node
/**
 * `npm run bench:query`: how fast the query API answers over a month of
 * history.
 *
 * 1. Starts `openqoe serve` on its own temporary data dir (rate limits off,
 *    ended views leaving memory after 1 s, the shortest de-duplication
 *    memory) and, when the Perl MaxMind writer is installed, a small geo
 *    database for the generator's per-country addresses so `country` is
 *    filled (trustProxy on: the generator sends X-Forwarded-For).
 * 2. Runs `openqoe generate --days 30` as a child process (its progress
 *    shows) and waits until the pipeline has drained: log backlog 0 and every
 *    view stored. Prints both throughputs.
 * 3. Sends a randomised, seeded set of queries one at a time over HTTP with
 *    the admin token — overall, timeseries, breakdown, views list, one view —
 *    with random metrics, measurements, dimensions, 0–2 filters whose values
 *    come from the generator's distribution, and timeframes from 1 hour to
 *    30 days inside the generated month. Prints median and p95 per kind
 *    against the targets (median ≤ 300 ms, p95 ≤ 1 s) and the data size.
 *
 * `--store duckdb,chdb` runs all of it once per store (each on its own data
 * dir, same seed, same query plan) and prints the latencies side by side:
 * the embedded DuckDB default and ClickHouse on the embedded chDB engine
 * (tools/chdb; `clickhouse://…` URLs work too).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    views: { type: 'string', default: '1000000' },
    queries: { type: 'string', default: '50' },
    days: { type: 'string', default: '30' },
    seed: { type: 'string', default: '1' },
    keep: { type: 'boolean', default: false },
    reuse: { type: 'string' },
    store: { type: 'string', default: 'duckdb' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(`usage: npm run bench:query -- [--views N] [--queries Q] [--days D] [--seed S] [--keep]
  --views    synthetic views generated (default 1000000)
  --queries  queries timed, spread evenly over the five kinds (default 50)
  --days     history the views are spread over (default 30)
  --seed     seed of the generator and of the query mix (default 1)
  --keep     keep the temporary data dir (its path is printed)
  --reuse D  time the queries on the data dir D kept by an earlier --keep run, without generating
             (so the slow generation and the timing can run at different times)
  --store S  comma-separated stores to run on, each from scratch with the same data and queries:
             duckdb (default), chdb (ClickHouse embedded, needs tools/chdb), clickhouse://host:8123/db`);
  process.exit(0);
}
const VIEWS = Number(args.views);
const QUERIES = Number(args.queries);
const DAYS = Number(args.days);
const SEED = Number(args.seed);
const STORES = args.store
  .split(',')
  .map((x) => x.trim())
  .filter(Boolean);
const storeArg = (st) => (st === 'duckdb' ? [] : ['--store', st === 'chdb' ? 'chdb:' : st]);
const storeLabel = (st) => (st === 'chdb' ? 'ClickHouse (chDB)' : st === 'duckdb' ? 'DuckDB' : st);
if (args.reuse && STORES.length > 1) {
  console.error('bench:query: --reuse times one store; pass one --store');
  process.exit(2);
}
for (const [flag, v] of [
  ['--views', VIEWS],
  ['--queries', QUERIES],
  ['--days', DAYS],
]) {
  if (!Number.isFinite(v) || v <= 0) {
    console.error(`bench:query: ${flag} must be a positive number`);
    process.exit(2);
  }
}

const dist = (p) => new URL(`../dist/${p}`, import.meta.url);
const CLI = dist('cli.js').pathname;
const sv = await import('@openqoe/generator');
const { VIEW_METRIC_IDS } = await import('@openqoe/schema');
const { Enricher } = await import(dist('pipeline/enrich/enricher.js').href);

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const root = args.reuse ?? mkdtempSync(join(tmpdir(), 'openqoe-bench-query-'));
/** The data dir of the store being timed (one per store when several are compared). */
let dir = root;
/** What a --reuse run needs to know of the generation: written next to the data. */
let META = join(dir, 'bench-query.json');
if (args.reuse && !existsSync(META)) {
  console.error(
    `bench:query: ${args.reuse} holds no ${META}: pass a data dir kept by an earlier run with --keep`,
  );
  process.exit(2);
}
const children = new Set();
let cleanedUp = false;
function cleanup() {
  if (cleanedUp) return;
  cleanedUp = true;
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  if (args.keep || args.reuse) console.log(`data dir kept: ${root}`);
  else rmSync(root, { recursive: true, force: true });
}
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

const fmtBytes = (n) =>
  n >= 2 ** 30
    ? `${(n / 2 ** 30).toFixed(2)} GiB`
    : n >= 2 ** 20
      ? `${(n / 2 ** 20).toFixed(1)} MiB`
      : `${n} B`;
const fmtSeconds = (s) => (s >= 120 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(1)} s`);

/** A small City-style database mapping each generator country's /48 to that country; undefined without Perl's writer. */
function buildGeoDatabase() {
  if (spawnSync('perl', ['-MMaxMind::DB::Writer::Tree', '-e1'], { stdio: 'ignore' }).status !== 0) {
    console.log(
      'geo: the Perl MaxMind writer is missing (apt-get install libmaxmind-db-writer-perl): country stays empty',
    );
    return undefined;
  }
  const networks = Object.fromEntries(sv.COUNTRIES.map(([code], i) => [sv.countryNetwork(i), code]));
  const script = join(dir, 'geo.pl');
  const out = join(dir, 'bench-geo.mmdb');
  writeFileSync(
    script,
    `use strict; use warnings; use MaxMind::DB::Writer::Tree; use JSON::PP;
my ($out, $json) = @ARGV;
my $networks = decode_json($json);
my %types = (country => 'map', iso_code => 'utf8_string');
my $tree = MaxMind::DB::Writer::Tree->new(
  ip_version => 6, record_size => 24, database_type => 'GeoIP2-Country', languages => ['en'],
  description => { en => 'openqoe bench:query countries' },
  # The generator's addresses are in 2001:db8::/32, a documentation range the writer drops by default.
  remove_reserved_networks => 0,
  map_key_type_callback => sub { $types{ $_[0] } // die "no type for $_[0]\\n" },
);
$tree->insert_network($_, { country => { iso_code => $networks->{$_} } }) for sort keys %$networks;
open my $fh, '>:raw', $out or die "cannot write $out: $!\\n";
$tree->write_tree($fh);
close $fh or die "cannot write $out: $!\\n";
`,
  );
  execFileSync('perl', [script, out, JSON.stringify(networks)], { stdio: 'inherit' });
  return out;
}

function startServer(configFile, store) {
  const child = spawn(
    process.execPath,
    [CLI, 'serve', '--port', '0', '--data-dir', dir, '--config', configFile, ...storeArg(store)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.add(child);
  let out = '';
  const exited = new Promise((r) => child.once('exit', (code, signal) => r(code ?? signal)));
  const url = new Promise((resolve, reject) => {
    const onData = (d) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1].replace('localhost', '127.0.0.1'));
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => reject(new Error(`server exited (${code}):\n${out}`)));
  });
  return { child, url, exited, output: () => out };
}

async function metric(url, name) {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
}

/** Runs `openqoe generate` with its progress on our stderr; resolves with its summary line. */
function runGenerate(url) {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'generate',
      '--url',
      url,
      '--data-dir',
      dir,
      '--views',
      String(VIEWS),
      '--days',
      String(DAYS),
    ].concat(['--seed', String(SEED)]),
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.add(child);
  let out = '';
  child.stdout.on('data', (d) => {
    out += d.toString();
    process.stdout.write(d);
  });
  return new Promise((resolve, reject) =>
    child.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`generate exited with ${code}`)),
    ),
  );
}

async function waitDrained(url, sinceMs) {
  let lastReport = 0;
  for (;;) {
    const health = await (await fetch(`${url}/healthz`)).json();
    const stored = await metric(url, 'openqoe_pipeline_views_stored_total');
    if (health.bus.backlog_bytes === 0 && stored >= VIEWS) return stored;
    if (Date.now() - lastReport >= 10_000) {
      lastReport = Date.now();
      const s = (Date.now() - sinceMs) / 1000;
      console.log(
        `pipeline: ${stored}/${VIEWS} views stored after ${fmtSeconds(s)}, log backlog ${fmtBytes(health.bus.backlog_bytes)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Waits until the ClickHouse rollup has no dirty hours left (a backfill leaves every hour dirty). */
async function waitRollup(url) {
  const started = Date.now();
  let lastReport = 0;
  for (;;) {
    const refreshed = await metric(url, 'openqoe_store_rollup_refreshed_hours_total');
    const dirty = await metric(url, 'openqoe_store_rollup_dirty_hours');
    if (refreshed > 0 && dirty === 0) {
      console.log(
        `rollup: ${refreshed} hours refreshed, none dirty, after ${fmtSeconds((Date.now() - started) / 1000)}`,
      );
      return;
    }
    if (Date.now() - lastReport >= 10_000) {
      lastReport = Date.now();
      console.log(`rollup: ${refreshed} hours refreshed, ${dirty} dirty…`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Filter values the generated data holds, by dimension, from the generator's own distribution. */
async function filterValues(withCountry) {
  const enricher = await Enricher.open({ geoDatabasePath: '', asnDatabasePath: '', truncateIp: false });
  const clients = sv.DEVICES.map(([d]) => enricher.enrich('', d.userAgent));
  enricher.close();
  const uniq = (xs) => [...new Set(xs.filter((x) => x !== ''))];
  const popular = Array.from({ length: 20 }, (_, rank) => sv.catalogueEntry('vod', rank));
  const live = Array.from({ length: 5 }, (_, rank) => sv.catalogueEntry('live', rank));
  return {
    browser: uniq(clients.map((c) => c.browser)),
    operating_system: uniq(clients.map((c) => c.os)),
    device_category: uniq(clients.map((c) => c.deviceCategory)),
    ...(withCountry ? { country: sv.COUNTRIES.map(([c]) => c) } : {}),
    cdn_provider: sv.CDNS.map(([c]) => c.provider),
    cdn_host: sv.CDNS.flatMap(([c]) => c.hosts),
    player_software: ['hls.js', 'dash.js', 'shaka', 'video.js', 'html5'],
    stream_type: ['vod', 'live'],
    video_title: [...popular, ...live].map((v) => v.title),
    video_id: [...popular, ...live].map((v) => v.id),
    sub_property_id: sv.SUB_PROPERTIES.map(([s]) => s),
    experiment_name: uniq(sv.EXPERIMENTS.map(([e]) => e)),
  };
}

// Every per-view metric the generated views give values for (they carry no page load time, so no
// aggregate startup either, and are never shown smaller than their rendition).
const METRIC_IDS = VIEW_METRIC_IDS.filter(
  (id) => !['page_load_time', 'aggregate_startup_time', 'downscale_percentage'].includes(id),
);
const GRANULARITIES = { minute: 60_000, ten_minutes: 600_000, hour: HOUR_MS, day: DAY_MS };
const KINDS = ['overall', 'timeseries', 'breakdown', 'views_list', 'view'];

/** The timed queries: kinds evenly, in a shuffled order; everything else drawn from a seeded PRNG. */
function planQueries({ values, measurements, viewIds, dataFromMs, dataToMs }) {
  const rnd = sv.mulberry32(SEED ^ 0x5eed);
  const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
  const dimensions = Object.keys(values);
  const kinds = Array.from({ length: QUERIES }, (_, i) => KINDS[i % KINDS.length]);
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j], kinds[i]];
  }
  return kinds.map((kind) => {
    if (kind === 'view') return { kind, path: `/data/v1/video-views/${encodeURIComponent(pick(viewIds))}` };
    // Timeframe: log-uniform length from 1 hour to 30 days, placed uniformly inside the data.
    const spanMs = Math.min(dataToMs - dataFromMs, Math.exp(Math.log(HOUR_MS) + rnd() * Math.log(30 * 24)));
    const fromMs = dataFromMs + rnd() * (dataToMs - dataFromMs - spanMs);
    const q = new URLSearchParams();
    q.append('timeframe[]', String(Math.floor(fromMs / 1000)));
    q.append('timeframe[]', String(Math.floor((fromMs + spanMs) / 1000)));
    const filters = Math.floor(rnd() * 3);
    for (let f = 0; f < filters; f++) {
      const dim = pick(dimensions);
      q.append('filters[]', `${rnd() < 0.15 ? '!' : ''}${dim}:${pick(values[dim])}`);
    }
    const metricId = pick(METRIC_IDS);
    const measurement = pick(measurements[metricId]);
    const spanDays = (spanMs / DAY_MS).toFixed(spanMs < DAY_MS ? 2 : 0);
    if (kind === 'views_list') {
      q.set('limit', '25');
      q.set('page', String(1 + Math.floor(rnd() * 10)));
      q.set('order_by', 'view_end');
      return { kind, path: `/data/v1/video-views?${q}`, note: `${spanDays} d, ${filters} filters` };
    }
    q.set('measurement', measurement);
    if (kind === 'overall') {
      return { kind, path: `/data/v1/metrics/${metricId}/overall?${q}`, note: `${metricId}, ${spanDays} d` };
    }
    if (kind === 'timeseries') {
      const fits = Object.entries(GRANULARITIES).filter(([, step]) => spanMs / step <= 2000);
      const [granularity] = pick(fits);
      q.set('granularity', granularity);
      return {
        kind,
        path: `/data/v1/metrics/${metricId}/timeseries?${q}`,
        note: `${metricId}, ${spanDays} d by ${granularity}`,
      };
    }
    const groupBy = pick(dimensions);
    q.set('group_by', groupBy);
    q.set('limit', '25');
    q.set('order_by', pick(['value', 'views', 'negative_impact']));
    return {
      kind,
      path: `/data/v1/metrics/${metricId}/breakdown?${q}`,
      note: `${metricId} by ${groupBy}, ${spanDays} d`,
    };
  });
}

const quantile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];

function du(path) {
  try {
    return Number(execFileSync('du', ['-sb', path], { encoding: 'utf8' }).split('\t')[0]);
  } catch {
    return Number.NaN;
  }
}
const fileSize = (path) => {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
};

let server;
async function stopServer() {
  if (!server || server.child.exitCode !== null) return;
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 60_000);
  await server.exited;
  clearTimeout(timer);
}

/** Latency rows per kind of each store timed, for the side-by-side table. */
const byStore = [];

async function runOn(store) {
  const geoDatabase = buildGeoDatabase();
  const configFile = join(dir, 'bench-config.json');
  const writeConfig = (extra = {}) =>
    writeFileSync(
      configFile,
      JSON.stringify({
        logLevel: 'warn',
        trustProxy: geoDatabase !== undefined,
        intake: {
          rateLimit: { perIpPerSecond: 0, perEnvKeyPerSecond: 0 },
          // Throughput runs: the caps on new views (intake.views) off, as the rate limits are.
          views: { maxInProgressPerEnv: 0, newPerSecondPerEnv: 0, maxInMemory: 100_000_000 },
        },
        views: { endedRetentionMs: 1000 },
        pipeline: { dedupeRetentionMs: 1000 },
        // Backfilled history is never rebuilt from the log: keeping an hour of it would need ~60 GB of disk.
        bus: { retainMs: 0 },
        ...(geoDatabase ? { enrich: { geoDatabase } } : {}),
        // Backfilled hours are complete at once: recompute them without waiting for them to settle.
        clickhouse: { rollupSettleMs: 0 },
        ...extra,
      }),
    );
  writeConfig();
  server = startServer(configFile, store);
  let url = await server.url;
  console.log(`server: ${url}, data dir ${dir}, store ${storeLabel(store)}`);

  // 1. Generate and drain (or take what an earlier run generated).
  let genStartMs;
  if (args.reuse) {
    const meta = JSON.parse(readFileSync(META, 'utf8'));
    genStartMs = meta.genStartMs;
    if (meta.views !== VIEWS || meta.days !== DAYS || meta.seed !== SEED)
      throw new Error(
        `${dir} was generated with --views ${meta.views} --days ${meta.days} --seed ${meta.seed}`,
      );
    console.log(`reusing ${VIEWS} views generated ${new Date(genStartMs).toISOString()} in ${dir}`);
    console.log(meta.report);
  } else {
    console.log(`generating ${VIEWS} views over ${DAYS} days (backfill), seed ${SEED}…`);
    genStartMs = Date.now();
    const summary = await runGenerate(url);
    const genSeconds = (Date.now() - genStartMs) / 1000;
    const stored = await waitDrained(url, genStartMs);
    const drainSeconds = (Date.now() - genStartMs) / 1000;
    const samples = await metric(url, 'openqoe_pipeline_samples_stored_total');
    const report =
      `generation: ${VIEWS} views accepted by the intake in ${fmtSeconds(genSeconds)} → ${Math.round(VIEWS / genSeconds)} views/s` +
      ` (${/\((\d+) views\/s\)/.exec(summary)?.[1] ?? '?'} views/s by generate's own clock)\n` +
      `pipeline:   ${stored} views (${samples} samples) stored after ${fmtSeconds(drainSeconds)} → ${Math.round(VIEWS / drainSeconds)} views/s end to end`;
    console.log(`\n${report}`);
    writeFileSync(META, JSON.stringify({ views: VIEWS, days: DAYS, seed: SEED, genStartMs, report }));
  }
  const bootstrap = JSON.parse(readFileSync(join(dir, 'bootstrap.json'), 'utf8'));

  // On ClickHouse, queries read whole hours from the rollup once refreshed: time them after that.
  if (store !== 'duckdb') await waitRollup(url);

  // 2. Queries.
  const auth = `Basic ${Buffer.from(`${bootstrap.access_token.id}:${bootstrap.access_token.secret}`).toString('base64')}`;
  const get = async (path) => {
    const started = performance.now();
    const res = await fetch(`${url}${path}`, { headers: { authorization: auth } });
    const text = await res.text();
    return { status: res.status, ms: performance.now() - started, text };
  };
  const probe = await get('/data/v1/metrics/views/overall?timeframe[]=1:days');
  if (probe.status === 404) {
    console.log(
      `\nthe query API is not there (GET /data/v1/metrics/views/overall → 404): ${probe.text.slice(0, 200)}`,
    );
    process.exitCode = 1;
  } else {
    const catalog = JSON.parse((await get('/data/v1/metrics')).text).data;
    const measurements = Object.fromEntries(catalog.map((m) => [m.id, m.measurements]));
    const dataToMs = Date.now();
    const dataFromMs = genStartMs - DAYS * DAY_MS;
    // View ids for the one-view queries, from a few untimed list calls spread over the month.
    const viewIds = [];
    const rnd = sv.mulberry32(SEED);
    for (let i = 0; i < 5; i++) {
      const from = Math.floor((dataFromMs + rnd() * (dataToMs - dataFromMs - DAY_MS)) / 1000);
      const r = await get(`/data/v1/video-views?limit=100&timeframe[]=${from}&timeframe[]=${from + 86_400}`);
      for (const v of JSON.parse(r.text).data ?? []) viewIds.push(v.view_id);
    }
    if (viewIds.length === 0) throw new Error('the views list returned no view ids');
    const plan = planQueries({
      values: await filterValues(geoDatabase !== undefined),
      measurements,
      viewIds,
      dataFromMs,
      dataToMs,
    });

    const timed = async (label) => {
      // Other work on the machine inflates latencies: the load average says how quiet it was.
      console.log(
        `\nrunning ${plan.length} queries one at a time (load average ${loadavg()[0].toFixed(2)})…`,
      );
      const before = await metric(url, 'openqoe_query_metrics_requests_total\\{source="rollup"\\}');
      const results = [];
      for (const [i, q] of plan.entries()) {
        const r = await get(q.path);
        results.push({ ...q, ...r });
        if (r.status !== 200)
          console.log(`  ! ${q.kind} ${q.path} → HTTP ${r.status}: ${r.text.slice(0, 300)}`);
        if ((i + 1) % 10 === 0) console.log(`  ${i + 1}/${plan.length}`);
      }
      const ok = results.filter((r) => r.status === 200);
      console.log(`load average after the queries: ${loadavg()[0].toFixed(2)}`);
      const slowest = [...ok].sort((a, b) => b.ms - a.ms).slice(0, 3);

      const rows = [...KINDS, 'all'].map((kind) => {
        const ms = ok
          .filter((r) => kind === 'all' || r.kind === kind)
          .map((r) => r.ms)
          .sort((a, b) => a - b);
        return { kind, n: ms.length, median: quantile(ms, 0.5), p95: quantile(ms, 0.95), max: ms.at(-1) };
      });
      const f = (v) => (v === undefined ? '-' : `${v.toFixed(0)} ms`);
      console.log(
        `\nquery latency: ${VIEWS} views over ${DAYS} days, ${ok.length}/${results.length} queries answered 200`,
      );
      console.log('kind          n     median        p95        max');
      for (const r of rows)
        console.log(
          `${r.kind.padEnd(12)} ${String(r.n).padStart(2)} ${f(r.median).padStart(10)} ${f(r.p95).padStart(10)} ${f(r.max).padStart(10)}`,
        );
      const all = rows.at(-1);
      console.log(
        `targets: median ≤ 300 ms ${all.median <= 300 ? 'met' : 'MISSED'}, p95 ≤ 1000 ms ${all.p95 <= 1000 ? 'met' : 'MISSED'}`,
      );
      console.log('slowest:');
      for (const s of slowest) console.log(`  ${f(s.ms).padStart(8)}  ${s.kind}: ${s.note ?? s.path}`);
      if (store !== 'duckdb') {
        const rolled =
          (await metric(url, 'openqoe_query_metrics_requests_total\\{source="rollup"\\}')) - before;
        const metricQueries = results.filter((r) =>
          ['overall', 'timeseries', 'breakdown'].includes(r.kind),
        ).length;
        console.log(`metrics queries with whole hours from the rollup: ${rolled} of ${metricQueries}`);
      }
      if (ok.length < results.length) process.exitCode = 1;
      byStore.push({ store: label, rows });
    };
    await timed(storeLabel(store));
    if (store !== 'duckdb') {
      // The same queries on the same data with the rollup switched off: what it saves.
      await stopServer();
      writeConfig({ clickhouse: { rollups: false } });
      server = startServer(configFile, store);
      url = await server.url;
      console.log(`\nrestarted without the rollup (clickhouse.rollups false): ${url}`);
      await timed(`${storeLabel(store)}, views only`);
    }
  }

  // 3. Size on disk, once the server has stopped (and checkpointed its WAL into the file).
  await stopServer();
  const db = join(dir, 'openqoe.duckdb');
  const storeSize =
    store === 'duckdb'
      ? `DuckDB file ${fmtBytes(fileSize(db))} (+ WAL ${fmtBytes(fileSize(`${db}.wal`))})`
      : store === 'chdb'
        ? `ClickHouse data ${fmtBytes(du(join(dir, 'clickhouse')))}`
        : 'ClickHouse data on its server';
  console.log(
    `\ndata on disk: ${fmtBytes(du(dir))} in the data dir; ${storeSize}; log ${fmtBytes(du(join(dir, 'log')))}`,
  );
}

try {
  const cpuModel = cpus()[0]?.model ?? 'unknown';
  console.log(
    `machine: ${cpus().length} cores (${cpuModel}), ${fmtBytes(totalmem())} RAM (${fmtBytes(freemem())} free), node ${process.version}`,
  );
  for (const store of STORES) {
    if (STORES.length > 1) {
      dir = join(root, store.replace(/[^a-z0-9]+/gi, '_'));
      mkdirSync(dir, { recursive: true });
      META = join(dir, 'bench-query.json');
    }
    console.log(`\n=== ${storeLabel(store)} ===`);
    await runOn(store);
  }
  if (byStore.length > 1) {
    const f = (v) => (v === undefined ? '-' : `${v.toFixed(0)} ms`);
    console.log(`\nside by side (${VIEWS} views over ${DAYS} days, median / p95):`);
    console.log(`kind        ${byStore.map((b) => b.store.padStart(32)).join('')}`);
    for (const [i, kind] of [...KINDS, 'all'].entries())
      console.log(
        `${kind.padEnd(12)}${byStore.map((b) => `${f(b.rows[i].median)} / ${f(b.rows[i].p95)}`.padStart(32)).join('')}`,
      );
  }
} catch (err) {
  console.error(`bench:query: ${err.message}`);
  if (server) console.error(server.output().slice(-2000));
  process.exitCode = 1;
} finally {
  await stopServer();
  cleanup();
}
