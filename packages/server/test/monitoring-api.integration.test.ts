/**
 * The real-time monitoring API against the real server: scripted views in
 * known states (playing, rebuffering, paused, failed, exited before start)
 * on two CDNs, and every number the API answers compared with the value
 * worked out by hand from the script.
 */
import { makeBeacon } from '@openqoe/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ViewScript } from './helpers/monitoring-script.js';
import {
  postBeacon,
  removeDir,
  type ServerProcess,
  startServer,
  TEST_CONFIG,
  waitFor,
} from './helpers/server-process.js';

const fields = (cdn: string, bitrate: number) => ({
  cdnHost: cdn,
  videoBitrateBps: bitrate,
  videoTitle: `title-${cdn}`,
});

let server: ServerProcess;
const T = Date.now();

/**
 * Nine views watching: six on cdn-a playing at 3 Mbps, three on cdn-b
 * rebuffering (1 Mbps rendition); startup times 100, 200, … 900 ms. Four
 * more on cdn-a that are not watching: one failed while starting, one exited
 * before the video started, one failed while playing, one paused.
 */
function script(): ViewScript[] {
  const start = T - 20_000;
  const watching = Array.from({ length: 9 }, (_, k) => {
    const onB = k >= 6;
    const s = new ViewScript(`w${k}`, start, fields(onB ? 'cdn-b' : 'cdn-a', onB ? 1_000_000 : 3_000_000));
    s.seg('startup', 100 * (k + 1));
    if (onB) s.seg('playing', T - 8000 - s.t).seg('rebuffering', 3000);
    else s.seg('playing', T - 5000 - s.t);
    return s;
  });
  const failStart = new ViewScript('fail-start', start, fields('cdn-a', 3_000_000))
    .seg('startup', 500)
    .ev('error', 'error', { errorFatal: true, errorCode: 'E1' });
  const ebvs = new ViewScript('ebvs', start, fields('cdn-a', 3_000_000))
    .seg('startup', 800)
    .ev('viewend', 'ended');
  const failPlay = new ViewScript('fail-play', start, fields('cdn-a', 3_000_000))
    .seg('startup', 300)
    .seg('playing', 1000)
    .ev('error', 'error', { errorFatal: true, errorCode: 'E2' });
  const paused = new ViewScript('paused', start, fields('cdn-a', 3_000_000))
    .seg('startup', 200)
    .seg('playing', 1000)
    .seg('paused', 5000);
  return [...watching, failStart, ebvs, failPlay, paused];
}

