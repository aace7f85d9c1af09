#!/usr/bin/env node
/**
 * `npm run bench:realtime-wire`: what one pipeline worker publishes on NATS
 * per real-time tick (`<prefix>.realtime`, docs/deploy.md), by number of
 * active views, next to the earlier format that also shipped every active
 * view and every outcome of the attempt window for the api node to filter.
 *
 * The views are driven through the real view model and real-time tracker
 * (the worker's code, in this process): 5 s samples, 2 % of views
 * rebuffering, a spread of CDNs, players, 200 titles, live/vod, and client
 * dimensions (20 countries, 3 OS, 3 browsers, 50 ASNs). The tick is encoded
 * with no filter set tracked, then with four tracked sets (one of them also
 * broken down by title), as the worker does.
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    views: { type: 'string', default: '1000,10000' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(`usage: npm run bench:realtime-wire -- [--views N[,N…]]
  --views  active views per run, comma-separated (default 1000,10000)`);
  process.exit(0);
}

const { makeSample } = await import('@openqoe/schema');
const dist = (p) => new URL(`../dist/${p}`, import.meta.url).href;
const { ActiveViews, DEFAULT_TIMERS } = await import(dist('pipeline/view-model/active-views.js'));
const { nativeItems } = await import(dist('pipeline/view-model/normalize-native.js'));
const { RealtimeTracker } = await import(dist('pipeline/realtime/realtime-tracker.js'));
const { PipelineEvents } = await import(dist('pipeline/pipeline-events.js'));
const { encodeTick } = await import(dist('cluster/realtime-share.js'));
const { setItems } = await import(dist('cluster/filter-sets.js'));
const { parseRealtimeFilters } = await import(dist('query/realtime/monitoring-filters.js'));

const TICK_MS = 5000;
const MAX_PAYLOAD = 1024 * 1024;
const CDNS = ['cdn-a', 'cdn-b', 'cdn-c', 'cdn-d', 'cdn-e'];
const PLAYERS = ['web', 'ios', 'android', 'tv'];
const COUNTRIES = 'US,DE,FR,GB,BR,IN,JP,CA,AU,ES,IT,NL,SE,PL,MX,AR,KR,ZA,NG,EG'.split(',');
const SETS = [
  { filters: ['cdn:cdn-b'], dims: [] },
  { filters: ['cdn:cdn-b', 'player_name:web'], dims: ['video_title'] },
  { filters: ['!stream_type:live'], dims: [] },
  { filters: ['country:DE'], dims: [] },
];

const enrich = (ip) => {
  const v = Number(ip);
  return {
    browser: ['Chrome', 'Safari', 'Firefox'][v % 3],
    browserVersion: '120.0',
    os: ['Windows', 'macOS', 'Android'][v % 3],
    osVersion: '10',
    deviceCategory: v % 3 === 2 ? 'mobile' : 'desktop',
    deviceBrand: '',
    deviceModel: '',
    country: COUNTRIES[v % COUNTRIES.length],
    region: `region-${v % 40}`,
    city: `city-${v % 80}`,
    asn: 64500 + (v % 50),
    asOrg: `as-org-${v % 50}`,
    ip: `203.0.113.${v % 250}`,
  };
};

/** The earlier wire format (every view's dimensions and part, every outcome), to compare with. */
function earlierFormat(t, windowMs) {
  const COUNTERS = ['concurrent', 'startingUp', 'watchMs', 'rebufferMs', 'bitrateSum', 'bitrateN', 'started'];
  const COUNTERS2 = ['startupFailed', 'ebvs', 'playbackFailed', 'startupSum'];
  const toWire = (a) => ({
    n: [...COUNTERS, ...COUNTERS2].map((k) => a[k]),
    s: a.startupCount > 0 ? Buffer.from(a.startupSketch().toProto()).toString('base64') : '',
    h: [...a.histogram],
  });
  const wv = (v) => ({ dims: v.dims, client: v.client });
  const views = t.views.map(({ view, tick }) => ({ v: wv(view), t: tick }));
  const outcomes = t.outcomes.map((o) => ({ atMs: o.atMs, outcome: o.outcome, v: wv(o.view) }));
  const parts = Math.max(1, Math.ceil(views.length / 1000), Math.ceil(outcomes.length / 1000));
  const out = [];
  for (let part = 0; part < parts; part++) {
    const msg = {
      worker: '1234@0,1,2,3',
      atMs: t.atMs,
      windowMs,
      envId: t.envId,
      part,
      parts,
      views: views.slice(part * 1000, (part + 1) * 1000),
      outcomes: outcomes.slice(part * 1000, (part + 1) * 1000),
    };
    if (part === 0) {
      msg.overall = toWire(t.overall);
      msg.dims = [...t.dims].map(([d, rows]) => [d, [...rows].map(([v, a]) => [v, toWire(a)])]);
    }
    out.push(Buffer.from(JSON.stringify(msg)));
  }
  return out;
}

