/**
 * Real-time numbers across pipeline workers: views spread over two workers
 * (four partitions each), the monitoring API answered by the api node from
 * the workers' ticks merged (sums, the startup-time sketch, breakdown rows,
 * and the views themselves for filters). Every number is worked out by hand
 * from the script; none may be one worker's share.
 */
import { createPrivateKey } from 'node:crypto';
import { makeBeacon } from '@openqoe/schema';
import { SignJWT } from 'jose';
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

const CONFIG = { ...TEST_CONFIG, realtime: { tickMs: 1000 } };
let nats: NatsServer;
let api: ServerProcess;
const nodes: ServerProcess[] = [];
const T = Date.now();

/**
 * Eight views of video vid-1 watching: five on cdn-a playing, three on cdn-b
 * rebuffering; startups 100 … 800 ms; seven distinct viewers.
 */
function script(): ViewScript[] {
  const start = T - 20_000;
  return Array.from({ length: 8 }, (_, k) => {
    const onB = k >= 5;
    // One viewer on two views that two different workers hold (rt-view-0 → partition 4-7, rt-view-1 → 0-3).
    const viewerUserId = k <= 1 ? 'alice' : `viewer-${k}`;
    const s = new ViewScript(`rt-view-${k}`, start, {
      cdnHost: onB ? 'cdn-b' : 'cdn-a',
      videoId: 'vid-1',
      viewerUserId,
    });
    s.seg('startup', 100 * (k + 1));
    if (onB) s.seg('playing', T - 8000 - s.t).seg('rebuffering', 3000);
    else s.seg('playing', T - 5000 - s.t);
    return s;
  });
}

// biome-ignore lint/suspicious/noExplicitAny: answers are JSON checked field by field against hand-written values
async function get(path: string): Promise<any> {
  const res = await fetch(`${api.url}${path}`, { headers: { authorization: api.adminAuth() } });
  expect(res.status).toBe(200);
  return res.json();
}
const last = <T>(a: T[]): T => a[a.length - 1]!;

beforeAll(async () => {
  nats = await startNats();
  api = await startRole('api', nats.url, { config: CONFIG });
  nodes.push(api);
  const ingest = await startRole('ingest', nats.url, { config: CONFIG });
  nodes.push(ingest);
  for (const p of ['0-3', '4-7'])
    nodes.push(await startRole('pipeline', nats.url, { config: CONFIG, extraArgs: ['--partitions', p] }));
  const views = script();
  const res = await postBeacon(
    ingest.url,
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
}, 90_000);

afterAll(async () => {
  for (const n of nodes) {
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

    // A filter is aggregated from the views the workers sent, not from one worker's rows.
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
