/**
 * The engagement and delivery metrics and the percentiles, over real HTTP
 * against views made by the real pipeline from native beacons, on every
 * store (DuckDB; ClickHouse on chDB, where whole hours come from the
 * rollup). The expected numbers are computed here from the views the test
 * sends (`truth` below: its own arithmetic on the specs, never the code
 * under test), for overall, per hour (timeseries) and per country
 * (breakdown), every measurement each metric offers.
 *
 * Ten views over three hours, in two countries: viewers with an id, with
 * only a session id, only a player instance, or none (the view is its own
 * viewer); views with and without a play request seen; VOD views with a
 * duration, without one, and live views with a latency; media requests with
 * time to first byte; dropped frames.
 */
import { makeBeacon, makeEvent, makeSample, type PlayerEvent, type Sample } from '@openqoe/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  postBeacon,
  readMetric,
  removeDir,
  type ServerProcess,
  tempDataDir,
  waitFor,
  waitForRollup,
} from './helpers/server-process.js';
import { runnableStores, startQueryServer } from './helpers/stores.js';

const HOUR = 3_600_000;
const MIN = 60_000;
const IPS = { GB: '81.2.69.142', SE: '89.160.20.112' } as const;

interface Spec {
  id: string;
  /** Hours before the current one it ends in, and the minute. */
  hoursAgo: number;
  minute: number;
  country: keyof typeof IPS;
  ids: [viewer: string, session: string, instance: string];
  /** A playrequest event and a startup sample; without, the view begins with playback. */
  playRequest: boolean;
  startup: number;
  playing: number;
  /** Playhead at the end of playback; the content's duration (0: not sent); live. */
  playheadMs: number;
  durationMs: number;
  live?: boolean;
  liveLatencyMs?: number;
  requests?: [count: number, ttfbTotalMs: number];
  dropped?: number;
}

const SPECS: Spec[] = [
  {
    id: 'a',
    hoursAgo: 3,
    minute: 10,
    country: 'GB',
    ids: ['u1', 's1', 'p1'],
    playRequest: true,
    startup: 800,
    playing: 60_000,
    playheadMs: 30_000,
    durationMs: 60_000,
    requests: [10, 1200],
    dropped: 12,
  },
  {
    id: 'b',
    hoursAgo: 3,
    minute: 20,
    country: 'GB',
    ids: ['u1', 's2', 'p2'],
    playRequest: true,
    startup: 1200,
    playing: 30_000,
    playheadMs: 60_000,
    durationMs: 60_000,
    requests: [4, 800],
  },
  {
    id: 'c',
    hoursAgo: 3,
    minute: 30,
    country: 'SE',
    ids: ['', 's3', 'p3'],
    playRequest: false,
    startup: 0,
    playing: 20_000,
    playheadMs: 90_000,
    durationMs: 120_000,
    dropped: 30,
  },
  {
    id: 'd',
    hoursAgo: 2,
    minute: 10,
    country: 'SE',
    ids: ['', 's3', 'p4'],
    playRequest: true,
    startup: 2500,
    playing: 45_000,
    playheadMs: 45_000,
    durationMs: 0,
    requests: [6, 3000],
    dropped: 3,
  },
  {
    id: 'e',
    hoursAgo: 2,
    minute: 20,
    country: 'GB',
    ids: ['', '', 'p5'],
    playRequest: true,
    startup: 400,
    playing: 90_000,
    playheadMs: 0,
    durationMs: 0,
    live: true,
    liveLatencyMs: 4200,
    requests: [20, 1000],
  },
  {
    id: 'f',
    hoursAgo: 2,
    minute: 30,
    country: 'SE',
    ids: ['', '', 'p5'],
    playRequest: true,
    startup: 600,
    playing: 30_000,
    playheadMs: 0,
    durationMs: 0,
    live: true,
    liveLatencyMs: 9100,
    dropped: 90,
  },
  {
    id: 'g',
    hoursAgo: 1,
    minute: 10,
    country: 'GB',
    ids: ['', '', ''],
    playRequest: true,
    startup: 3100,
    playing: 15_000,
    playheadMs: 15_000,
    durationMs: 30_000,
    requests: [3, 2100],
  },
  {
    id: 'h',
    hoursAgo: 1,
    minute: 20,
    country: 'GB',
    ids: ['', '', ''],
    playRequest: false,
    startup: 0,
    playing: 10_000,
    playheadMs: 200_000,
    durationMs: 100_000,
  },
  {
    id: 'i',
    hoursAgo: 1,
    minute: 30,
    country: 'SE',
    ids: ['u2', '', 'p6'],
    playRequest: true,
    startup: 1700,
    playing: 25_000,
    playheadMs: 5000,
    durationMs: 50_000,
    live: true,
    liveLatencyMs: 2500,
    requests: [5, 500],
    dropped: 7,
  },
  {
    id: 'j',
    hoursAgo: 1,
    minute: 40,
    country: 'SE',
    ids: ['u2', '', 'p7'],
    playRequest: true,
    startup: 950,
    playing: 40_000,
    playheadMs: 36_000,
    durationMs: 40_000,
    dropped: 1,
  },
];

