/**
 * Real-time numbers across pipeline workers: views spread over two workers
 * (four partitions each), the monitoring API answered by the api node from
 * the workers' ticks merged (sums, the startup-time sketch, breakdown rows,
 * and each filter set's aggregates, which the workers compute over their own
 * views: no view travels). Every number is worked out by hand from the
 * script; none may be one worker's share.
 */
import { createPrivateKey } from 'node:crypto';
import { makeBeacon } from '@openqoe/schema';
import { SignJWT } from 'jose';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NatsServer, startNats, startRole } from './helpers/cluster.js';
import { createSigningKey } from './helpers/live.js';
import { ViewScript } from './helpers/monitoring-script.js';
import {
  postBeacon,
  readMetric,
  removeDir,
  type ServerProcess,
  TEST_CONFIG,
  waitFor,
} from './helpers/server-process.js';
import { slowTests } from './helpers/slow-tests.js';

slowTests(90_000);

const CONFIG = { ...TEST_CONFIG, realtime: { tickMs: 1000 } };
let nats: NatsServer;
let api: ServerProcess;
const nodes: ServerProcess[] = [];
const T = Date.now();

/**
 * Eight views of video vid-1 watching: five on cdn-a playing, three on cdn-b
 * rebuffering; startups 100 … 800 ms; seven distinct viewers. Even views play
 * in "shaka" (cdn-a: 0, 2, 4; cdn-b: 6), odd ones in "hlsjs" (cdn-a: 1, 3;
 * cdn-b: 5, 7).
 */
function script(count = 8, from = 0): ViewScript[] {
  const start = T - 20_000;
  return Array.from({ length: count }, (_, i) => {
    const k = from + i;
    // Views past the eighth repeat the first eight's dimensions and startups.
    const onB = k % 8 >= 5;
    // One viewer on two views that two different workers hold (rt-view-0 → partition 4-7, rt-view-1 → 0-3).
    const viewerUserId = k <= 1 ? 'alice' : `viewer-${k}`;
    const s = new ViewScript(`rt-view-${k}`, start, {
      cdnHost: onB ? 'cdn-b' : 'cdn-a',
      videoId: 'vid-1',
      playerName: k % 2 === 0 ? 'shaka' : 'hlsjs',
      viewerUserId,
    });
    s.seg('startup', 100 * ((k % 8) + 1));
    if (onB) s.seg('playing', T - 8000 - s.t).seg('rebuffering', 3000);
    else s.seg('playing', T - 5000 - s.t);
    return s;
  });
}

