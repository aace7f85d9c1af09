/**
 * The error analysis (/data/v1/errors), the error-code breakdown's shares and
 * the CSV answers, against the real server on every store, from views this
 * test sent itself (backfilled, so every view ends exactly where the script
 * says). Ten views, ending a minute apart before T0:
 *
 * | view | ends      | player        | error                                   |
 * |------|-----------|---------------|-----------------------------------------|
 * | e1   | T0 − 50 m | hls.js 1.5.0  | E_NET fatal, MSG_A                      |
 * | e2   | T0 − 40 m | hls.js 1.5.0  | E_NET fatal, MSG_A                      |
 * | e3   | T0 − 30 m | shaka 4.7.0   | E_NET fatal, "timeout"                  |
 * | e4   | T0 − 20 m | shaka 4.7.0   | E_DRM fatal, "license refused"          |
 * | e5   | T0 − 10 m | hls.js 1.5.0  | GEO business (not a failure), "geo"     |
 * | ok1…5| T0 − 9…5 m| hls.js 1.5.0  | none                                    |
 *
 * MSG_A and ok1's title hold a comma, quotes and a line break, so they also prove the CSV quoting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvObjects } from './helpers/csv-reader.js';
import { postBackfill, ViewScript } from './helpers/monitoring-script.js';
import {
  removeDir,
  type ServerProcess,
  startServer,
  TEST_CONFIG,
  tempDataDir,
  waitFor,
  waitForRollup,
} from './helpers/server-process.js';
import { runnableStores } from './helpers/stores.js';

const MIN = 60_000;
const MSG_A = 'network down, "retry"\nlater';
const TITLE = 'Title, "quoted"\nsecond line';
// biome-ignore lint/suspicious/noExplicitAny: answers are JSON compared field by field
type Body = Record<string, any>;

/** A JSON row as the documented CSV rules write it: dotted objects, lists as JSON text, null empty. */
function flat(v: unknown, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  if (v !== null && typeof v === 'object' && !Array.isArray(v))
    for (const [k, x] of Object.entries(v)) flat(x, prefix ? `${prefix}.${k}` : k, out);
  else out[prefix] = v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return out;
}

/** Every field of every JSON row equals its CSV cell, and the CSV has no other rows. */
function expectSameRows(csv: Record<string, string>[], json: Record<string, string>[]): void {
  expect(csv.length).toBe(json.length);
  json.forEach((row, i) => {
    for (const [k, v] of Object.entries(row))
      expect({ row: i, column: k, cell: csv[i]![k] }).toEqual({ row: i, column: k, cell: v });
  });
}

interface Spec {
  id: string;
  endMs: number;
  player: [string, string];
  error?: { code: string; message: string; fatal: boolean };
  title?: string;
}

function viewItems(s: Spec): ViewScript {
  const [playerSoftware, playerVersion] = s.player;
  const v = new ViewScript(s.id, s.endMs - 3000, {
    playerSoftware,
    playerVersion,
    videoTitle: s.title ?? 'clip',
  })
    .ev('playrequest', 'startup')
    .seg('startup', 1000)
    .seg('playing', 2000);
  if (s.error)
    v.ev('error', s.error.fatal ? 'error' : 'playing', {
      errorCode: s.error.code,
      errorMessage: s.error.message,
      errorFatal: s.error.fatal,
      errorBusiness: !s.error.fatal,
    });
  return v.ev('viewend', 'ended');
}

