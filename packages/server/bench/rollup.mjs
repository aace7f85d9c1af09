#!/usr/bin/env node
/**
 * `npm run bench:rollup`: what the ClickHouse metrics rollup saves as the
 * number of views per hour grows.
 *
 * For each size: starts `openqoe serve --store chdb:///…` once so it
 * bootstraps an environment, stops it, fills `views` in place with N
 * synthetic views over the last `--hours` hours (one INSERT … SELECT FROM
 * numbers(N) in the embedded engine: generating them through the intake
 * would take hours at these sizes; dimensions drawn from small sets like the
 * generator's, times and flags from hashes of the view number), builds the
 * rollup (timed), then restarts the server twice on the same data — with the
 * rollup and with `clickhouse.rollups: false` — and times the same metrics
 * queries over HTTP: overall, hourly timeseries and breakdowns, with and
 * without a filter, over the whole hours of the span (with --edges: to the
 * second, so the partial hours at both ends come from the views). Each
 * view's first data is at its start, as with real traffic, so the views
 * table's time-led key applies. Both runs must give the same answers; the
 * bench checks that and prints the latencies side by side.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    views: { type: 'string', default: '200000,2000000' },
    hours: { type: 'string', default: '24' },
    repeat: { type: 'string', default: '5' },
    keep: { type: 'boolean', default: false },
    edges: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(`usage: npm run bench:rollup -- [--views N,N…] [--hours H] [--repeat R] [--keep]
  --views   sizes to run, comma-separated (default 200000,2000000)
  --hours   hours the views end in, up to now (default 24)
  --repeat  times each query is timed per run; the median is printed (default 5)
  --keep    keep the temporary data dirs
  --edges   timeframes to the second (partial hours at both ends, read from the views), not whole hours`);
  process.exit(0);
}
const SIZES = args.views.split(',').map(Number);
const HOURS = Number(args.hours);
const REPEAT = Number(args.repeat);
if (!SIZES.every((n) => Number.isInteger(n) && n > 0) || !(HOURS > 0) || !(REPEAT > 0)) {
  console.error('bench:rollup: --views, --hours and --repeat must be positive numbers');
  process.exit(2);
}

const dist = (p) => new URL(`../dist/${p}`, import.meta.url);
const CLI = dist('cli.js').pathname;
const { ChdbConnection } = await import(dist('store/clickhouse/chdb-connection.js').href);
const { ClickHouseStore } = await import(dist('store/clickhouse/clickhouse-store.js').href);
const { viewsRollupDefinition } = await import(dist('query/views-rollup.js').href);
const { CLICKHOUSE_DIALECT } = await import(dist('store/clickhouse/clickhouse-dialect.js').href);

const HOUR_MS = 3_600_000;
const root = mkdtempSync(join(tmpdir(), 'openqoe-bench-rollup-'));
const children = new Set();
process.on('SIGINT', () => {
  for (const c of children) c.kill('SIGKILL');
  process.exit(130);
});

function startServer(dir, config) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ logLevel: 'warn', ...config }));
  const child = spawn(
    process.execPath,
    [
      CLI,
      'serve',
      '--port',
      '0',
      '--data-dir',
      dir,
      '--config',
      join(dir, 'config.json'),
      '--store',
      `chdb://${join(dir, 'ch')}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.add(child);
  let out = '';
  const exited = new Promise((r) => child.once('exit', r));
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
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      children.delete(child);
    },
  };
}

const pick = (values, salt) =>
  `[${values.map((v) => `'${v}'`).join(', ')}][1 + cityHash64(number, ${salt}) % ${values.length}]`;
/** A uniform number in [0, 1) from the view number and a salt. */
const u = (salt) => `(cityHash64(number, ${salt}) % 1000000) / 1000000.0`;

/** Devices as (category, os, browser): the dimensions go together, as real clients' do. */
const DEVICE_PROFILES = [
  ['desktop', 'Windows', 'Chrome'],
  ['desktop', 'Windows', 'Edge'],
  ['desktop', 'macOS', 'Safari'],
  ['desktop', 'macOS', 'Chrome'],
  ['phone', 'iOS', 'Safari'],
  ['phone', 'Android', 'Chrome'],
  ['tablet', 'iOS', 'Safari'],
  ['tv', 'Linux', 'Chrome'],
];
const PROFILES = `[${DEVICE_PROFILES.map((p) => `tuple(${p.map((x) => `'${x}'`).join(', ')})`).join(', ')}]`;