/** The view as beacons carry it: playrequest, startup, one playing sample with the facts, viewend. */
function beaconFor(envKey: string, s: Spec, endMs: number): string {
  let t = endMs - s.startup - s.playing;
  let seq = 0;
  const [viewerId, sessionId, playerInstanceId] = s.ids;
  const common = {
    viewId: s.id,
    viewerId,
    sessionId,
    playerInstanceId,
    streamType: s.live ? 'live' : 'vod',
  } as const;
  const events: PlayerEvent[] = [];
  const samples: Sample[] = [];
  if (s.playRequest) {
    events.push(
      makeEvent({
        viewId: s.id,
        sequenceNumber: seq++,
        type: 'playrequest',
        state: 'startup',
        viewerTime: t,
      }),
    );
    samples.push(
      makeSample({
        ...common,
        sequenceNumber: seq++,
        state: 'startup',
        timestamp: t,
        durationMs: s.startup,
        viewerTime: t + s.startup,
        // No requests while starting (the fixture's defaults have some).
        requestCount: 0,
        requestTtfbTotalMs: 0,
      }),
    );
    t += s.startup;
  }
  samples.push(
    makeSample({
      ...common,
      sequenceNumber: seq++,
      state: 'playing',
      timestamp: t,
      durationMs: s.playing,
      viewerTime: t + s.playing,
      playedMs: s.playing,
      videoTimeStartMs: 0,
      videoTimeEndMs: s.playheadMs,
      ...(s.durationMs > 0 && { videoDurationMs: s.durationMs }),
      liveLatencyMs: s.liveLatencyMs ?? 0,
      requestCount: s.requests?.[0] ?? 0,
      requestTtfbTotalMs: s.requests?.[1] ?? 0,
      droppedFrames: s.dropped ?? 0,
    }),
  );
  t += s.playing;
  events.push(
    makeEvent({ viewId: s.id, sequenceNumber: seq++, type: 'viewend', state: 'ended', viewerTime: t }),
  );
  return JSON.stringify(makeBeacon({ envKey, sentAt: Date.now(), samples, events }));
}

// --- The truth, from the specs alone. ---