// biome-ignore lint/suspicious/noExplicitAny: answers are JSON checked field by field against hand-written values
async function get(path: string, auth = server.adminAuth()): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}${path}`, { headers: auth ? { authorization: auth } : {} });
  return { status: res.status, body: await res.json() };
}

const last = <T>(a: T[]): T => a[a.length - 1]!;

beforeAll(async () => {
  server = await startServer({ config: { ...TEST_CONFIG, realtime: { tickMs: 1000 } } });
  const views = script();
  const res = await postBeacon(
    server.url,
    JSON.stringify(
      makeBeacon({
        envKey: server.bootstrap().environment.key,
        sentAt: Date.now(),
        samples: views.flatMap((v) => v.samples),
        events: views.flatMap((v) => v.events),
      }),
    ),
    { 'content-type': 'text/plain', authorization: server.adminAuth() },
    '?backfill=true',
  );
  expect(res.status).toBe(202);
  // The first tick that saw the views over its whole window (the one after the one they arrived in).
  let seen = 0;
  await waitFor(
    async () => {
      const { body } = await get('/data/v1/monitoring/metrics/current_concurrent_viewers/timeseries');
      if (last<{ value: number | null }>(body.data)?.value === 9) seen++;
      return seen >= 2;
    },
    'two ticks with the nine viewers',
    20_000,
  );
});

afterAll(async () => {
  await server?.kill();
  removeDir(server.dataDir);
});

describe('monitoring API', () => {
  it('answers each headline metric as worked out from the script', async () => {
    const value = async (metric: string, extra = '') =>
      last<{ value: number | null }>(
        (await get(`/data/v1/monitoring/metrics/${metric}/timeseries${extra}`)).body.data,
      ).value;
    expect(await value('current_concurrent_viewers')).toBe(9);
    // 3 of 9 watching views rebuffer over the whole tick.
    expect(await value('current_rebuffering_percentage')).toBeCloseTo((100 * 3) / 9, 2);
    // Only the six playing views have a bitrate now: all 3 Mbps.
    expect(await value('current_average_bitrate')).toBe(3_000_000);
    // Start attempts: 11 started (9 watching, the failed player, the paused one) + 1 startup failure + 1 exit = 13.
    expect(await value('video_startup_failure_percentage')).toBeCloseTo(100 / 13, 2);
    expect(await value('exits_before_video_start')).toBeCloseTo(100 / 13, 2);
    // One playback failure next to nine viewers.
    expect(await value('playback_failure_percentage')).toBeCloseTo(10, 2);
    // Startup times 100…900 ms of the viewers watching: nearest-rank median 500, p95 900.
    expect(await value('video_startup_time')).toBe(500);
    expect(await value('video_startup_time', '?measurement=p95')).toBe(900);
  });

  it('puts the stalled CDN first by negative impact, with its viewers and value', async () => {
    const { status, body } = await get(
      '/data/v1/monitoring/metrics/current_rebuffering_percentage/breakdown?dimension=cdn',
    );
    expect(status).toBe(200);
    const rows = body.data as {
      value: string;
      metric_value: number;
      concurrent_viewers: number;
      negative_impact: number;
    }[];
    expect(rows.map((r) => r.value)).toEqual(['cdn-b', 'cdn-a']);
    expect(rows[0]).toMatchObject({ metric_value: 100, concurrent_viewers: 3, display_value: '100.0%' });
    // (100 − 33.33) × 3 ÷ 9 and (0 − 33.33) × 6 ÷ 9.
    expect(rows[0]!.negative_impact).toBeCloseTo(200 / 9, 2);
    expect(rows[1]!.metric_value).toBe(0);
    expect(rows[1]!.negative_impact).toBeCloseTo(-200 / 9, 2);

    // Startup failures by CDN: cdn-a has 10 attempts (8 started, 1 failed, 1 exit), cdn-b 3 starts.
    const failures = await get(
      '/data/v1/monitoring/metrics/video_startup_failure_percentage/breakdown?dimension=cdn',
    );
    const byCdn = Object.fromEntries(
      (failures.body.data as { value: string; metric_value: number }[]).map((r) => [r.value, r.metric_value]),
    );
    expect(byCdn).toEqual({ 'cdn-a': 10, 'cdn-b': 0 });
  });

  it('filters every answer by a clicked row', async () => {
    const ts = await get(
      `/data/v1/monitoring/metrics/current_rebuffering_percentage/timeseries?${new URLSearchParams([['filters[]', 'cdn:cdn-b']])}`,
    );
    expect(last<{ value: number; concurrent_viewers: number }>(ts.body.data)).toMatchObject({
      value: 100,
      concurrent_viewers: 3,
    });
    const excluded = await get(
      `/data/v1/monitoring/metrics/current_concurrent_viewers/breakdown?dimension=video_title&${new URLSearchParams([['filters[]', '!cdn:cdn-b']])}`,
    );
    expect(
      excluded.body.data.map((r: { value: string; concurrent_viewers: number }) => [
        r.value,
        r.concurrent_viewers,
      ]),
    ).toEqual([['title-cdn-a', 6]]);
  });

  it('keeps a 5-second history per dimension and a startup-time histogram', async () => {
    const bt = await get(
      '/data/v1/monitoring/metrics/current_rebuffering_percentage/breakdown-timeseries?dimension=cdn',
    );
    const lastPoint = last<{ values: { value: string; metric_value: number; concurrent_viewers: number }[] }>(
      bt.body.data,
    );
    expect(lastPoint.values).toEqual([
      { value: 'cdn-a', metric_value: 0, concurrent_viewers: 6, starting_up_viewers: 0 },
      { value: 'cdn-b', metric_value: 100, concurrent_viewers: 3, starting_up_viewers: 0 },
    ]);
    const h = await get('/data/v1/monitoring/metrics/video_startup_time/histogram-timeseries');
    expect(h.body.meta.buckets.slice(0, 4)).toEqual([
      { start: 0, end: 250 },
      { start: 250, end: 500 },
      { start: 500, end: 750 },
      { start: 750, end: 1000 },
    ]);
    const point = last<{ bucket_values: { count: number }[]; sum: number; average: number }>(h.body.data);
    // 100, 200 | 300, 400 | 500, 600, 700 | 800, 900
    expect(point.bucket_values.map((b) => b.count).slice(0, 5)).toEqual([2, 2, 3, 2, 0]);
    expect(point.sum).toBe(9);
    expect(Math.abs(point.average - 500)).toBeLessThanOrEqual(5);
  });

  it('refuses requests without a token or with unknown names, naming the field', async () => {
    expect((await get('/data/v1/monitoring/metrics', '')).status).toBe(401);
    const badDim = await get(
      '/data/v1/monitoring/metrics/current_concurrent_viewers/breakdown?dimension=planet',
    );
    expect(badDim.status).toBe(400);
    expect(badDim.body.error.fields[0].path).toBe('dimension');
    const badFilter = await get(
      `/data/v1/monitoring/metrics/current_concurrent_viewers/timeseries?${new URLSearchParams([['filters[]', 'planet:mars']])}`,
    );
    expect(badFilter.status).toBe(400);
    expect(badFilter.body.error.fields[0]).toMatchObject({ path: 'filters[0]' });
    const badMetric = await get('/data/v1/monitoring/metrics/happiness/timeseries');
    expect(badMetric.status).toBe(400);
    const list = await get('/data/v1/monitoring/metrics');
    expect(list.body.data.map((m: { id: string }) => m.id)).toContain('current_rebuffering_percentage');
  });
});