/** Fills `views` with n synthetic views of env ending over the last HOURS hours. */
function fillSql(env, n, nowMs) {
  const startMs = nowMs - HOURS * HOUR_MS;
  return `INSERT INTO views (env_id, view_id, status, view_start, view_end, updated_at, first_received_at,
      country, cdn_host, cdn_provider, os, browser, device_category, player_name, player_software,
      stream_type, stream_format, error_code, video_title,
      video_startup_time_ms, watch_time_ms, playing_time_ms, rebuffer_count, rebuffer_duration_ms,
      rebuffer_percentage, exited_before_video_start, video_startup_failure, playback_failure,
      weighted_average_bitrate_bps, viewer_experience_score, viewer_id, play_requested, completion_percentage)
    SELECT '${env}', toString(number), 'final', view_end - toIntervalMillisecond(toInt64(watch)) AS start, view_end, now64(3), start,
      ${pick(['US', 'DE', 'GB', 'FR', 'BR', 'IN', 'JP', 'SE', 'CA', 'AU', 'ES', 'IT'], 1)},
      ${pick(['a.cdn-a.example', 'b.cdn-a.example', 'a.cdn-b.example', 'a.cdn-c.example'], 2)} AS host,
      splitByChar('.', host)[2],
      profile.2, profile.3, profile.1,
      ${pick(['web', 'app'], 6)},
      ${pick(['hls.js', 'dash.js', 'shaka', 'video.js', 'html5'], 7)},
      ${pick(['vod', 'vod', 'vod', 'live'], 8)} AS st, 'hls',
      if(${u(9)} < 0.02, ${pick(['2', '3', '4'], 10)}, ''),
      concat('title ', toString(cityHash64(number, 11) % 500)),
      500 + 4000 * pow(${u(12)}, 3) AS startup,
      startup + 60000 + 1200000 * ${u(13)} AS watch, watch - startup - reb,
      if(${u(14)} < 0.2, 1 + cityHash64(number, 15) % 3, 0) AS rc,
      rc * 1500 * ${u(16)} AS reb, 100.0 * reb / watch,
      ${u(17)} < 0.01, ${u(18)} < 0.005, ${u(19)} < 0.01,
      1000000 + 4000000 * ${u(20)}, 50 + 50 * ${u(21)},
      concat('viewer ', toString(cityHash64(number, 23) % ${Math.max(1, Math.floor(n / 3))})), ${u(24)} < 0.97,
      if(st = 'vod', 100 * ${u(25)}, NULL)
    FROM (SELECT number, ${PROFILES}[1 + cityHash64(number, 3) % ${DEVICE_PROFILES.length}] AS profile,
            fromUnixTimestamp64Milli(toInt64(${startMs} + ${HOURS * HOUR_MS - 1} * ${u(22)}), 'UTC') AS view_end
          FROM numbers(${n}))`;
}

async function time(url, auth, path) {
  const ms = [];
  let body;
  for (let i = 0; i < REPEAT; i++) {
    const t = performance.now();
    const res = await fetch(`${url}${path}`, { headers: { authorization: auth } });
    body = await res.text();
    if (res.status !== 200) throw new Error(`${path} → ${res.status}: ${body.slice(0, 300)}`);
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { ms: ms[Math.floor(ms.length / 2)], body: JSON.parse(body).data };
}

/** Answers compare equal when every number agrees to 1e-9 relative (float sums may differ in the last bits). */
function same(a, b) {
  if (typeof a === 'number' && typeof b === 'number')
    return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a));
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]));
  if (a && typeof a === 'object') return Object.keys(a).every((k) => same(a[k], b?.[k]));
  return a === b;
}