function run(n) {
  const clock = { now: Math.floor(Date.now() / TICK_MS) * TICK_MS };
  const views = new ActiveViews(DEFAULT_TIMERS, { minStallMs: 250 }, enrich);
  const tracker = new RealtimeTracker(views, { tickMs: TICK_MS, attemptWindowMs: 60_000 }, () => clock.now);
  const events = new PipelineEvents(views);
  tracker.subscribe(events);
  const feed = (s) => {
    const segStart = clock.now - TICK_MS;
    for (let v = 0; v < n; v++) {
      const sample = makeSample({
        viewId: `wire-${v}`,
        sequenceNumber: s,
        state: s === 0 ? 'startup' : s >= 1 && v % 50 === 0 ? 'rebuffering' : 'playing',
        timestamp: segStart,
        durationMs: s === 0 ? 800 + (v % 20) * 100 : TICK_MS,
        viewerTime: segStart + TICK_MS,
        cdnHost: CDNS[v % CDNS.length],
        playerName: PLAYERS[v % PLAYERS.length],
        videoTitle: `title-${v % 200}`,
        videoId: `video-${v % 200}`,
        streamType: v % 3 === 0 ? 'live' : 'vod',
      });
      const arrival = {
        envId: 'env',
        receivedAtMs: clock.now,
        clockOffsetMs: 0,
        ip: String(v),
        userAgent: '',
      };
      const items = nativeItems([sample], []);
      views.apply(arrival, sample.viewId, items);
      const beacon = { arrival, sourceViewId: sample.viewId, view: views.get('env', sample.viewId), items };
      void events.deliver({ event: { beacons: [beacon], replay: false }, accepted: 0 });
    }
  };
  // Two windows: startups, then a whole window of playing (and 2 % rebuffering).
  feed(0);
  tracker.closeWindow(clock.now);
  clock.now += TICK_MS;
  feed(1);
  const [t] = tracker.closeWindow(clock.now);
  const bytes = (ms) => ms.reduce((a, m) => a + m.length, 0);
  const earlier = earlierFormat(t, TICK_MS);
  const plain = encodeTick('1234@0,1,2,3', t, TICK_MS, [], MAX_PAYLOAD);
  let started = performance.now();
  const items = SETS.flatMap((s, i) => setItems(t, `set-${i}`, parseRealtimeFilters(s.filters, []), s.dims));
  const setsMs = performance.now() - started;
  started = performance.now();
  const withSets = encodeTick('1234@0,1,2,3', t, TICK_MS, items, MAX_PAYLOAD);
  const encodeMs = performance.now() - started;
  return {
    n,
    concurrent: t.overall.concurrent,
    earlier: [bytes(earlier), earlier.length],
    plain: [bytes(plain), plain.length],
    withSets: [bytes(withSets), withSets.length],
    setsMs,
    encodeMs,
  };
}

const kb = ([b, m]) => `${(b / 1024).toFixed(1).padStart(8)} KB in ${String(m).padStart(2)} msg`;
console.log(`machine   ${cpus().length} × ${cpus()[0]?.model}, Node ${process.version}`);
console.log(`one worker's tick of one environment, tickMs ${TICK_MS}, max_payload ${MAX_PAYLOAD} bytes`);
console.log(
  'views    concurrent  earlier format (views + outcomes)   now, no filter set      now, 4 tracked sets     sets computed   encoded',
);
for (const n of args.views.split(',').map(Number)) {
  const r = run(n);
  console.log(
    `${String(r.n).padStart(6)} ${String(r.concurrent).padStart(10)}  ${kb(r.earlier).padEnd(34)}  ${kb(r.plain).padEnd(22)}  ${kb(r.withSets).padEnd(22)}  ${r.setsMs.toFixed(1).padStart(8)} ms  ${r.encodeMs.toFixed(1).padStart(5)} ms`,
  );
}
