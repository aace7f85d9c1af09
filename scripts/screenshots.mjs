#!/usr/bin/env node
/**
 * `npm run screenshots`: the documentation's screenshots (docs/screenshots/),
 * taken reproducibly from pages with realistic data.
 *
 * 1. Starts `openqoe serve` on a temp data dir (free ports).
 * 2. Backfills generated views over the last days (`openqoe generate
 *    --views --days`), so charts and breakdowns have shape and the
 *    generator's seeded error mix fills the Errors page.
 * 3. Plays live viewers (`openqoe generate --live`) so Monitor has views in
 *    progress, and adds an alert rule on their real-time numbers; the
 *    incident it opens (if any within --incident-wait) is what Alerts shows.
 *    ffmpeg pushes a test pattern over RTMP to a live stream at half real
 *    time, so the live stream's page shows its drift growing and its
 *    health poor.
 * 4. Debian Chromium (playwright-core) at 1440×900, signed in as a returning
 *    user, waits for each page's numbers and saves a viewport screenshot.
 *
 * Everything it started (server, generators, browser, data dir) is stopped
 * and removed at the end, also on Ctrl-C.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CHROMIUM,
  CLI,
  launchChromium,
  runNode,
  signedInContext,
  startServe,
  stop,
} from './lib/server-driver.mjs';

const ROOT = new URL('../', import.meta.url).pathname;
const { values: args } = parseArgs({
  options: {
    views: { type: 'string', default: '10000' },
    days: { type: 'string', default: '2' },
    viewers: { type: 'string', default: '80' },
    warmup: { type: 'string', default: '120' },
    'incident-wait': { type: 'string', default: '240' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string', default: join(ROOT, 'docs/screenshots') },
    pages: { type: 'string' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
const PAGE_IDS = ['monitor', 'metrics', 'views', 'view', 'errors', 'alerts', 'incident', 'live-stream'];
if (args.help) {
  console.log(`usage: npm run screenshots -- [options]
Takes the documentation's screenshots (1440×900 PNGs) from a temp server filled with generated data.
  --views N          views backfilled through the intake (default 10000)
  --days D           history those views are spread over, ending now (default 2)
  --viewers V        live viewers playing while the pages are shot (default 80)
  --warmup S         seconds of live play before the first screenshot (default 120): Monitor's chart gets a line,
                     and the backfill's outcomes leave the real-time attempt window (60 s)
  --incident-wait S  seconds to wait for the alert rule's incident (default 240; none: the incident page is skipped)
  --seed S           generator seed (default 1): the same seed, the same views
  --out DIR          where the PNGs go (default docs/screenshots)
  --pages P          comma-separated subset of ${PAGE_IDS.join(',')} (default all)
  --keep             keep the data dir (its path is printed) and do not stop at the end
Needs the built server and dashboard (npm run build), Chromium (CHROMIUM_PATH, default /usr/bin/chromium) and ffmpeg.`);
  process.exit(0);
}
const num = (flag, min) => {
  const v = Number(args[flag]);
  if (!Number.isInteger(v) || v < min) {
    console.error(`screenshots: --${flag} must be a whole number ≥ ${min}`);
    process.exit(2);
  }
  return v;
};
const VIEWS = num('views', 1);
const DAYS = num('days', 1);
const VIEWERS = num('viewers', 1);
const WARMUP_MS = num('warmup', 0) * 1000;
const INCIDENT_WAIT_MS = num('incident-wait', 0) * 1000;
const SEED = num('seed', 0);
const wanted = args.pages ? args.pages.split(',').map((p) => p.trim()) : PAGE_IDS;
const unknown = wanted.filter((p) => !PAGE_IDS.includes(p));
if (unknown.length) {
  console.error(`screenshots: unknown page ${unknown.join(', ')} (known: ${PAGE_IDS.join(', ')})`);
  process.exit(2);
}

const log = (line) => console.log(`screenshots: ${line}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const children = new Set();
let dataDir;
let browser;

/** The CLI with `argv`; its non-empty output lines go to `onLine`. */
const run = (argv, onLine) => runNode(children, [CLI, ...argv], (line) => line.trim() && onLine(line));