// biome-ignore lint/suspicious/noExplicitAny: answers are JSON checked field by field against hand-written values
async function getAny(path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${api.url}${path}`, { headers: { authorization: api.adminAuth() } });
  return { status: res.status, body: await res.json() };
}
// biome-ignore lint/suspicious/noExplicitAny: as above
async function get(path: string): Promise<any> {
  const { status, body } = await getAny(path);
  expect(status).toBe(200);
  return body;
}
const last = <T>(a: T[]): T => a[a.length - 1]!;
const withFilters = (path: string, ...filters: string[]) =>
  `${path}${path.includes('?') ? '&' : '?'}${new URLSearchParams(filters.map((f): [string, string] => ['filters[]', f]))}`;

const series = (metric: string, ...filters: string[]) =>
  withFilters(`/data/v1/monitoring/metrics/${metric}/timeseries`, ...filters);

/** Posts scripted views through the ingest node. */
async function post(views: ViewScript[]): Promise<void> {
  const res = await postBeacon(
    nodes[1]!.url,
    JSON.stringify(
      makeBeacon({
        envKey: api.bootstrap().environment.key,
        sentAt: Date.now(),
        samples: views.flatMap((v) => v.samples),
        events: views.flatMap((v) => v.events),
      }),
    ),
    { 'content-type': 'text/plain', authorization: api.adminAuth() },
    '?backfill=true',
  );
  expect(res.status).toBe(202);
}

/** Waits for `n` more merged ticks. */
async function ticks(n: number): Promise<void> {
  const seen = new Set<string>();
  await waitFor(
    async () => {
      const body = await get('/data/v1/monitoring/metrics/current_concurrent_viewers/timeseries');
      seen.add(last<{ date: string }>(body.data).date);
      return seen.size > n;
    },
    `${n} more merged ticks`,
    30_000,
  );
}

beforeAll(async () => {
  nats = await startNats();
  api = await startRole('api', nats.url, { config: CONFIG });
  nodes.push(api);
  const ingest = await startRole('ingest', nats.url, { config: CONFIG });
  nodes.push(ingest);
  for (const p of ['0-3', '4-7'])
    nodes.push(await startRole('pipeline', nats.url, { config: CONFIG, extraArgs: ['--partitions', p] }));
  await post(script());
  // Ticks (one point per tick) with all eight viewers: the third is a whole window on both workers.
  const ticks = new Set<string>();
  await waitFor(
    async () => {
      const body = await get('/data/v1/monitoring/metrics/current_concurrent_viewers/timeseries');
      const p = last<{ date: string; value: number | null }>(body.data);
      if (p?.value === 8) ticks.add(p.date);
      return ticks.size >= 3;
    },
    'three merged ticks with the eight viewers',
    30_000,
  );
});

afterAll(async () => {
  for (const n of nodes) {
    n.child.kill('SIGCONT');
    await n.kill('SIGKILL');
    removeDir(n.dataDir);
  }
  nats?.stop();
  if (nats) removeDir(nats.dir);
});

describe('monitoring API over several workers', () => {
  it('holds views on both workers', async () => {
    const [w1, w2] = nodes.slice(2);
    expect(await readMetric(w1!, 'openqoe_active_views')).toBeGreaterThan(0);
    expect(await readMetric(w2!, 'openqoe_active_views')).toBeGreaterThan(0);
    expect(
      (await readMetric(w1!, 'openqoe_active_views')) + (await readMetric(w2!, 'openqoe_active_views')),
    ).toBe(8);
  });

  it('answers the merged numbers, breakdowns, filters and histogram', async () => {
    const value = async (metric: string) =>
      last<{ value: number | null }>((await get(`/data/v1/monitoring/metrics/${metric}/timeseries`)).data)
        .value;
    expect(await value('current_concurrent_viewers')).toBe(8);
    // Three of eight viewers rebuffer over the whole tick.
    expect(await value('current_rebuffering_percentage')).toBeCloseTo(37.5, 2);

    const rows = (
      await get('/data/v1/monitoring/metrics/current_rebuffering_percentage/breakdown?dimension=cdn')
    ).data as { value: string; metric_value: number; concurrent_viewers: number }[];
    expect(rows.map((r) => [r.value, r.metric_value, r.concurrent_viewers])).toEqual([
      ['cdn-b', 100, 3],
      ['cdn-a', 0, 5],
    ]);

    // A filter is aggregated by every worker over its own views, then merged.
    const filtered = await get(
      `/data/v1/monitoring/metrics/current_rebuffering_percentage/timeseries?${new URLSearchParams([['filters[]', 'cdn:cdn-b']])}`,
    );
    expect(last<{ value: number; concurrent_viewers: number }>(filtered.data)).toMatchObject({
      value: 100,
      concurrent_viewers: 3,
    });

    // Startups 100, 200 | 300, 400 | 500, 600, 700 | 800: the sketches of both workers merged.
    const h = await get('/data/v1/monitoring/metrics/video_startup_time/histogram-timeseries');
    const point = last<{ bucket_values: { count: number }[]; sum: number }>(h.data);
    expect(point.bucket_values.map((b) => b.count).slice(0, 5)).toEqual([2, 2, 3, 1, 0]);
    expect(point.sum).toBe(8);
    // The median of 100 … 800 from the merged sketch: 400 or 500 within the sketch's 1 %.
    const median = (await value('video_startup_time'))!;
    expect(median).toBeGreaterThanOrEqual(396);
    expect(median).toBeLessThanOrEqual(505);
  });

  it('counts live viewers across workers, a viewer on two workers once', async () => {
    const key = await createSigningKey(api);
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: key.id })
      .setSubject('vid-1')
      .setAudience('video_id')
      .setExpirationTime('10m')
      .sign(createPrivateKey(key.privateKeyPem));
    let got: { views: number; viewers: number } | undefined;
    await waitFor(async () => {
      const res = await fetch(`${api.url}/counts?token=${token}`);
      got = ((await res.json()) as { data: { views: number; viewers: number }[] }).data[0];
      return got?.views === 8;
    }, 'the eight views in the merged counts').catch(() => {});
    expect(got).toMatchObject({ views: 8, viewers: 7 });
  });
});

describe('filtered real-time numbers, computed by the workers', () => {
  it('answers a filter set asked for the first time at once, then every tick', async () => {
    // hlsjs on either CDN: views 1, 3 (cdn-a, playing) and 5, 7 (cdn-b, rebuffering). (Two filters: a
    // single "dimension:value" could also be read off the unfiltered breakdown rows, which proves less.)
    const hlsjs = series('current_rebuffering_percentage', 'player_name:hlsjs', 'cdn:cdn-a', 'cdn:cdn-b');
    const first = await get(hlsjs);
    expect(last<{ value: number; concurrent_viewers: number }>(first.data)).toMatchObject({
      value: 50,
      concurrent_viewers: 4,
    });
    await ticks(3);
    // The points since the first ask come from the workers' ticks (a set is merged only when every worker had
    // it; the tick right after the ask may not have it yet when the workers ticked before the ask arrived).
    const later = (await get(hlsjs)).data as {
      value: number | null;
      concurrent_viewers: number | null;
    }[];
    expect(later.slice(-2)).toEqual([
      expect.objectContaining({ value: 50, concurrent_viewers: 4 }),
      expect.objectContaining({ value: 50, concurrent_viewers: 4 }),
    ]);
  });

  it('filters with excludes and several values, and their startup histogram', async () => {
    // Not cdn-a: views 5, 6, 7 with startups 600, 700, 800 ms.
    const h = await get(
      withFilters('/data/v1/monitoring/metrics/video_startup_time/histogram-timeseries', '!cdn:cdn-a'),
    );
    const point = last<{ bucket_values: { count: number }[]; sum: number; average: number }>(h.data);
    // Buckets 0, 250, 500, 750, 1000 ms: 600 and 700 in [500, 750), 800 in [750, 1000).
    expect(point.bucket_values.map((b) => b.count).slice(0, 5)).toEqual([0, 0, 2, 1, 0]);
    expect(point.sum).toBe(3);
    expect(point.average).toBe(700);
    const either = await get(series('current_rebuffering_percentage', 'cdn:cdn-b', 'player_name:shaka'));
    // Dimensions ANDed: cdn-b and shaka is view 6 alone, rebuffering.
    expect(last<{ value: number; concurrent_viewers: number }>(either.data)).toMatchObject({
      value: 100,
      concurrent_viewers: 1,
    });
    const two = await get(
      series('current_concurrent_viewers', 'cdn:cdn-a', 'cdn:cdn-b', '!player_name:shaka'),
    );
    // Values of one dimension ORed: every hlsjs view.
    expect(last<{ value: number }>(two.data).value).toBe(4);
  });

  it('breaks down under a filter, at once and from the tracked set', async () => {
    const path = withFilters(
      '/data/v1/monitoring/metrics/current_rebuffering_percentage/breakdown?dimension=cdn',
      'player_name:hlsjs',
    );
    const expected = [
      ['cdn-b', 100, 2],
      ['cdn-a', 0, 2],
    ];
    const rowsOf = (body: { data: { value: string; metric_value: number; concurrent_viewers: number }[] }) =>
      body.data.map((r) => [r.value, r.metric_value, r.concurrent_viewers]);
    const first = await get(path);
    expect(rowsOf(first)).toEqual(expected);
    expect(first.total_row_count).toBe(2);
    await ticks(2);
    expect(rowsOf(await get(path))).toEqual(expected);
    // The same rows per tick in breakdown-timeseries (filters apply to the latest tick).
    const bt = await get(
      withFilters(
        '/data/v1/monitoring/metrics/current_concurrent_viewers/breakdown-timeseries?dimension=player_name',
        '!cdn:cdn-b',
      ),
    );
    expect(
      last<{ values: { value: string; concurrent_viewers: number }[] }>(bt.data).values.map((v) => [
        v.value,
        v.concurrent_viewers,
      ]),
    ).toEqual([
      ['shaka', 3],
      ['hlsjs', 2],
    ]);
  });

  it('refuses an incomplete answer when a worker does not reply, and is complete once it does', async () => {
    const worker = nodes[3]!;
    worker.child.kill('SIGSTOP');
    type Refusal = { status: number; body: { error: { type: string; code: string; messages: string[] } } };
    let refused: Refusal[];
    try {
      // Sets nobody asked for yet: the stopped worker cannot answer the scatter requests.
      refused = await Promise.all([
        getAny(series('current_concurrent_viewers', 'cdn:cdn-a', 'player_name:shaka')),
        getAny(
          withFilters(
            '/data/v1/monitoring/metrics/current_concurrent_viewers/breakdown?dimension=cdn',
            '!player_name:hlsjs',
          ),
        ),
      ]);
    } finally {
      worker.child.kill('SIGCONT');
    }
    for (const r of refused) {
      expect(r.status).toBe(503);
      expect(r.body.error).toMatchObject({ type: 'unavailable', code: 'QOE_ERR_REALTIME_INCOMPLETE' });
      expect(r.body.error.messages[0]).toMatch(
        /incomplete.*worker \d+@4,5,6,7 did not answer within 1000 ms/,
      );
    }
    // Once the worker runs again, a new set is answered whole: cdn-a and hlsjs = views 1 and 3.
    await waitFor(
      async () =>
        (await getAny(series('current_concurrent_viewers', 'cdn:cdn-a', 'player_name:hlsjs'))).status === 200,
      'a complete answer after the worker resumed',
    );
    const whole = await get(series('current_concurrent_viewers', 'cdn:cdn-a', 'player_name:hlsjs'));
    expect(last<{ value: number }>(whole.data).value).toBe(2);
    // The refused set was tracked all the same: ticks since carry it (views 0, 2, 4).
    await ticks(3);
    const tracked = (await get(series('current_concurrent_viewers', 'cdn:cdn-a', 'player_name:shaka')))
      .data as {
      value: number | null;
    }[];
    // (A scatter answer fills the latest point only; the tick right after the resume may still lack the set.)
    expect(tracked.slice(-2).map((p) => p.value)).toEqual([3, 3]);
  });
});

describe('what a tick carries over NATS', () => {
  let nc: NatsConnection;
  afterAll(async () => {
    await nc?.close();
  });

  /** The bytes of the next `n` whole ticks the workers publish (each worker's, all its parts), and the messages. */
  async function capture(n: number): Promise<{ bytesPerTick: number[]; bodies: Record<string, unknown>[] }> {
    const sub = nc.subscribe('openqoe.realtime');
    const ticks = new Map<string, { bytes: number; parts: number; expected: number }>();
    const bodies: Record<string, unknown>[] = [];
    let whole = 0;
    for await (const m of sub) {
      const body = JSON.parse(Buffer.from(m.data).toString('utf8')) as {
        worker: string;
        atMs: number;
        part: number;
        parts: number;
      };
      bodies.push(body);
      const t = ticks.get(`${body.worker}|${body.atMs}`) ?? { bytes: 0, parts: 0, expected: body.parts };
      t.bytes += m.data.length;
      t.parts++;
      ticks.set(`${body.worker}|${body.atMs}`, t);
      if (t.parts === t.expected && ++whole >= n) break;
    }
    sub.unsubscribe();
    return {
      bytesPerTick: [...ticks.values()].filter((t) => t.parts === t.expected).map((t) => t.bytes),
      bodies,
    };
  }

  it('carries aggregates, not views, and does not grow with the number of views', async () => {
    nc = await connect({ servers: nats.url });
    const before = await capture(6);
    for (const body of before.bodies) {
      expect(body).not.toHaveProperty('views');
      expect(body).not.toHaveProperty('outcomes');
      const kinds = new Set((body.items as { k: string }[]).map((i) => i.k));
      for (const k of kinds) expect(['o', 'd', 'fo', 'fd']).toContain(k);
    }
    // Both workers' ticks name the filter sets asked above (computed per worker).
    expect(before.bodies.some((b) => (b.items as { k: string }[]).some((i) => i.k === 'fo'))).toBe(true);
    // Three times the views, with the same dimensions and startups.
    await post(script(16, 8));
    await waitFor(async () => {
      const body = await get('/data/v1/monitoring/metrics/current_concurrent_viewers/timeseries');
      return last<{ value: number }>(body.data).value === 24;
    }, 'the 24 viewers');
    const after = await capture(6);
    // Shipping views cost over a kilobyte per view (its dimensions, client and part; bench:realtime-wire);
    // the aggregates only grow by a digit here and there as the counts grow (8 → 24 viewers).
    console.log(
      `realtime tick bytes per worker tick: 8 views ${before.bytesPerTick.join(', ')}; 24 views ${after.bytesPerTick.join(', ')}`,
    );
    const growth = Math.max(...after.bytesPerTick) - Math.max(...before.bytesPerTick);
    expect(growth).toBeLessThan(16 * 64);
    expect(Math.max(...after.bytesPerTick)).toBeLessThan(64 * 1024);
  });
});

describe('a worker started again', () => {
  it('learns the tracked filter sets from the api node and computes them again', async () => {
    const old = nodes[2]!;
    await old.kill('SIGKILL');
    nodes[2] = await startRole('pipeline', nats.url, {
      dataDir: old.dataDir,
      config: CONFIG,
      extraArgs: ['--partitions', '0-3'],
    });
    // Its views come back from the stream: all 24 counted again.
    await waitFor(
      async () => {
        const body = await get('/data/v1/monitoring/metrics/current_concurrent_viewers/timeseries');
        return last<{ value: number }>(body.data).value === 24;
      },
      'the 24 viewers with the worker started again',
      60_000,
    );
    await ticks(3);
    // hlsjs among the 24: the odd views, half of them (k mod 8 = 5, 7) rebuffering — from the ticks of both
    // workers, the new process included (a set is merged only when every worker computed it).
    const hlsjs = (
      await get(series('current_rebuffering_percentage', 'player_name:hlsjs', 'cdn:cdn-a', 'cdn:cdn-b'))
    ).data as { value: number | null; concurrent_viewers: number | null }[];
    expect(hlsjs.slice(-2)).toEqual([
      expect.objectContaining({ value: 50, concurrent_viewers: 12 }),
      expect.objectContaining({ value: 50, concurrent_viewers: 12 }),
    ]);
    // cdn-a and shaka: k mod 8 = 0, 2, 4, nine of the 24.
    const shaka = (await get(series('current_concurrent_viewers', 'cdn:cdn-a', 'player_name:shaka')))
      .data as {
      value: number | null;
    }[];
    expect(shaka.slice(-2).map((p) => p.value)).toEqual([9, 9]);
    // A set never asked before is answered by both workers, the new one included.
    const fresh = await get(series('current_concurrent_viewers', 'cdn:cdn-b', '!player_name:shaka'));
    // cdn-b and not shaka: k mod 8 = 5, 7, six of the 24.
    expect(last<{ value: number }>(fresh.data).value).toBe(6);
  });
});
