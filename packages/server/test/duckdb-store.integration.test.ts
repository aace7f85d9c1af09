/**
 * The DuckDB store on a real database file: view upserts (latest row wins,
 * within a batch and across batches) and raw rows committed together with
 * the consumer's position.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ActiveView } from '../src/pipeline/view-model/active-views.js';
import { DuckDBStore } from '../src/store/duckdb/duckdb-store.js';
import { viewRow } from '../src/store/view-row.js';
import { removeDir, tempDataDir } from './helpers/server-process.js';

const dir = tempDataDir('openqoe-store-');
afterAll(() => removeDir(dir));

const client = {
  browser: 'Chrome',
  browserVersion: '156',
  os: 'Windows',
  osVersion: '11',
  deviceCategory: 'desktop' as const,
  deviceBrand: '',
  deviceModel: '',
  country: 'DE',
  region: 'BE',
  city: 'Berlin',
  asn: 64496,
  asOrg: 'Example',
  ip: '192.0.2.0',
};

function rowFor(viewId: string, watchMs: number) {
  const v = new ActiveView('env', viewId, viewId, 1, 0, client, 1_763_700_000_000, 1_763_700_060_000, {
    minStallMs: 250,
  });
  v.machine.segment('startup', 1_763_700_000_000, 500, {
    videoBitrateBps: 0,
    videoWidth: 0,
    videoHeight: 0,
    playerWidth: 0,
    playerHeight: 0,
    droppedFrames: 0,
    liveLatencyMs: 0,
    requestCount: 0,
    requestFailedCount: 0,
    requestBytes: 0,
    requestTtfbTotalMs: 0,
    requestTransferTotalMs: 0,
    playerStartupTimeMs: 0,
    pageLoadTimeMs: 0,
    framesPerSecond: 0,
    jitterMs: 0,
    packetsLost: 0,
    packetLossRatio: 0,
    roundTripTimeMs: 0,
  });
  v.machine.segment('playing', 1_763_700_000_500, watchMs - 500, {
    videoBitrateBps: 2_000_000,
    videoWidth: 1280,
    videoHeight: 720,
    playerWidth: 1280,
    playerHeight: 720,
    droppedFrames: 0,
    liveLatencyMs: 0,
    requestCount: 0,
    requestFailedCount: 0,
    requestBytes: 0,
    requestTtfbTotalMs: 0,
    requestTransferTotalMs: 0,
    playerStartupTimeMs: 0,
    pageLoadTimeMs: 0,
    framesPerSecond: 0,
    jitterMs: 0,
    packetsLost: 0,
    packetLossRatio: 0,
    roundTripTimeMs: 0,
  });
  return viewRow(v, v.machine.metrics(true), Date.now());
}

describe('DuckDB store', () => {
  it('upserts views: the latest row of a view wins, in one batch and across batches', async () => {
    const store = await DuckDBStore.open({
      path: join(dir, 'a.duckdb'),
      checkpointThreshold: '16MB',
      memoryLimit: '',
      threads: 1,
    });
    await store.upsertViews([rowFor('a', 10_000), rowFor('b', 20_000), rowFor('a', 11_000)]);
    await store.upsertViews([rowFor('b', 25_000)]);
    const rows = await store.select(
      'SELECT view_id, watch_time_ms, country, video_startup_time_ms FROM views ORDER BY view_id',
      [],
    );
    expect(rows).toEqual([
      { view_id: 'a', watch_time_ms: 11_000, country: 'DE', video_startup_time_ms: 500 },
      { view_id: 'b', watch_time_ms: 25_000, country: 'DE', video_startup_time_ms: 500 },
    ]);
    expect(await store.select('SELECT count(*) AS n FROM views_staging', [])).toEqual([{ n: 0 }]);
    await store.close();
  });

  it('commits raw rows with the consumer position, and keeps both across a reopen', async () => {
    const path = join(dir, 'b.duckdb');
    let store = await DuckDBStore.open({ path, checkpointThreshold: '16MB', memoryLimit: '', threads: 1 });
    const raw = {
      envId: 'env',
      viewId: 'v',
      firstSeq: 0,
      lastSeq: 1,
      seqCount: 2,
      sampleCount: 2,
      eventCount: 0,
      receivedAtMs: 1_763_700_000_000,
      clockOffsetMs: 12,
      logId: 'log-1',
      logPosition: 0,
    };
    await store.writeRaw([raw, { ...raw, firstSeq: 2, lastSeq: 3 }], {
      consumer: 'pipeline',
      logId: 'log-1',
      position: 4096,
    });
    await store.close();
    store = await DuckDBStore.open({ path, checkpointThreshold: '16MB', memoryLimit: '', threads: 1 });
    expect(await store.readCheckpoint('pipeline')).toEqual({
      consumer: 'pipeline',
      logId: 'log-1',
      position: 4096,
    });
    expect(await store.select('SELECT count(*) AS n, sum(last_seq) AS s FROM beacons', [])).toEqual([
      { n: 2, s: 4 },
    ]);
    await store.close();
  });
});
