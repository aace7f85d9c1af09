#!/usr/bin/env node
/**
 * `npm run bench:compat`: how many Mux-protocol events per second openqoe
 * decodes and merges, on one core.
 *
 * Traffic: views shaped like mux-embed's (a full snapshot of ~50 minified
 * keys on viewstart, then deltas carrying the always-sent keys, heartbeats,
 * a rebuffer, request events, viewend), 300 events per POST body as the SDK
 * batches them.
 *
 * 1. Decode: JSON parse + key expansion + validation + grouping by view
 *    (what the intake does per POST), events/s.
 * 2. Merge: the pipeline's normaliser and the view model (delta merging,
 *    sequence order, the view machine), events/s.
 * 3. End to end: the real server in this process, POSTs over HTTPS to the
 *    Mux listener (8 in flight) until the pipeline has applied everything,
 *    events/s (includes TLS, the fsync'd log and DuckDB commits).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    views: { type: 'string', default: '20000' },
    posts: { type: 'string', default: '400' },
    core: { type: 'string', default: '1' },
    child: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(`usage: npm run bench:compat -- [--views N] [--posts N] [--core C]
  --views  views of ~40 events decoded and merged in memory (default 20000)
  --posts  POST bodies of 300 events sent over HTTPS end to end (default 400)
  --core   CPU core to pin to (default 1)`);
  process.exit(0);
}
if (!args.child) {
  const node = [
    process.execPath,
    '--expose-gc',
    import.meta.filename,
    '--child',
    '--views',
    args.views,
    '--posts',
    args.posts,
  ];
  const hasTaskset = spawnSync('sh', ['-c', 'command -v taskset'], { stdio: 'ignore' }).status === 0;
  const cmd = hasTaskset ? ['taskset', '-c', args.core, ...node] : node;
  execFileSync(cmd[0], cmd.slice(1), { stdio: 'inherit' });
  process.exit(0);
}

const dist = (p) => new URL(`../dist/${p}`, import.meta.url).href;
const { minifyKey } = await import(dist('intake/mux/mux-keys.js'));
const { decodeMuxBeacon } = await import(dist('intake/mux/mux-events.js'));
const { muxItems } = await import(dist('pipeline/view-model/normalize-mux.js'));
const { ActiveViews } = await import(dist('pipeline/view-model/active-views.js'));

const minify = (full) => Object.fromEntries(Object.entries(full).map(([k, v]) => [minifyKey(k), v]));

const SNAPSHOT = {
  mux_api_version: '2.1',
  mux_embed: 'mux-embed',
  mux_embed_version: '5.19.0',
  viewer_device_category: '',
  mux_sample_rate: 1,
  beacon_domain: 'collector.example.com',
  player_is_paused: false,
  player_width: 1280,
  player_height: 720,
  player_autoplay_on: false,
  player_preload_on: 'metadata',
  player_language_code: 'en',
  player_is_fullscreen: false,
  video_source_duration: 600_000,
  video_source_height: 720,
  video_source_width: 1280,
  view_dropped_frame_count: 0,
  view_max_playhead_position: 0,
  player_software: 'HTML5 Video Element',
  player_mux_plugin_name: 'VideoElementMonitor',
  player_mux_plugin_version: '5.19.0',
  player_name: 'main player',
  player_init_time: 1_700_000_000_000,
  video_title: 'A long enough title for a realistic payload',
  video_cdn: 'example-cdn',
  custom_1: 'plan-a',
  custom_2: 'region-eu',
  viewer_connection_type: 'wifi',
  view_watch_time: 0,
  player_view_count: 1,
  player_playback_mode: 'standard',
  video_source_hostname: 'media.example.com',
  video_source_url: 'https://media.example.com/v/master.m3u8',
  page_url: 'https://www.example.com/watch/42',
  session_start: 1_700_000_000_000,
  session_expires: 1_700_001_500_000,
  mux_viewer_id: 'd2b0b2a4-1d1e-4a8e-9f0b-5e3c1a2b3c4d',
  mux_sample_number: 0.42,
};

/** One view's events, minified as mux-embed sends them. */
function viewEvents(envKey, n, t0) {
  const viewId = `bench-view-${n}`;
  const events = [];
  let seq = 0;
  const add = (event, at, extra = {}) => {
    seq++;
    events.push(
      minify({
        env_key: envKey,
        view_id: viewId,
        view_sequence_number: seq,
        player_sequence_number: seq,
        beacon_domain: 'collector.example.com',
        player_playhead_time: Math.max(0, at - 1000),
        viewer_time: t0 + at,
        mux_api_version: '2.1',
        event,
        video_id: `video-${n % 500}`,
        player_instance_id: `player-${n}`,
        ...extra,
      }),
    );
  };
  add('viewstart', 0, { ...SNAPSHOT, session_id: `session-${n}` });
  add('play', 10);
  add('playing', 900, { video_source_bitrate: 2_500_000 });
  for (let i = 0; i < 30; i++) {
    add('requestcompleted', 1000 + i * 2000, {
      request_bytes_loaded: 600_000,
      request_start: t0 + 1000 + i * 2000,
      request_response_start: t0 + 1040 + i * 2000,
      request_response_end: t0 + 1300 + i * 2000,
      request_hostname: 'media.example.com',
    });
    if (i % 5 === 4) add('hb', 1500 + i * 2000, { view_watch_time: i * 2000 });
  }
  add('rebufferstart', 40_000);
  add('rebufferend', 41_200);
  add('pause', 60_000, { player_is_paused: true });
  add('viewend', 61_000);
  return { viewId, events };
}