let stopping = false;
async function cleanup() {
  stopping = true;
  await browser?.close().catch(() => {});
  for (const c of [...children].reverse()) await stop(c);
  if (dataDir && !args.keep) rmSync(dataDir, { recursive: true, force: true });
  else if (dataDir) log(`data dir kept: ${dataDir}`);
}
for (const signal of ['SIGINT', 'SIGTERM'])
  process.on(signal, () => {
    void cleanup().then(() => process.exit(130));
  });

async function startServer() {
  const config = join(dataDir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      logLevel: 'warn',
      // The generators all send from 127.0.0.1: no per-address limit for them.
      intake: { rateLimit: { perIpPerSecond: 0, perEnvKeyPerSecond: 0 } },
      live: { rtmp: { port: 0 } },
      // The live generator names each batch's viewer address in X-Forwarded-For, as a proxy in front
      // would: trusted, live views get their countries as the backfilled ones do.
      trustProxy: true,
    }),
  );
  const server = await startServe(children, dataDir, config);
  serverOutput = server.output;
  return server.url;
}

let url;
let serverOutput = () => '';
let bootstrap;
async function api(path, body) {
  const t = bootstrap.access_token;
  const res = await fetch(`${url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${t.id}:${t.secret}`).toString('base64')}`,
      'content-type': 'application/json',
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
  return json;
}
const envQuery = () => `environment_id=${bootstrap.environment.id}`;

async function backfill() {
  log(`backfilling ${VIEWS} views over the last ${DAYS} days…`);
  let last = 0;
  const g = run(
    ['generate', '--views', String(VIEWS), '--days', String(DAYS), '--seed', String(SEED)].concat([
      '--url',
      url,
      '--data-dir',
      dataDir,
    ]),
    (line) => {
      if (Date.now() - last > 5000 || line.startsWith('openqoe generate:')) {
        last = Date.now();
        log(`  ${line.trim()}`);
      }
    },
  );
  const code = await g.exited;
  children.delete(g.child);
  if (code !== 0) throw new Error(`openqoe generate exited with ${code}`);
}

/** Waits until the backfilled views are stored (the views list counts them). */
async function waitStored() {
  for (let i = 0; ; i++) {
    const r = await api(`/data/v1/video-views?${envQuery()}&timeframe[]=${DAYS}:days&limit=1`);
    const total = r.meta?.total_row_count ?? r.total_row_count ?? r.data.length;
    if (total >= VIEWS * 0.98) return log(`${total} views stored`);
    if (i % 5 === 0) log(`  ${total} of ${VIEWS} views stored so far…`);
    if (i > 300) throw new Error(`only ${total} views stored after 5 minutes`);
    await sleep(1000);
  }
}

function startLive() {
  log(`live: ${VIEWERS} viewers playing (openqoe generate --live)`);
  const lines = [];
  const live = run(
    ['generate', '--live', '--viewers', String(VIEWERS), '--duration', '2h', '--ramp', '20s'].concat([
      '--url',
      url,
      '--data-dir',
      dataDir,
      '--seed',
      String(SEED + 1),
    ]),
    (line) => lines.push(line) > 20 && lines.shift(),
  );
  void live.exited.then((code) => {
    if (code !== 0 && code !== 'SIGTERM') log(`live generator exited (${code}):\n${lines.join('\n')}`);
  });
}

/**
 * A rule a video engineer would keep: rebuffering per CDN host above 2 %
 * for 10 s over at least 10 viewers. The generator's players stall now and
 * then; a host whose viewers stall together for that long opens an
 * incident of its own (with 80 viewers, within a minute or two).
 */
async function addRule() {
  const rule = await api('/system/v1/alert-rules', {
    name: 'Rebuffering per CDN host',
    metric: 'current_rebuffering_percentage',
    breakdown: 'cdn',
    condition: { type: 'threshold', operator: '>', value: 2, for_seconds: 10, min_audience: 10 },
    severity: 'warning',
    description: 'Viewers on one CDN host stall more than usual',
  });
  await api('/system/v1/alert-rules', {
    name: 'Startup failures',
    metric: 'video_startup_failure_percentage',
    condition: { type: 'threshold', operator: '>', value: 10, for_seconds: 60 },
    severity: 'error',
  });
  return rule.data.id;
}

/** ffmpeg with `argv`, tracked in `children` (stopped at the end); resolves with its exit code. */
function ffmpeg(argv) {
  const child = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', ...argv], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.add(child);
  let err = '';
  child.stderr.on('data', (d) => {
    err += d.toString();
  });
  const exited = new Promise((r) => child.once('exit', (code, signal) => r(code ?? signal)));
  return { child, exited, stderr: () => err };
}

/**
 * A live stream pushed at half real time: a 320×240 test pattern encoded
 * once (so the push only copies it and keeps its pace on a busy machine),
 * then sent over RTMP with `-readrate 0.5`. The stream's drift grows by
 * half a second each second, which the health API calls poor.
 */
async function startSlowPush() {
  const stream = (await api('/video/v1/live-streams', { environment_id: bootstrap.environment.id })).data;
  const rtmp = /RTMP ingest: (rtmp:\/\/\S+)\/\{stream_key\}/.exec(serverOutput());
  if (!rtmp) throw new Error('no RTMP address in the server banner');
  const media = join(dataDir, 'pattern.flv');
  const encode = ffmpeg([
    ...['-y', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25:duration=900'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25', '-f', 'flv', media],
  ]);
  const code = await encode.exited;
  children.delete(encode.child);
  if (code !== 0) throw new Error(`ffmpeg (encode) exited with ${code}: ${encode.stderr()}`);
  const target = `${rtmp[1].replace('localhost', '127.0.0.1')}/${stream.stream_key}`;
  const push = ffmpeg(['-readrate', '0.5', '-i', media, '-c', 'copy', '-f', 'flv', target]);
  void push.exited.then((c) => {
    // ffmpeg answers the end's SIGTERM with 255: only an exit before then is news.
    if (!stopping) log(`RTMP push exited (${c}): ${push.stderr()}`);
  });
  log(`live stream ${stream.id}: ffmpeg pushes at half real time`);
  return stream.id;
}

async function waitIncident(ruleId, deadline) {
  for (;;) {
    const r = await api(`/data/v1/incidents?${envQuery()}&rule_id=${ruleId}`);
    if (r.data[0]) return r.data[0];
    if (Date.now() > deadline) return undefined;
    await sleep(2000);
  }
}

/** A view worth showing: it stalled and changed rendition, no fatal error, a few minutes long. */
async function pickView() {
  const r = await api(
    `/data/v1/video-views?${envQuery()}&timeframe[]=24:hours&order_by=rebuffer_count&order_direction=desc&limit=200`,
  );
  const fit = r.data.filter(
    (v) =>
      !v.playback_failure && v.watch_time_ms > 120_000 && v.watch_time_ms < 900_000 && v.rebuffer_count <= 3,
  );
  return (fit[0] ?? r.data[0]).view_id;
}

/** In the page (an init script): true once `sel` holds a chart drawn from data (its axes mirrored on `data-axes`). */
function pageHelpers() {
  globalThis.chartDrawn = (sel) => {
    const el = document.querySelector(sel);
    try {
      const x = JSON.parse(el?.getAttribute('data-axes') ?? '[]')[0];
      return x != null && x.max > x.min;
    } catch {
      return false;
    }
  };
}

/** Each screenshot: its file, path and what must be on the page before it is taken. */
function shots(viewId, incident, streamId) {
  return [
    {
      id: 'monitor',
      file: 'monitor.png',
      path: '/ui/monitor',
      ready: () =>
        globalThis.chartDrawn('[data-testid=monitor-chart]') &&
        /[1-9]/.test(
          document.querySelector('[data-testid=value-current_concurrent_viewers]')?.textContent ?? '',
        ) &&
        [...document.querySelectorAll('.breakdowns .breakdown')].every(
          (b) => b.querySelectorAll('tbody tr').length > 0,
        ),
    },
    {
      id: 'metrics',
      file: 'metrics.png',
      path: '/ui/metrics?compare=previous',
      ready: () =>
        globalThis.chartDrawn('[data-testid=metric-chart]') &&
        /\d/.test(document.querySelector('[data-testid=overall]')?.textContent ?? '') &&
        document.querySelectorAll('.page.metrics [data-testid^=breakdown-] tbody tr').length > 0,
    },
    {
      id: 'views',
      file: 'views.png',
      path: '/ui/views',
      ready: () => document.querySelectorAll('[data-testid=views-table] tbody tr').length > 5,
    },
    {
      id: 'view',
      file: 'view.png',
      path: `/ui/views/${viewId}`,
      ready: () =>
        document.querySelectorAll('main svg, main canvas').length > 0 &&
        !/Loading/.test(document.querySelector('main')?.textContent ?? ''),
    },
    {
      id: 'errors',
      file: 'errors.png',
      path: '/ui/errors',
      ready: () => document.querySelectorAll('main tbody tr').length > 1,
    },
    {
      id: 'alerts',
      file: 'alerts.png',
      path: '/ui/alerts',
      ready: () => document.querySelectorAll('main tbody tr').length > 0,
    },
    ...(incident
      ? [
          {
            id: 'incident',
            file: 'incident.png',
            path: `/ui/alerts/incidents/${incident.id}`,
            ready: () => globalThis.chartDrawn('[data-testid=incident-chart] [data-axes]'),
          },
        ]
      : []),
    ...(streamId
      ? [
          {
            id: 'live-stream',
            file: 'live-stream.png',
            path: `/ui/live-streams/${streamId}`,
            ready: () =>
              document.querySelector('[data-testid=health]')?.getAttribute('data-status') === 'poor' &&
              globalThis.chartDrawn('[data-testid=drift-chart]'),
          },
        ]
      : []),
  ].filter((s) => wanted.includes(s.id));
}

async function shoot(shot) {
  // In UTC, so the pictures' times read the same wherever they are taken.
  const context = await signedInContext(browser, bootstrap, { timezoneId: 'UTC' });
  await context.addInitScript(pageHelpers);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${url}${shot.path}`);
  await page.waitForFunction(shot.ready, undefined, { polling: 200, timeout: 60_000 });
  // Charts draw on the next frame and fonts settle: a moment before the picture.
  await sleep(1500);
  const file = join(args.out, shot.file);
  await page.screenshot({ path: file, scale: 'css', animations: 'disabled' });
  await context.close();
  if (errors.length) throw new Error(`${shot.path}: page errors: ${errors.join('; ')}`);
  log(`${shot.file}: ${shot.path} (${Math.round(statSync(file).size / 1024)} KB)`);
}