describe.each(runnableStores('error analysis and CSV'))('error analysis and CSV on $name', (store) => {
  const dataDir = tempDataDir('openqoe-errors-');
  let server: ServerProcess;
  const T0 = Math.floor(Date.now() / MIN) * MIN;
  const end = (minutesBefore: number) => T0 - minutesBefore * MIN;
  const iso = (minutesBefore: number) => new Date(end(minutesBefore)).toISOString();
  const tf = `timeframe[]=${(T0 - 3 * 60 * MIN) / 1000}&timeframe[]=${(T0 + 60 * MIN) / 1000}`;

  const fetchAs = (path: string, accept: string) =>
    fetch(`${server.url}${path}`, { headers: { authorization: server.adminAuth(), accept } });
  const json = async (path: string): Promise<Body> => {
    const res = await fetchAs(path, 'application/json');
    expect(res.status).toBe(200);
    return (await res.json()) as Body;
  };
  const csv = async (path: string) => {
    const res = await fetchAs(path, 'text/csv');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    return csvObjects(await res.text());
  };

  beforeAll(async () => {
    server = await startServer({
      dataDir,
      config: {
        ...TEST_CONFIG,
        views: { idleCompleteMs: 500, tickIntervalMs: 50 },
        clickhouse: { rollupRefreshIntervalMs: 200, rollupSettleMs: 0 },
      },
      args: store.args,
    });
    const hls: [string, string] = ['hls.js', '1.5.0'];
    const shaka: [string, string] = ['shaka', '4.7.0'];
    const specs: Spec[] = [
      { id: 'e1', endMs: end(50), player: hls, error: { code: 'E_NET', message: MSG_A, fatal: true } },
      { id: 'e2', endMs: end(40), player: hls, error: { code: 'E_NET', message: MSG_A, fatal: true } },
      { id: 'e3', endMs: end(30), player: shaka, error: { code: 'E_NET', message: 'timeout', fatal: true } },
      {
        id: 'e4',
        endMs: end(20),
        player: shaka,
        error: { code: 'E_DRM', message: 'license refused', fatal: true },
      },
      { id: 'e5', endMs: end(10), player: hls, error: { code: 'GEO', message: 'geo', fatal: false } },
      ...[9, 8, 7, 6, 5].map((m, i) => ({
        id: `ok${i + 1}`,
        endMs: end(m),
        player: hls,
        title: i ? 'clip' : TITLE,
      })),
    ];
    await postBackfill(server, specs.map(viewItems));
    await waitFor(
      async () => (await json(`/data/v1/metrics/views/overall?${tf}`))['data'].value === 10,
      'the ten views to be stored',
    );
    if (store.kind !== 'duckdb') await waitForRollup(server, 1);
  });

  afterAll(async () => {
    await server?.kill('SIGTERM');
    removeDir(dataDir);
  });

  it('analyses each error code: views, shares, failures, first and last seen, messages, players, examples', async () => {
    const body = await json(`/data/v1/errors?${tf}`);
    expect(body['total_views']).toBe(10);
    expect(body['total_row_count']).toBe(3);
    expect(body['timeframe']).toEqual([(T0 - 3 * 60 * MIN) / 1000, (T0 + 60 * MIN) / 1000]);
    expect(body['data']).toEqual([
      {
        error_code: 'E_NET',
        player_software: null,
        views: 3,
        share_of_views: 30,
        playback_failures: 3,
        first_seen: iso(50),
        last_seen: iso(30),
        messages: [
          { message: MSG_A, views: 2 },
          { message: 'timeout', views: 1 },
        ],
        players: [
          { player_software: 'hls.js', player_version: '1.5.0', views: 2 },
          { player_software: 'shaka', player_version: '4.7.0', views: 1 },
        ],
        example_view_ids: ['e3', 'e2', 'e1'],
      },
      {
        error_code: 'E_DRM',
        player_software: null,
        views: 1,
        share_of_views: 10,
        playback_failures: 1,
        first_seen: iso(20),
        last_seen: iso(20),
        messages: [{ message: 'license refused', views: 1 }],
        players: [{ player_software: 'shaka', player_version: '4.7.0', views: 1 }],
        example_view_ids: ['e4'],
      },
      {
        error_code: 'GEO',
        player_software: null,
        views: 1,
        share_of_views: 10,
        playback_failures: 0,
        first_seen: iso(10),
        last_seen: iso(10),
        messages: [{ message: 'geo', views: 1 }],
        players: [{ player_software: 'hls.js', player_version: '1.5.0', views: 1 }],
        example_view_ids: ['e5'],
      },
    ]);
  });

  it('splits by player, filters, orders and pages', async () => {
    const byPlayer = await json(`/data/v1/errors?${tf}&by_player=true`);
    expect(
      byPlayer['data'].map((r: Body) => [
        r['error_code'],
        r['player_software'],
        r['views'],
        r['share_of_views'],
      ]),
    ).toEqual([
      ['E_NET', 'hls.js', 2, 20],
      ['E_DRM', 'shaka', 1, 10],
      ['E_NET', 'shaka', 1, 10],
      ['GEO', 'hls.js', 1, 10],
    ]);
    expect(byPlayer['data'][0]['messages']).toEqual([{ message: MSG_A, views: 2 }]);
    expect(byPlayer['data'][2]['example_view_ids']).toEqual(['e3']);
    // Shares are of the views the filters keep: 8 hls.js views, 2 of them E_NET.
    const hls = await json(`/data/v1/errors?${tf}&filters[]=player_software:hls.js`);
    expect(hls['total_views']).toBe(8);
    expect(hls['data'].map((r: Body) => [r['error_code'], r['views'], r['share_of_views']])).toEqual([
      ['E_NET', 2, 25],
      ['GEO', 1, 12.5],
    ]);
    const latest = await json(`/data/v1/errors?${tf}&order_by=last_seen&limit=1&page=2`);
    expect(latest['data'].map((r: Body) => r['error_code'])).toEqual(['E_DRM']);
    expect(latest['total_row_count']).toBe(3);
    const past = await json(`/data/v1/errors?${tf}&page=9`);
    expect([past['data'], past['total_row_count'], past['total_views']]).toEqual([[], 3, 10]);
    const bad = await fetchAs(`/data/v1/errors?${tf}&order_by=nope`, 'text/csv');
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/^application\/json/);
    expect(((await bad.json()) as Body)['error']['fields'][0]['path']).toMatch(/order_by/);
  });

  it('breaks failure percentages down by error code as shares of all views, not 100 %', async () => {
    const body = await json(
      `/data/v1/metrics/playback_failure_percentage/breakdown?${tf}&group_by=error_code&limit=10`,
    );
    // 3 of 10 views failed with E_NET, 1 with E_DRM; GEO is a business exception and the rest succeeded.
    expect(
      body['data'].map((r: Body) => [
        r['field'],
        r['value'],
        r['views'],
        r['share_of_views'],
        r['negative_impact'],
      ]),
    ).toEqual([
      ['E_NET', 30, 3, 30, 30],
      ['E_DRM', 10, 1, 10, 10],
      ['', 0, 5, 50, 0],
      ['GEO', 0, 1, 10, 0],
    ]);
    // Other dimensions keep the row's own views as the base: 2 of 8 hls.js views failed, both shaka views did.
    const byPlayer = await json(
      `/data/v1/metrics/playback_failure_percentage/breakdown?${tf}&group_by=player_software&order_by=field`,
    );
    expect(byPlayer['data'].map((r: Body) => [r['field'], r['value'], r['share_of_views']])).toEqual([
      ['hls.js', (100 * 2) / 8, 80],
      ['shaka', 100, 20],
    ]);
  });

  it('answers CSV with the same rows as the JSON on every route that offers it', async () => {
    const routes = [
      `/data/v1/video-views?${tf}&limit=100`,
      `/data/v1/metrics/video_startup_time/overall?${tf}`,
      `/data/v1/metrics/views/timeseries?${tf}&granularity=hour`,
      `/data/v1/metrics/playback_failure_percentage/breakdown?${tf}&group_by=error_code`,
      `/data/v1/errors?${tf}`,
      `/data/v1/errors?${tf}&by_player=true`,
    ];
    for (const path of routes) {
      const data = (await json(path))['data'];
      const rows = (Array.isArray(data) ? data : [data]).map((r: unknown) => flat(r));
      expect(rows.length).toBeGreaterThan(0);
      expectSameRows(await csv(path), rows);
    }
    // The lists of the error analysis read back as the JSON's.
    const [first] = await csv(`/data/v1/errors?${tf}`);
    expect(JSON.parse(first!['messages']!)).toEqual([
      { message: MSG_A, views: 2 },
      { message: 'timeout', views: 1 },
    ]);
    expect(JSON.parse(first!['example_view_ids']!)).toEqual(['e3', 'e2', 'e1']);
    // An empty answer still names its columns.
    const res = await fetchAs(`/data/v1/errors?${tf}&page=9`, 'text/csv');
    expect(await res.text()).toBe(
      'error_code,player_software,views,share_of_views,playback_failures,first_seen,last_seen,messages,players,example_view_ids\r\n',
    );
  });

  it('round-trips a value with a comma, quotes and a line break, and keeps JSON unless CSV is preferred', async () => {
    const res = await fetchAs(
      `/data/v1/video-views?${tf}&order_by=view_start&order_direction=asc&limit=100`,
      'text/csv',
    );
    const text = await res.text();
    expect(text).toContain(`"${TITLE.replaceAll('"', '""')}"`);
    const ok1 = csvObjects(text).find((r) => r['view_id'] === 'ok1');
    expect(ok1?.['video_title']).toBe(TITLE);
    expect(res.headers.get('vary')).toMatch(/Accept/);
    for (const accept of ['*/*', 'application/json, text/csv;q=0.5', 'text/html'])
      expect((await fetchAs(`/data/v1/errors?${tf}`, accept)).headers.get('content-type')).toMatch(
        /^application\/json/,
      );
    const q = await fetchAs(`/data/v1/errors?${tf}`, 'application/json;q=0.4, text/csv');
    expect(q.headers.get('content-type')).toBe('text/csv; charset=utf-8');
  });
  it('documents text/csv as an alternative answer of exactly the routes that offer it, with an example', async () => {
    const doc = (await (await fetch(`${server.url}/docs/json`)).json()) as Body;
    const csvOf = (path: string) =>
      doc['paths'][path]?.['get']?.['responses']?.['200']?.['content']?.['text/csv'];
    for (const path of [
      '/data/v1/video-views',
      '/data/v1/metrics/{metric_id}/overall',
      '/data/v1/metrics/{metric_id}/timeseries',
      '/data/v1/metrics/{metric_id}/breakdown',
      '/data/v1/errors',
      '/data/v1/monitoring/metrics/{metric_id}/breakdown',
      '/data/v1/monitoring/metrics/{metric_id}/breakdown-timeseries',
    ])
      expect(csvOf(path)?.['example'], path).toMatch(/^[a-z_.]+(,[a-z_.]+)*\r\n/);
    expect(csvOf('/data/v1/errors')['example']).toMatch(/^error_code,player_software,views,share_of_views,/);
    expect(csvOf('/data/v1/monitoring/metrics/{metric_id}/breakdown-timeseries')['example']).toMatch(
      /^date,values\.value,values\.metric_value,/,
    );
    expect(csvOf('/data/v1/metrics')).toBeUndefined();
    expect(csvOf('/data/v1/video-views/{view_id}')).toBeUndefined();
  });
});

