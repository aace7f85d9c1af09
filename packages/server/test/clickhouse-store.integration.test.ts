/**
 * What the ClickHouse store adds to the shared store suite: a view stays
 * one row though the hour of its first data leads the views' sorting key,
 * its ledger collapses a commit retried after an insert that did land, the newest
 * checkpoint wins before any merge, the management records (environments,
 * tokens, signing keys, live streams) behave as on DuckDB, and the live
 * ingest's DuckDB-spelled statements run. On chDB, and over HTTP when
 * CLICKHOUSE_URL names a server.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ActiveView } from '../src/pipeline/view-model/active-views.js';
import { viewRow } from '../src/pipeline/view-model/view-row.js';
import type { SqlRunner } from '../src/store/live-store.js';
import { LiveStore } from '../src/store/live-store.js';
import type { RawBeaconRow, Store } from '../src/store/store.js';
import type { ViewRow } from '../src/store/view-row.js';
import { removeDir, tempDataDir } from './helpers/server-process.js';
import { openStoreUnderTest, storesUnderTest, titleOf } from './helpers/stores.js';
import { client, playing720p } from './helpers/view-fixtures.js';

const dir = tempDataDir('openqoe-chstore-');
afterAll(() => removeDir(dir));

const T0 = 1_763_700_000_000;
const ledgerRow = (viewId: string, logPosition: number, firstSeq = 0): RawBeaconRow => ({
  envId: 'env',
  viewId,
  firstSeq,
  lastSeq: firstSeq + 2,
  seqCount: 3,
  sampleCount: 2,
  eventCount: 1,
  receivedAtMs: T0 + logPosition,
  clockOffsetMs: 7,
  logId: 'log-1',
  logPosition,
});

for (const kind of storesUnderTest().filter((s) => s.kind !== 'duckdb'))
  describe.skipIf(kind.skip !== undefined)(titleOf('ClickHouse store', kind), () => {
    let n = 0;
    const open = () => openStoreUnderTest(kind, join(dir, `${kind.kind}-${n++}`));

    it('keeps a view one row when a later version arrives with a later first-data time (its key)', async () => {
      const store = await open();
      const H = 3_600_000;
      const version = (firstReceivedMs: number, watchMs: number): ViewRow => {
        const v = new ActiveView('env', 'long', 'long', 1, 0, client, firstReceivedMs, firstReceivedMs, {
          minStallMs: 250,
        });
        v.machine.segment('playing', T0, watchMs, playing720p);
        return viewRow(v, v.machine.metrics(true), Date.now());
      };
      await store.upsertViews([version(T0, 10_000)]);
      // As a pipeline rebuilt after a restart sees a long view: its first data two hours later.
      await store.upsertViews([version(T0 + 2 * H, 20_000)]);
      expect(
        await store.select(
          `SELECT count() AS n, max(watch_time_ms) AS watch, toUnixTimestamp64Milli(max(first_received_at)) AS fr
           FROM ${store.dialect.views} WHERE view_id = $1`,
          ['long'],
        ),
      ).toEqual([{ n: 1, watch: 20_000, fr: T0 }]);
      await store.close();
    });

    it('collapses a ledger commit written twice, and reads the newest checkpoint before any merge', async () => {
      const store = await open();
      const rows = [ledgerRow('a', 0), ledgerRow('b', 0), ledgerRow('a', 512, 3)];
      await store.writeRaw(rows, { consumer: 'pipeline', logId: 'log-1', position: 600 });
      // The same commit again, as when an insert landed but its answer was lost.
      await store.writeRaw(rows, { consumer: 'pipeline', logId: 'log-1', position: 600 });
      await store.writeRaw([ledgerRow('c', 600)], { consumer: 'pipeline', logId: 'log-1', position: 700 });
      expect(await store.select('SELECT count() AS n, sum(last_seq) AS s FROM beacons FINAL', [])).toEqual([
        // Rows a, b, a(3..5), c: last_seq 2 + 2 + 5 + 2.
        { n: 4, s: 11 },
      ]);
      expect(await store.readCheckpoint('pipeline')).toEqual({
        consumer: 'pipeline',
        logId: 'log-1',
        position: 700,
      });
      expect(await store.readCheckpoint('other')).toBeUndefined();
      expect(await store.lastLoggedPosition('log-1')).toBe(600);
      expect(await store.lastLoggedPosition('log-2')).toBeUndefined();
      await store.close();
    });

    it('keeps environments and access tokens: unique keys, deletes that say whether they found one', async () => {
      const store: Store = await open();
      await store.insertEnvironment({ id: 'e1', name: 'one', key: 'k1', createdAtMs: T0 });
      await store.insertEnvironment({ id: 'e2', name: 'two', key: 'k2', createdAtMs: T0 + 1 });
      await expect(
        store.insertEnvironment({ id: 'e3', name: 'dup', key: 'k1', createdAtMs: T0 }),
      ).rejects.toThrow(/already exists/);
      expect(await store.deleteEnvironment('e1')).toBe(true);
      expect(await store.deleteEnvironment('e1')).toBe(false);
      expect(await store.listEnvironments()).toEqual([
        { id: 'e2', name: 'two', key: 'k2', createdAtMs: T0 + 1 },
      ]);
      const token = {
        id: 't1',
        name: 'reader',
        secretHash: 'h',
        permissions: ['data:read' as const, 'system' as const],
        environmentIds: ['e2'],
        allEnvironments: false,
        createdAtMs: T0 + 5,
      };
      await store.insertAccessToken(token);
      expect(await store.listAccessTokens()).toEqual([token]);
      expect(await store.deleteAccessToken('t1')).toBe(true);
      expect(await store.listAccessTokens()).toEqual([]);
      await store.insertRejected([
        {
          id: 'r1',
          receivedAtMs: T0,
          envId: null,
          ip: '192.0.2.1',
          userAgent: 'ua',
          route: '/v1/beacons',
          code: 'QOE_ERR_VALIDATION',
          messages: ['bad'],
          fields: [{ path: 'samples/0/state', problem: 'must be one of …' }],
          body: '{"x":1}',
          bodyBytes: 7,
          truncated: false,
        },
      ]);
      expect(
        await store.select(
          'SELECT id, env_id, code, fields, body_bytes, received_at FROM rejected_payloads',
          [],
        ),
      ).toEqual([
        {
          id: 'r1',
          env_id: null,
          code: 'QOE_ERR_VALIDATION',
          fields: '[{"path":"samples/0/state","problem":"must be one of …"}]',
          body_bytes: 7,
          received_at: T0,
        },
      ]);
      await store.close();
    });

    it('runs the live ingest statements: signing keys, live streams and health history', async () => {
      const store = (await open()) as Store & SqlRunner;
      const live = new LiveStore(store);
      await live.insertSigningKey({ id: 'k1', envId: 'e', publicKeyPem: 'PEM', createdAtMs: T0 });
      await live.insertLiveStream({ id: 's1', envId: 'e', streamKey: 'sk', createdAtMs: T0 + 1 });
      expect(await live.signingKeys()).toEqual([
        { id: 'k1', envId: 'e', publicKeyPem: 'PEM', createdAtMs: T0 },
      ]);
      await live.deleteSigningKey('k1');
      expect(await live.signingKeys()).toEqual([]);
      expect(await live.liveStreams()).toEqual([
        { id: 's1', envId: 'e', streamKey: 'sk', createdAtMs: T0 + 1 },
      ]);
      const h = (atMs: number, driftMs: number | null) => ({
        envId: 'e',
        liveStreamId: 's1',
        atMs,
        status: 'healthy',
        connected: true,
        driftMs,
        sessionAvgMs: driftMs === null ? null : driftMs / 2,
        deviationMs: null,
      });
      await live.insertHealth([h(T0, 10.5), h(T0 + 1000, null), h(T0 + 2000, 30)]);
      expect(await live.health('e', 's1', T0 + 1000, 1)).toEqual([h(T0 + 1000, null)]);
      expect((await live.health('e', 's1', T0, 10)).map((r) => r.driftMs)).toEqual([10.5, null, 30]);
      await store.close();
    });
  });