async function runSize(n) {
  const dir = join(root, String(n));
  let server = startServer(dir, {});
  await server.url;
  await server.stop();
  const boot = JSON.parse(readFileSync(join(dir, 'bootstrap.json'), 'utf8'));
  const env = boot.environment.id;
  const auth = `Basic ${Buffer.from(`${boot.access_token.id}:${boot.access_token.secret}`).toString('base64')}`;
  const nowMs = Date.now();

  const conn = await ChdbConnection.open(join(dir, 'ch'));
  let t = performance.now();
  await conn.command(fillSql(env, n, nowMs));
  const fillS = (performance.now() - t) / 1000;
  const store = await ClickHouseStore.open(conn, { rollup: viewsRollupDefinition(CLICKHOUSE_DIALECT) });
  t = performance.now();
  let hours = 0;
  for (;;) {
    const r = await store.refreshRollup();
    if (r.hours === 0) break;
    hours += r.hours;
  }
  const buildS = (performance.now() - t) / 1000;
  const [rows] = await store.select(
    `SELECT (SELECT count() FROM ${store.rollup.definition.name}) AS rollup_rows, (SELECT count() FROM views) AS views,
       (SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND database = currentDatabase() AND table = '${store.rollup.definition.name}') AS rollup_bytes`,
    [],
  );
  await store.close();
  console.log(
    `\n${n} views over ${HOURS} h (${Math.round(n / HOURS)} per hour): filled in ${fillS.toFixed(1)} s; rollup of ${hours} hours built in ${buildS.toFixed(1)} s, ${rows.rollup_rows} rollup rows (${(Number(rows.rollup_bytes) / 2 ** 20).toFixed(1)} MiB) for ${rows.views} views`,
  );

  // Whole hours (the rollup alone) unless --edges: then to the second, so the partial hours at both
  // ends are read from the views.
  const fromS = args.edges
    ? Math.floor((nowMs - HOURS * HOUR_MS) / 1000)
    : Math.ceil((nowMs - HOURS * HOUR_MS) / HOUR_MS) * 3600;
  const toS = args.edges ? Math.ceil(nowMs / 1000) : Math.floor(nowMs / HOUR_MS) * 3600;
  const tf = `timeframe[]=${fromS}&timeframe[]=${toS}`;
  const queries = [
    ['overall: views', `/data/v1/metrics/views/overall?${tf}`],
    ['overall: startup median', `/data/v1/metrics/video_startup_time/overall?${tf}`],
    [
      'overall: startup p95, DE',
      `/data/v1/metrics/video_startup_time/overall?${tf}&measurement=95th&filters[]=country:DE`,
    ],
    ['overall: rebuffer %', `/data/v1/metrics/rebuffer_percentage/overall?${tf}`],
    ['overall: startup 99th', `/data/v1/metrics/video_startup_time/overall?${tf}&measurement=99th`],
    ['overall: unique viewers', `/data/v1/metrics/unique_viewers/overall?${tf}`],
    [
      'timeseries: watch time per viewer by hour',
      `/data/v1/metrics/watch_time_per_viewer/timeseries?${tf}&granularity=hour`,
    ],
    [
      'breakdown: completion 90th by country',
      `/data/v1/metrics/completion_percentage/breakdown?${tf}&group_by=country&measurement=90th`,
    ],
    [
      'timeseries: startup median by hour',
      `/data/v1/metrics/video_startup_time/timeseries?${tf}&granularity=hour`,
    ],
    [
      'timeseries: failures by hour, cdn',
      `/data/v1/metrics/playback_failure_percentage/timeseries?${tf}&granularity=hour&filters[]=cdn_provider:cdn-a`,
    ],
    [
      'breakdown: rebuffer % by country',
      `/data/v1/metrics/rebuffer_percentage/breakdown?${tf}&group_by=country`,
    ],
    [
      'breakdown: startup by browser, phones',
      `/data/v1/metrics/video_startup_time/breakdown?${tf}&group_by=browser&filters[]=device_category:phone`,
    ],
    [
      'breakdown: score by title (views)',
      `/data/v1/metrics/viewer_experience_score/breakdown?${tf}&group_by=video_title`,
    ],
  ];
  const results = {};
  for (const [label, config] of [
    ['rollup', { clickhouse: { rollupSettleMs: 0 } }],
    ['views only', { clickhouse: { rollups: false } }],
  ]) {
    server = startServer(dir, config);
    const url = await server.url;
    const out = [];
    for (const [name, path] of queries) out.push({ name, ...(await time(url, auth, path)) });
    results[label] = out;
    await server.stop();
  }
  console.log(`load average ${loadavg()[0].toFixed(2)}; median of ${REPEAT} runs per query`);
  console.log(`${'query'.padEnd(40)}${'rollup'.padStart(10)}${'views only'.padStart(12)}   same answer`);
  let allSame = true;
  results.rollup.forEach((r, i) => {
    const v = results['views only'][i];
    const ok = same(r.body, v.body);
    if (!ok && process.env.BENCH_DEBUG)
      console.log(JSON.stringify(r.body).slice(0, 400), '\n', JSON.stringify(v.body).slice(0, 400));
    allSame &&= ok;
    console.log(
      `${r.name.padEnd(40)}${`${r.ms.toFixed(0)} ms`.padStart(10)}${`${v.ms.toFixed(0)} ms`.padStart(12)}   ${ok ? 'yes' : 'NO'}`,
    );
  });
  if (!allSame) process.exitCode = 1;
}

try {
  console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}`);
  for (const n of SIZES) await runSize(n);
} catch (err) {
  console.error(`bench:rollup: ${err.message}`);
  process.exitCode = 1;
} finally {
  for (const c of children) c.kill('SIGKILL');
  if (args.keep) console.log(`data kept in ${root}`);
  else rmSync(root, { recursive: true, force: true });
}
