/**
 * The query API over real HTTP against views made by the real pipeline from
 * scripted beacons. Every expected number below is worked out by hand from
 * the script in the comments, never by calling the code under test.
 *
 * Six views, ending at hh:30 / hh:35 of the last three hours (H = start of
 * the current hour), countries from the client address (test geo database):
 *
 * | view | ends       | country | cdn   | startup | playing | stalls        | outcome            |
 * |------|------------|---------|-------|---------|---------|---------------|--------------------|
 * | v1   | H−3h+30m   | GB      | cdn-a | 1000    | 20000   | —             | success            |
 * | v2   | H−3h+35m   | GB      | cdn-a | 3000    | 10000   | 2000          | success            |
 * | v3   | H−2h+30m   | SE      | cdn-b | 500     | 30000   | —             | success            |
 * | v4   | H−2h+35m   | SE      | cdn-b | 2000    | 10000   | 1000 + 1000   | success            |
 * | v5   | H−1h+30m   | SE      | cdn-a | 4000    | —       | —             | EBVS (4 s)         |
 * | v6   | H−1h+35m   | GB      | cdn-b | 1500    | 5000    | —             | fatal error        |
 *
 * Watch time = startup + playing + stalls: 21000, 15000, 30500, 14000, 4000, 6500 → Σ 91000.
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
const GB_IP = '81.2.69.142';
const SE_IP = '89.160.20.112';

interface Spec {
  id: string;
  endMs: number;
  ip: string;
  cdn: string;
  startup: number;
  playing: number[];
  stalls: number[];
  fatal?: boolean;
}

/** Lays a view's segments out so that it ends exactly at `endMs`. */
function beaconFor(envKey: string, s: Spec): string {
  const durations = [
    s.startup,
    ...s.playing.flatMap((p, i) => (i < s.stalls.length ? [p, s.stalls[i]!] : [p])),
  ];
  const total = durations.reduce((a, b) => a + b, 0);
  let t = s.endMs - total;
  let seq = 0;
  const samples: Sample[] = [];
  const events: PlayerEvent[] = [
    makeEvent({ viewId: s.id, sequenceNumber: seq++, type: 'playrequest', state: 'startup', viewerTime: t }),
  ];
  const seg = (state: Sample['state'], ms: number) => {
    samples.push(
      makeSample({
        viewId: s.id,
        sequenceNumber: seq++,
        state,
        timestamp: t,
        durationMs: ms,
        viewerTime: t + ms,
        cdnProvider: s.cdn,
      }),
    );
    t += ms;
  };
  seg('startup', s.startup);
  s.playing.forEach((p, i) => {
    seg('playing', p);
    if (i < s.stalls.length) seg('rebuffering', s.stalls[i]!);
  });
  if (s.fatal) {
    events.push(
      makeEvent({
        viewId: s.id,
        sequenceNumber: seq++,
        type: 'error',
        state: 'error',
        viewerTime: t,
        errorCode: '3',
        errorFatal: true,
      }),
    );
  }
  events.push(
    makeEvent({ viewId: s.id, sequenceNumber: seq++, type: 'viewend', state: 'ended', viewerTime: t }),
  );
  return JSON.stringify(makeBeacon({ envKey, sentAt: Date.now(), samples, events }));
}

