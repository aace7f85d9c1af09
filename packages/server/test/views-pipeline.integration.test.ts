/**
 * The view model in the real server: beacons over HTTP, the pipeline, and
 * view rows in the DuckDB file. Duplicates and out-of-order beacons give the
 * same single row as clean traffic, and a view in progress survives a restart.
 */
import { makeBeacon, makeEvent, makeSample, type PlayerEvent, type Sample } from '@openqoe/schema';
import { afterAll, describe, expect, it } from 'vitest';
import {
  postBeacon,
  queryDataDir,
  readMetric,
  removeDir,
  startServer,
  tempDataDir,
  waitFor,
} from './helpers/server-process.js';
import { slowTests } from './helpers/slow-tests.js';

slowTests(90_000);

const CONFIG = {
  logLevel: 'warn',
  intake: { rateLimit: { perIpPerSecond: 0, perEnvKeyPerSecond: 0 } },
  views: { idleCompleteMs: 1500, tickIntervalMs: 100, gapTimeoutMs: 5000 },
};

/** A view: play request, 800 ms startup, 10 s playing, a 2 s stall, 10 s playing; items split into two beacons. */
function viewItems(
  viewId: string,
  t0: number,
): { first: [Sample[], PlayerEvent[]]; second: [Sample[], PlayerEvent[]] } {
  const s = (seq: number, state: Sample['state'], start: number, ms: number) =>
    makeSample({
      viewId,
      sequenceNumber: seq,
      state,
      timestamp: t0 + start,
      durationMs: ms,
      viewerTime: t0 + start + ms,
    });
  return {
    first: [
      [s(1, 'startup', 0, 800), s(2, 'playing', 800, 10_000)],
      [makeEvent({ viewId, sequenceNumber: 0, type: 'playrequest', state: 'startup', viewerTime: t0 })],
    ],
    second: [[s(3, 'rebuffering', 10_800, 2000), s(4, 'playing', 12_800, 10_000)], []],
  };
}

const beacon = (envKey: string, [samples, events]: [Sample[], PlayerEvent[]]) =>
  JSON.stringify(makeBeacon({ envKey, sentAt: Date.now(), samples, events }));

describe('views through the real pipeline', () => {
  const dataDir = tempDataDir('openqoe-views-');
  afterAll(() => removeDir(dataDir));

  it('stores one correct row per view despite duplicate and out-of-order beacons, and rebuilds views after a restart', async () => {
    let server = await startServer({ dataDir, config: CONFIG });
    const key = server.bootstrap().environment.key;
    const t0 = Date.now() - 30_000;
    const clean = viewItems('clean', t0);
    const messy = viewItems('messy', t0);

    for (const b of [clean.first, clean.second])
      expect((await postBeacon(server.url, beacon(key, b))).status).toBe(202);
    // The messy view: second half first, then the first half, then both again.
    for (const b of [messy.second, messy.first, messy.first, messy.second]) {
      expect((await postBeacon(server.url, beacon(key, b))).status).toBe(202);
    }
    await waitFor(
      async () => (await readMetric(server, 'openqoe_pipeline_views_stored_total')) >= 2,
      'two views stored',
    );
    expect(await readMetric(server, 'openqoe_pipeline_duplicates_total')).toBe(5);
    await server.kill('SIGTERM');

    const rows = await queryDataDir(
      dataDir,
      `SELECT view_id, status, outcome, video_startup_time_ms, watch_time_ms, playing_time_ms, rebuffer_count::INTEGER AS rebuffer_count,
              rebuffer_duration_ms, playback_success_score, video_title, device_category
       FROM views ORDER BY view_id`,
    );
    const expected = {
      status: 'completed',
      outcome: 'success',
      video_startup_time_ms: 800,
      watch_time_ms: 22_800,
      playing_time_ms: 20_000,
      rebuffer_count: 1,
      rebuffer_duration_ms: 2000,
      playback_success_score: 100,
      video_title: 'Big Buck Bunny',
      device_category: 'unknown',
    };
    expect(rows).toEqual([
      { view_id: 'clean', ...expected },
      { view_id: 'messy', ...expected },
    ]);

    // After a restart the completed view is still known: more data reopens it and updates the same row.
    server = await startServer({ dataDir, config: CONFIG });
    const more = makeSample({
      viewId: 'messy',
      sequenceNumber: 5,
      state: 'playing',
      timestamp: t0 + 22_800,
      durationMs: 5000,
    });
    expect((await postBeacon(server.url, beacon(key, [[more], []]))).status).toBe(202);
    await waitFor(
      async () => (await readMetric(server, 'openqoe_pipeline_views_stored_total')) >= 1,
      'the reopened view stored',
    );
    await server.kill('SIGTERM');
    const after = await queryDataDir(
      dataDir,
      `SELECT view_id, watch_time_ms, rebuffer_count::INTEGER AS rebuffer_count FROM views ORDER BY view_id`,
    );
    expect(after).toEqual([
      { view_id: 'clean', watch_time_ms: 22_800, rebuffer_count: 1 },
      { view_id: 'messy', watch_time_ms: 27_800, rebuffer_count: 1 },
    ]);
  });
});