const ENV = 'bench-env-key';
const t0 = Date.now() - 3_600_000;
const views = Number(args.views);
console.log(`bench:compat — ${views} views, Node ${process.version}, one core`);

// Bodies of 300 events, as the SDK batches them.
const all = [];
for (let n = 0; n < views; n++) for (const e of viewEvents(ENV, n, t0).events) all.push(e);
const bodies = [];
for (let i = 0; i < all.length; i += 300)
  bodies.push(
    JSON.stringify({ metadata: { transmission_timestamp: t0 + 61_000 }, events: all.slice(i, i + 300) }),
  );
const bytes = bodies.reduce((a, b) => a + b.length, 0);
console.log(
  `traffic: ${all.length} events in ${bodies.length} bodies, ${(bytes / all.length).toFixed(0)} B/event`,
);

// Memory: a fresh model fed body by body, each decoded inside the loop as the pipeline receives it,
// so the heap difference is what the views retain, not the input.
if (globalThis.gc) {
  const gcHeap = () => {
    for (let i = 0; i < 3; i++) globalThis.gc();
    return process.memoryUsage().heapUsed;
  };
  const held = new ActiveViews();
  const memArrival = { envId: 'env', receivedAtMs: t0 + 62_000, clockOffsetMs: 0, ip: '', userAgent: '' };
  const before = gcHeap();
  for (const b of bodies)
    for (const [viewId, v] of decodeMuxBeacon(JSON.parse(b), 1000).views)
      held.apply(memArrival, viewId, muxItems(v.events));
  const after = gcHeap();
  const perView = (after - before) / held.size;
  console.log(
    `memory: ${Math.round(perView)} bytes per view held (${held.size} views: machine, timeline, source state)`,
  );
}

// 1. Decode.
let started = performance.now();
const decoded = [];
for (const b of bodies) decoded.push(decodeMuxBeacon(JSON.parse(b), 1000));
let ms = performance.now() - started;
console.log(
  `decode (parse + expand keys + validate + group by view): ${Math.round(all.length / (ms / 1000)).toLocaleString('en')} events/s`,
);

// 2. Merge into the view model.
const model = new ActiveViews();
const arrival = { envId: 'env', receivedAtMs: t0 + 62_000, clockOffsetMs: 0, ip: '', userAgent: '' };
started = performance.now();
let completed = 0;
for (const d of decoded)
  for (const [viewId, v] of d.views) completed += model.apply(arrival, viewId, muxItems(v.events)).length;
ms = performance.now() - started;
console.log(
  `merge (normalise + per-view delta state + view machine): ${Math.round(all.length / (ms / 1000)).toLocaleString('en')} events/s (${completed} views completed)`,
);
// 3. End to end over HTTPS into the real server.
const posts = Number(args.posts);
const { loadConfig } = await import(dist('config/load-config.js'));
const { assemble: startServer } = await import(dist('main/assemble.js'));
const dataDir = mkdtempSync(join(tmpdir(), 'openqoe-bench-compat-'));
try {
  const config = loadConfig({
    env: {},
    flags: {
      dataDir,
      port: 0,
      logLevel: 'error',
      intake: {
        rateLimit: { perIpPerSecond: 0, perEnvKeyPerSecond: 0 },
        // Throughput runs: the caps on new views (intake.views) off, as the rate limits are.
        views: { maxInProgressPerEnv: 0, newPerSecondPerEnv: 0, maxInMemory: 100_000_000 },
      },
      live: { rtmp: { port: 0 } },
      demo: { enabled: false },
      compat: { mux: { enabled: true, port: 0 } },
    },
  });
  const server = await startServer(config, { logger: false });
  const key = server.bootstrap.environment.key;
  const ca = readFileSync(join(dataDir, 'compat-tls', 'self-signed-cert.pem'), 'utf8');
  const port = Number(new URL(server.muxIntake.url).port);
  const e2eBodies = [];
  let events = 0;
  let n = views;
  while (e2eBodies.length < posts) {
    const batch = [];
    while (batch.length < 300) {
      const v = viewEvents(key, n++, t0).events;
      batch.push(...v);
    }
    events += batch.length;
    e2eBodies.push(JSON.stringify({ metadata: { transmission_timestamp: Date.now() }, events: batch }));
  }
  const post = (body) =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/',
          method: 'POST',
          ca,
          headers: { 'content-type': 'text/plain' },
          agent: false,
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < e2eBodies.length) await post(e2eBodies[next++]);
    }),
  );
  const acceptedMs = performance.now() - started;
  await server.consumer.caughtUp();
  ms = performance.now() - started;
  console.log(
    `end to end (HTTPS POST → log → pipeline → DuckDB, 8 in flight): ${events} events, accepted at ${Math.round(events / (acceptedMs / 1000)).toLocaleString('en')} events/s, applied and committed at ${Math.round(events / (ms / 1000)).toLocaleString('en')} events/s`,
  );
  await server.close();
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