// The same suite on every store: the query API must answer the same from each.
describe.each(runnableStores('data API'))('data API on $name', (store) => {
  const dataDir = tempDataDir('openqoe-data-api-');
  let server: ServerProcess;
  let auth: string;
  let envA: string;
  const H = Math.floor(Date.now() / HOUR) * HOUR;
  const from = (H - 5 * HOUR) / 1000;
  const to = (H + HOUR) / 1000;
  const tf = `timeframe[]=${from}&timeframe[]=${to}`;

  const get = async (path: string, authorization = auth) => {
    const res = await fetch(`${server.url}${path}`, { headers: { authorization } });
    // biome-ignore lint/suspicious/noExplicitAny: answers are JSON checked field by field against hand-written values
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const value = async (path: string) => (await get(path)).body['data'].value as number;

  beforeAll(async () => {
    server = await startQueryServer(dataDir, store);
    auth = server.adminAuth();
    envA = server.bootstrap().environment.id;
    const key = server.bootstrap().environment.key;
    const specs: Spec[] = [
      {
        id: 'v1',
        endMs: H - 3 * HOUR + 30 * MIN,
        ip: GB_IP,
        cdn: 'cdn-a',
        startup: 1000,
        playing: [20_000],
        stalls: [],
      },
      {
        id: 'v2',
        endMs: H - 3 * HOUR + 35 * MIN,
        ip: GB_IP,
        cdn: 'cdn-a',
        startup: 3000,
        playing: [5000, 5000],
        stalls: [2000],
      },
      {
        id: 'v3',
        endMs: H - 2 * HOUR + 30 * MIN,
        ip: SE_IP,
        cdn: 'cdn-b',
        startup: 500,
        playing: [30_000],
        stalls: [],
      },
      {
        id: 'v4',
        endMs: H - 2 * HOUR + 35 * MIN,
        ip: SE_IP,
        cdn: 'cdn-b',
        startup: 2000,
        playing: [4000, 3000, 3000],
        stalls: [1000, 1000],
      },
      {
        id: 'v5',
        endMs: H - 1 * HOUR + 30 * MIN,
        ip: SE_IP,
        cdn: 'cdn-a',
        startup: 4000,
        playing: [],
        stalls: [],
      },
      {
        id: 'v6',
        endMs: H - 1 * HOUR + 35 * MIN,
        ip: GB_IP,
        cdn: 'cdn-b',
        startup: 1500,
        playing: [5000],
        stalls: [],
        fatal: true,
      },
    ];
    for (const s of specs) {
      const r = await postBeacon(server.url, beaconFor(key, s), {
        'content-type': 'text/plain',
        'x-forwarded-for': s.ip,
      });
      expect(r.status).toBe(202);
    }
    await waitFor(
      async () => (await value(`/data/v1/metrics/views/overall?${tf}`)) === 6,
      'the six views to be stored',
    );
    if (store.kind !== 'duckdb') {
      // Every hour with a view refreshed into the rollup, so the numbers below come from it.
      await waitForRollup(server, 3);
    }
  });

  afterAll(async () => {
    await server?.kill('SIGTERM');
    removeDir(dataDir);
  });

  it('answers overall values', async () => {
    const o = (await get(`/data/v1/metrics/video_startup_time/overall?${tf}`)).body;
    // Started views' startups: 500, 1000, 1500, 2000, 3000 (v5 never started).
    expect(o['data']).toEqual({
      value: 1500,
      measurement: 'median',
      unit: 'ms',
      total_views: 6,
      views_with_value: 5,
      total_watch_time_ms: 91_000,
      total_playing_time_ms: 20_000 + 10_000 + 30_000 + 10_000 + 0 + 5000,
    });
    expect(o['timeframe']).toEqual([from, to]);
    // p95 (linear): position 0.95 × 4 = 3.8 → 2000 + 0.8 × 1000.
    expect(await value(`/data/v1/metrics/video_startup_time/overall?${tf}&measurement=95th`)).toBeCloseTo(
      2800,
      6,
    );
    expect(await value(`/data/v1/metrics/video_startup_time/overall?${tf}&measurement=avg`)).toBe(1600);
    expect(await value(`/data/v1/metrics/watch_time/overall?${tf}`)).toBe(91_000);
    // Σ rebuffering 4000 ÷ Σ watch 91000.
    expect(await value(`/data/v1/metrics/rebuffer_percentage/overall?${tf}`)).toBeCloseTo(
      (100 * 4000) / 91_000,
      9,
    );
    expect(await value(`/data/v1/metrics/rebuffer_count/overall?${tf}`)).toBe(0.5);
    expect(await value(`/data/v1/metrics/exits_before_video_start/overall?${tf}`)).toBeCloseTo(100 / 6, 9);
    expect(await value(`/data/v1/metrics/playback_failure_percentage/overall?${tf}`)).toBeCloseTo(100 / 6, 9);
    expect(await value(`/data/v1/metrics/video_startup_failure_percentage/overall?${tf}`)).toBe(0);
    // Playback success: 100 × 4 successes, 50 for the EBVS, 0 for the failure → 450 / 6.
    expect(await value(`/data/v1/metrics/playback_success_score/overall?${tf}`)).toBe(75);
  });

  it('filters by dimension, with negation and alternatives', async () => {
    expect(await value(`/data/v1/metrics/views/overall?${tf}&filters[]=country:GB`)).toBe(3);
    expect(await value(`/data/v1/metrics/views/overall?${tf}&filters[]=!country:GB`)).toBe(3);
    expect(
      await value(`/data/v1/metrics/views/overall?${tf}&filters[]=country:GB&filters[]=country:SE`),
    ).toBe(6);
    expect(
      await value(`/data/v1/metrics/views/overall?${tf}&filters[]=country:SE&filters[]=cdn_provider:cdn-a`),
    ).toBe(1);
    // GB startups: 1000, 3000, 1500.
    expect(await value(`/data/v1/metrics/video_startup_time/overall?${tf}&filters[]=country:GB`)).toBe(1500);
    const bad = await get(`/data/v1/metrics/views/overall?${tf}&filters[]=planet:mars`);
    expect(bad.status).toBe(400);
    expect(bad.body['error'].fields[0]).toEqual({
      path: 'filters[0]',
      problem: '"planet" is not a dimension; see GET /data/v1/dimensions',
    });
  });

  it('answers timeseries buckets, empty ones included', async () => {
    const r = (await get(`/data/v1/metrics/views/timeseries?${tf}&granularity=hour`)).body;
    expect(r['data']).toEqual([
      { time: (H - 5 * HOUR) / 1000, value: null, views: 0 },
      { time: (H - 4 * HOUR) / 1000, value: null, views: 0 },
      { time: (H - 3 * HOUR) / 1000, value: 2, views: 2 },
      { time: (H - 2 * HOUR) / 1000, value: 2, views: 2 },
      { time: (H - 1 * HOUR) / 1000, value: 2, views: 2 },
      { time: H / 1000, value: null, views: 0 },
    ]);
    // Startup per hour: (1000, 3000) → 2000; (500, 2000) → 1250; (v5 none, 1500) → 1500.
    const s = (await get(`/data/v1/metrics/video_startup_time/timeseries?${tf}&granularity=hour`)).body;
    expect(s['data'].slice(2, 5).map((b: { value: number }) => b.value)).toEqual([2000, 1250, 1500]);
  });

  it('breaks down by dimension with negative impact', async () => {
    const r = (await get(`/data/v1/metrics/video_startup_time/breakdown?${tf}&group_by=cdn_provider`)).body;
    // cdn-a: 1000, 3000 → 2000 (3 views incl. the EBVS); cdn-b: 500, 2000, 1500 → 1500. Overall 1500.
    // Impact: (2000 − 1500) × 3/6 = 250 and 0.
    expect(r['data']).toEqual([
      {
        field: 'cdn-a',
        value: 2000,
        views: 3,
        total_watch_time_ms: 21_000 + 15_000 + 4000,
        negative_impact: 250,
        share_of_views: 50,
      },
      {
        field: 'cdn-b',
        value: 1500,
        views: 3,
        total_watch_time_ms: 30_500 + 14_000 + 6500,
        negative_impact: 0,
        share_of_views: 50,
      },
    ]);
    expect(r['total_row_count']).toBe(2);
    const byCountry = (await get(`/data/v1/metrics/views/breakdown?${tf}&group_by=country&order_by=field`))
      .body;
    expect(byCountry['data'].map((x: { field: string; views: number }) => [x.field, x.views])).toEqual([
      ['GB', 3],
      ['SE', 3],
    ]);
  });

  it('lists views with paging and sorting, and shows one view with its timeline', async () => {
    const page2 = (await get(`/data/v1/video-views?${tf}&limit=2&page=2`)).body;
    // By view end, newest first: v6, v5, v4, v3, v2, v1.
    expect(page2['data'].map((v: { view_id: string }) => v.view_id)).toEqual(['v4', 'v3']);
    expect(page2['total_row_count']).toBe(6);
    const byStartup = (
      await get(`/data/v1/video-views?${tf}&order_by=video_startup_time&order_direction=asc&limit=3`)
    ).body;
    expect(byStartup['data'].map((v: { view_id: string }) => v.view_id)).toEqual(['v3', 'v1', 'v6']);
    const gb = (await get(`/data/v1/video-views?${tf}&filters[]=country:GB&order_direction=asc`)).body;
    expect(gb['data'].map((v: { view_id: string }) => v.view_id)).toEqual(['v1', 'v2', 'v6']);

    const one = (await get('/data/v1/video-views/v4')).body['data'];
    // Event time = device time + clock offset (receive − sentAt), so the beacon's transit time is in it.
    expect(Math.abs(Date.parse(one.view_end) - (H - 2 * HOUR + 35 * MIN))).toBeLessThan(1000);
    expect(one.country).toBe('SE');
    expect(one.rebuffer_count).toBe(2);
    expect(one.rebuffer_duration_ms).toBe(2000);
    expect(one.watch_time_ms).toBe(14_000);
    expect(
      one.timeline.map((t: { kind: string; state: string; duration_ms: number | null }) => [
        t.kind,
        t.state,
        t.duration_ms,
      ]),
    ).toEqual([
      ['event', 'startup', null],
      ['sample', 'startup', 2000],
      ['sample', 'playing', 4000],
      ['sample', 'rebuffering', 1000],
      ['sample', 'playing', 3000],
      ['sample', 'rebuffering', 1000],
      ['sample', 'playing', 3000],
      ['event', 'ended', null],
    ]);
    expect(one.timeline.at(-1).time).toBe(one.view_end);
    expect((await get('/data/v1/video-views/nope')).status).toBe(404);
  });

  it('documents every route with a JSON answer in OpenAPI, with an example', async () => {
    const doc = (await (await fetch(`${server.url}/docs/json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const missing: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        if (method === 'delete' || path === '/metrics') continue; // 204 without a body; Prometheus text
        if (!JSON.stringify(op).includes('"example')) missing.push(`${method} ${path}`);
      }
    }
    expect(missing).toEqual([]);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/data/v1/video-views/{view_id}', '/data/v1/metrics/{metric_id}/breakdown']),
    );
  });

  it('refuses requests without a valid token, and data of environments the token does not cover', async () => {
    const noToken = await fetch(`${server.url}/data/v1/metrics/views/overall`);
    expect(noToken.status).toBe(401);
    const wrong = `Basic ${Buffer.from('nobody:nothing').toString('base64')}`;
    expect((await get('/data/v1/metrics/views/overall', wrong)).status).toBe(401);

    // A second environment with its own data:read token.
    const env = (await (
      await fetch(`${server.url}/system/v1/environments`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'other' }),
      })
    ).json()) as { data: { id: string } };
    const tok = (await (
      await fetch(`${server.url}/system/v1/access-tokens`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'reader-b',
          permissions: ['data:read'],
          environment_ids: [env.data.id],
        }),
      })
    ).json()) as { data: { id: string; secret: string } };
    const readerB = `Basic ${Buffer.from(`${tok.data.id}:${tok.data.secret}`).toString('base64')}`;

    const forbidden = await get(`/data/v1/metrics/views/overall?${tf}&environment_id=${envA}`, readerB);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body['error'].code).toBe('QOE_ERR_FORBIDDEN');
    expect((await get(`/data/v1/video-views/v1?environment_id=${envA}`, readerB)).status).toBe(403);
    // Without naming an environment it sees only its own, which is empty.
    expect((await get(`/data/v1/metrics/views/overall?${tf}`, readerB)).body['data'].value).toBe(0);
    expect((await get('/data/v1/video-views/v1', readerB)).status).toBe(404);

    // A token without data:read.
    const sys = (await (
      await fetch(`${server.url}/system/v1/access-tokens`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'ops', permissions: ['system'], all_environments: true }),
      })
    ).json()) as { data: { id: string; secret: string } };
    const ops = `Basic ${Buffer.from(`${sys.data.id}:${sys.data.secret}`).toString('base64')}`;
    expect((await get(`/data/v1/metrics/views/overall?${tf}`, ops)).status).toBe(403);
  });

  it('answered the metrics above from the rollup on ClickHouse, from the views on DuckDB', async () => {
    const fromRollup = await readMetric(server, 'openqoe_query_metrics_requests_total{source="rollup"}');
    const fromViews = await readMetric(server, 'openqoe_query_metrics_requests_total{source="views"}');
    if (store.kind === 'duckdb') {
      expect(fromRollup).toBe(0);
      expect(fromViews).toBeGreaterThan(10);
    } else expect(fromRollup).toBeGreaterThan(10);
  });
});