try {
  dataDir = mkdtempSync(join(tmpdir(), 'openqoe-screenshots-'));
  mkdirSync(args.out, { recursive: true });
  url = await startServer();
  bootstrap = JSON.parse(readFileSync(join(dataDir, 'bootstrap.json'), 'utf8'));
  log(`server ${url}, data dir ${dataDir}`);
  await backfill();
  await waitStored();
  startLive();
  const streamId = wanted.includes('live-stream') ? await startSlowPush() : undefined;
  const ruleId = await addRule();
  const warmupEnd = Date.now() + WARMUP_MS;
  let incident;
  if (wanted.includes('incident') && INCIDENT_WAIT_MS > 0) {
    log(`waiting up to ${INCIDENT_WAIT_MS / 1000} s for the rule's incident…`);
    incident = await waitIncident(ruleId, Date.now() + INCIDENT_WAIT_MS);
    log(incident ? `incident ${incident.id} opened` : 'no incident: the incident page is skipped');
  }
  if (Date.now() < warmupEnd) {
    log(
      `live warm-up: ${Math.round((warmupEnd - Date.now()) / 1000)} s more, so Monitor's chart has a line…`,
    );
    await sleep(warmupEnd - Date.now());
  }
  const viewId = await pickView();
  browser = await launchChromium();
  log(`browser: ${CHROMIUM} ${browser.version()}, 1440×900, UTC`);
  // One page that does not come up does not cost the others their pictures; the run still fails.
  const failed = [];
  for (const shot of shots(viewId, incident, streamId))
    await shoot(shot).catch((err) => {
      failed.push(shot.file);
      console.error(`screenshots: ${shot.file} not taken: ${err.message}`);
    });
  if (failed.length) throw new Error(`not taken: ${failed.join(', ')}`);
  log(`done: ${args.out}`);
} catch (err) {
  console.error(`screenshots: ${err.stack ?? err.message}`);
  process.exitCode = 1;
} finally {
  if (!args.keep) await cleanup();
  else log(`kept running (--keep): server ${url}, data dir ${dataDir}; Ctrl-C stops it`);
}