describe('monitoring breakdowns as CSV', () => {
  let server: ServerProcess;
  const T = Date.now();

  beforeAll(async () => {
    server = await startServer({ config: { ...TEST_CONFIG, realtime: { tickMs: 1000 } } });
    // Five viewers playing on two CDNs (3 on cdn-a, 2 on "cdn, ""b"""), one of them rebuffering.
    const views = [0, 1, 2, 3, 4].map((k) => {
      const cdn = k < 3 ? 'cdn-a' : 'cdn, "b"';
      const s = new ViewScript(`m${k}`, T - 20_000, { cdnHost: cdn, videoBitrateBps: 1_000_000 * (k + 1) });
      s.seg('startup', 100 * (k + 1));
      if (k === 4) s.seg('playing', T - 8000 - s.t).seg('rebuffering', 3000);
      else s.seg('playing', T - 5000 - s.t);
      return s;
    });
    await postBackfill(server, views);
  });

  afterAll(async () => {
    await server?.kill();
    removeDir(server.dataDir);
  });

  const get = (path: string, accept: string) =>
    fetch(`${server.url}${path}`, { headers: { authorization: server.adminAuth(), accept } });

  /** Reads JSON, CSV, JSON until both JSON answers agree (real-time numbers move on each tick), then compares. */
  async function sameAsJson(path: string, rowsOf: (data: Body[]) => Record<string, string>[]) {
    await waitFor(async () => {
      const before = (await (await get(path, 'application/json')).json()) as Body;
      const res = await get(path, 'text/csv');
      const text = await res.text();
      const after = (await (await get(path, 'application/json')).json()) as Body;
      if (JSON.stringify(before['data']) !== JSON.stringify(after['data']) || before['data'].length === 0)
        return false;
      expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      const expected = rowsOf(before['data']);
      if (expected.length === 0) return false;
      expectSameRows(csvObjects(text), expected);
      return true;
    }, `the CSV of ${path} to match its JSON`);
  }

  it('answers the breakdown as CSV, with the JSON’s rows', async () => {
    const path = '/data/v1/monitoring/metrics/current_concurrent_viewers/breakdown?dimension=cdn';
    await waitFor(async () => {
      const body = (await (await get(path, 'application/json')).json()) as Body;
      return body['data'].length === 2;
    }, 'both CDNs in the breakdown');
    await sameAsJson(path, (data) => data.map((r) => flat(r)));
    const rows = csvObjects(await (await get(path, 'text/csv')).text());
    expect(rows.map((r) => r['value']).sort()).toEqual(['cdn, "b"', 'cdn-a']);
  });

  it('answers the breakdown timeseries as CSV, one row per time and value', async () => {
    const path = '/data/v1/monitoring/metrics/current_concurrent_viewers/breakdown-timeseries?dimension=cdn';
    await sameAsJson(path, (data) =>
      data.flatMap((point) => {
        const values = point['values'] as Body[];
        // A time without values is one row whose value columns are empty.
        if (values.length === 0) return [{ date: String(point['date']), 'values.value': '' }];
        return values.map((v) => ({ date: String(point['date']), ...flat(v, 'values') }));
      }),
    );
  });
});