/** Linear interpolation between closest ranks (DuckDB quantile_cont, ClickHouse quantileExactInclusive). */
function quantile(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  const v = [...values].sort((a, b) => a - b);
  const pos = q * (v.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return v[lo]! + (pos - lo) * (v[hi]! - v[lo]!);
}
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const mean = (xs: number[]) => (xs.length === 0 ? null : sum(xs) / xs.length);
const ratio = (a: number, b: number) => (b === 0 ? null : a / b);
const LEVELS = { median: 0.5, '75th': 0.75, '90th': 0.9, '95th': 0.95, '99th': 0.99 } as const;

/** Per-view values as the rules of docs/metrics.md give them. */
const perView = {
  startup: (s: Spec) => (s.playRequest ? s.startup : null),
  completion: (s: Spec) =>
    s.live || s.durationMs === 0 ? null : Math.min(100, (100 * s.playheadMs) / s.durationMs),
  latency: (s: Spec) => (s.liveLatencyMs ? s.liveLatencyMs : null),
  ttfb: (s: Spec) => (s.requests && s.requests[0] > 0 ? s.requests[1] / s.requests[0] : null),
  droppedPerMin: (s: Spec) => (s.dropped ?? 0) / (s.playing / MIN),
  viewer: (s: Spec) => s.ids.find((x) => x !== '') ?? s.id,
  watch: (s: Spec) => s.startup + s.playing,
};

type Values = Record<string, number | null>;
/** A metric's value per measurement over `views`, with its per-view values `of` where it has them. */
function distribution(views: Spec[], of: (s: Spec) => number | null, avg: number | null): Values {
  const xs = views.map(of).filter((x): x is number => x !== null);
  const out: Values = { avg };
  for (const [m, q] of Object.entries(LEVELS)) out[m] = quantile(xs, q);
  return out;
}
const valuesOf = (views: Spec[], of: (s: Spec) => number | null) =>
  views.map(of).filter((x): x is number => x !== null);

/** Every metric and measurement checked, computed over `views`. */
function truth(views: Spec[]): Record<string, Values> {
  const viewers = new Set(views.map(perView.viewer)).size;
  const completions = valuesOf(views, perView.completion);
  const startups = valuesOf(views, perView.startup);
  const withTtfb = views.filter((s) => perView.ttfb(s) !== null);
  return {
    plays: {
      count: views.filter((s) => s.playRequest).length,
      avg: views.length ? (100 * views.filter((s) => s.playRequest).length) / views.length : null,
    },
    unique_viewers: { count: viewers },
    views_per_viewer: { avg: ratio(views.length, viewers) },
    watch_time_per_viewer: { avg: ratio(sum(views.map(perView.watch)), viewers) },
    completion_percentage: {
      ...distribution(views, perView.completion, mean(completions)),
      min: completions.length ? Math.min(...completions) : null,
      max: completions.length ? Math.max(...completions) : null,
    },
    live_stream_latency: distribution(views, perView.latency, mean(valuesOf(views, perView.latency))),
    // Σ TTFB ÷ Σ requests: each request weighs the same.
    request_latency: distribution(
      views,
      perView.ttfb,
      ratio(sum(withTtfb.map((s) => s.requests![1])), sum(withTtfb.map((s) => s.requests![0]))),
    ),
    dropped_frame_frequency: distribution(
      views,
      perView.droppedPerMin,
      ratio(sum(views.map((s) => s.dropped ?? 0)), sum(views.map((s) => s.playing)) / MIN),
    ),
    video_startup_time: { ...distribution(views, perView.startup, mean(startups)) },
  };
}

const close = (actual: unknown, expected: number | null, what: string) => {
  if (expected === null) expect(actual, what).toBeNull();
  else {
    expect(typeof actual, what).toBe('number');
    expect(Math.abs((actual as number) - expected), `${what}: ${actual} vs ${expected}`).toBeLessThanOrEqual(
      1e-9 * Math.max(1, Math.abs(expected)),
    );
  }
};

describe.each(runnableStores('metric values'))('new metrics and percentiles on $name', (store) => {
  const dataDir = tempDataDir('openqoe-metric-values-');
  let server: ServerProcess;
  let auth: string;
  const H = Math.floor(Date.now() / HOUR) * HOUR;
  const endOf = (s: Spec) => H - s.hoursAgo * HOUR + s.minute * MIN;
  const from = (H - 5 * HOUR) / 1000;
  const to = (H + HOUR) / 1000;
  const tf = `timeframe[]=${from}&timeframe[]=${to}`;

  const get = async (path: string) => {
    const res = await fetch(`${server.url}${path}`, { headers: { authorization: auth } });
    expect(res.status, path).toBe(200);
    // biome-ignore lint/suspicious/noExplicitAny: answers are JSON compared field by field with the truth
    return (await res.json()) as Record<string, any>;
  };

  beforeAll(async () => {
    server = await startQueryServer(dataDir, store);
    auth = server.adminAuth();
    const key = server.bootstrap().environment.key;
    for (const s of SPECS) {
      // Views hours in the past: loaded as an admin's backfill, which trusts the device clock (a public
      // beacon's times are kept within its receipt, docs/metrics.md "clocks").
      const r = await postBeacon(
        server.url,
        beaconFor(key, s, endOf(s)),
        {
          'content-type': 'text/plain',
          'x-forwarded-for': IPS[s.country],
          authorization: server.adminAuth(),
        },
        '?backfill=true',
      );
      expect(r.status).toBe(202);
    }
    await waitFor(
      async () => (await get(`/data/v1/metrics/views/overall?${tf}`))['data'].value === SPECS.length,
      'the views to be stored',
    );
    if (store.kind !== 'duckdb') {
      // Every hour refreshed into the rollup, so whole hours below come from it.
      await waitForRollup(server, 3);
    }
  });

  afterAll(async () => {
    await server?.kill('SIGTERM');
    removeDir(dataDir);
  });

  const all = truth(SPECS);

  it('lists the new metrics with their measurements', async () => {
    const list = (await get('/data/v1/metrics'))['data'] as { id: string; measurements: string[] }[];
    const byId = new Map(list.map((m) => [m.id, m.measurements]));
    for (const [id, values] of Object.entries(all))
      expect(byId.get(id), id).toEqual(expect.arrayContaining(Object.keys(values)));
    expect(byId.get('video_startup_time')).toEqual(
      expect.arrayContaining(['avg', 'median', '75th', '90th', '95th', '99th']),
    );
  });

  it('answers overall values equal to the truth, every measurement', async () => {
    // The fixture covers what it claims: some of each case.
    expect(all['unique_viewers']!['count']).toBe(6);
    expect(all['plays']!['count']).toBe(8);
    for (const [id, values] of Object.entries(all))
      for (const [m, expected] of Object.entries(values)) {
        const body = await get(`/data/v1/metrics/${id}/overall?${tf}&measurement=${m}`);
        close(body['data'].value, expected, `${id} ${m}`);
      }
    // A share's count is a number of views; its average a percentage.
    expect((await get(`/data/v1/metrics/plays/overall?${tf}&measurement=count`))['data'].unit).toBe('views');
    expect((await get(`/data/v1/metrics/plays/overall?${tf}&measurement=avg`))['data'].unit).toBe('percent');
  });

  it('answers each hour and each country as the truth over its views', async () => {
    for (const [id, values] of Object.entries(all))
      for (const m of Object.keys(values)) {
        const series = await get(`/data/v1/metrics/${id}/timeseries?${tf}&measurement=${m}&granularity=hour`);
        for (const point of series['data'] as { time: number; value: number | null }[]) {
          const inHour = SPECS.filter((s) => Math.floor(endOf(s) / HOUR) * HOUR === point.time * 1000);
          close(point.value, inHour.length ? truth(inHour)[id]![m]! : null, `${id} ${m} at ${point.time}`);
        }
        const rows = (await get(`/data/v1/metrics/${id}/breakdown?${tf}&measurement=${m}&group_by=country`))[
          'data'
        ] as { field: string; value: number | null }[];
        expect(rows.map((r) => r.field).sort(), id).toEqual(['GB', 'SE']);
        for (const r of rows)
          close(
            r.value,
            truth(SPECS.filter((s) => s.country === r.field))[id]![m]!,
            `${id} ${m} in ${r.field}`,
          );
      }
  });

  it.runIf(store.kind !== 'duckdb')('answered from the rollup on ClickHouse', async () => {
    expect(await readMetric(server, 'openqoe_query_metrics_requests_total{source="rollup"}')).toBeGreaterThan(
      0,
    );
  });
});
