/**
 * The DuckDB store on a real database file: view upserts (latest row wins,
 * within a batch and across batches) and raw rows committed together with
 * the consumer's position, and a views table made by an older version
 * gaining the newer columns.
 */
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { ActiveView } from '../src/pipeline/view-model/active-views.js';
import { viewRow } from '../src/pipeline/view-model/view-row.js';
import { DuckDBStore } from '../src/store/duckdb/duckdb-store.js';
import { VIEW_COLUMNS } from '../src/store/view-row.js';
import { removeDir, tempDataDir } from './helpers/server-process.js';
import { openStoreUnderTest, runnableStores } from './helpers/stores.js';
import { client, playing720p, zeroFacts } from './helpers/view-fixtures.js';

const dir = tempDataDir('openqoe-store-');
afterAll(() => removeDir(dir));

function rowFor(viewId: string, watchMs: number) {
  const v = new ActiveView('env', viewId, viewId, 1, 0, client, 1_763_700_000_000, 1_763_700_060_000, {
    minStallMs: 250,
  });
  v.machine.segment('startup', 1_763_700_000_000, 500, zeroFacts);
  v.machine.segment('playing', 1_763_700_000_500, watchMs - 500, playing720p);
  return viewRow(v, v.machine.metrics(true), Date.now());
}

// What every store promises, on each of them; the layout migration is DuckDB's own.
describe.each(runnableStores('store'))('store on $name', (kind) => {
  const duckdbOnly = kind.kind === 'duckdb' ? it : it.skip;
  it('upserts views: the latest row of a view wins, in one batch and across batches', async () => {
    const store = await openStoreUnderTest(kind, join(dir, `${kind.kind}-a`));
    await store.upsertViews([rowFor('a', 10_000), rowFor('b', 20_000), rowFor('a', 11_000)]);
    await store.upsertViews([rowFor('b', 25_000)]);
    const rows = await store.select(
      `SELECT view_id, watch_time_ms, country, video_startup_time_ms FROM ${store.dialect.views} ORDER BY view_id`,
      [],
    );
    expect(rows).toEqual([
      { view_id: 'a', watch_time_ms: 11_000, country: 'DE', video_startup_time_ms: 500 },
      { view_id: 'b', watch_time_ms: 25_000, country: 'DE', video_startup_time_ms: 500 },
    ]);
    if (kind.kind === 'duckdb')
      expect(await store.select('SELECT count(*) AS n FROM views_staging', [])).toEqual([{ n: 0 }]);
    await store.close();
  });

  duckdbOnly('adds the WebRTC columns to a views table made before they existed, at the end', async () => {
    const path = join(dir, 'old-layout.duckdb');
    // The layout before the WebRTC columns: everything up to timeline_truncated.
    const old = VIEW_COLUMNS.slice(0, VIEW_COLUMNS.findIndex((c) => c.name === 'timeline_truncated') + 1);
    const cols = old.map((c) => `${c.name} ${c.type}`).join(', ');
    const instance = await DuckDBInstance.create(path);
    const conn = await instance.connect();
    await conn.run(`CREATE TABLE views (${cols}, PRIMARY KEY (env_id, view_id))`);
    await conn.run(`CREATE TABLE views_staging (${cols})`);
    conn.closeSync();
    instance.closeSync();

    const store = await DuckDBStore.open({ path, checkpointThreshold: '16MB', memoryLimit: '', threads: 1 });
    const v = new ActiveView('env', 'rtc', 'rtc', 1, 0, client, 1_763_700_000_000, 1_763_700_060_000, {
      minStallMs: 250,
    });
    const facts = {
      ...zeroFacts,
      framesPerSecond: 30,
      jitterMs: 4,
      packetsLost: 3,
      packetLossRatio: 0.5,
      roundTripTimeMs: 20,
    };
    v.machine.segment('playing', 1_763_700_000_000, 2000, facts);
    v.machine.segment('playing', 1_763_700_002_000, 2000, {
      ...facts,
      framesPerSecond: 20,
      packetLossRatio: 0,
    });
    await store.upsertViews([viewRow(v, v.machine.metrics(true), Date.now())]);
    const names = await store.select(
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'views' ORDER BY ordinal_position",
      [],
    );
    // Right after the old layout's last column (the columns of later migrations follow them).
    const list = names.map((r) => r['column_name']);
    const at = list.indexOf('timeline_truncated') + 1;
    expect(list.slice(at, at + 5)).toEqual([
      'webrtc_fps',
      'webrtc_jitter_ms',
      'webrtc_packets_lost',
      'webrtc_packet_loss_ratio',
      'webrtc_rtt_ms',
    ]);
    // (30 × 2 s + 20 × 2 s) ÷ 4 s = 25 fps; loss ratio (0.5 × 2 + 0 × 2) ÷ 4 = 0.25.
    expect(
      await store.select(
        'SELECT webrtc_fps, webrtc_jitter_ms, webrtc_packets_lost, webrtc_packet_loss_ratio, webrtc_rtt_ms FROM views',
        [],
      ),
    ).toEqual([
      {
        webrtc_fps: 25,
        webrtc_jitter_ms: 4,
        webrtc_packets_lost: 3,
        webrtc_packet_loss_ratio: 0.25,
        webrtc_rtt_ms: 20,
      },
    ]);
    await store.close();
  });

  it('commits raw rows with the consumer position, and keeps both across a reopen', async () => {
    const path = join(dir, `${kind.kind}-b`);
    let store = await openStoreUnderTest(kind, path);
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
    store = await openStoreUnderTest(kind, path);
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
