/**
 * The pipeline's commit path with a real log and a real DuckDB file: a store
 * that refuses a commit must not make the pipeline apply a batch twice, lose
 * it for a stage, or store its ledger rows twice.
 */
import { join } from 'node:path';
import { makeBeacon, makeSample } from '@openqoe/schema';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedLog } from '../src/bus/embedded/embedded-log.js';
import { encodeIntakeRecord, type IntakeMeta } from '../src/bus/intake-record.js';
import { createMetrics } from '../src/observability/metrics.js';
import { IntakeConsumer } from '../src/pipeline/intake-consumer.js';
import type { PipelineEvents } from '../src/pipeline/pipeline-events.js';
import { ActiveViews } from '../src/pipeline/view-model/active-views.js';
import { DuckDBStore } from '../src/store/duckdb/duckdb-store.js';
import type { ConsumerCheckpoint, RawBeaconRow } from '../src/store/store.js';
import { removeDir, tempDataDir } from './helpers/server-process.js';

const dir = tempDataDir('openqoe-consumer-');
afterAll(() => removeDir(dir));

describe('pipeline commit', () => {
  it('retries a refused commit without applying the batch again, and every stage sees it once', async () => {
    const log = await EmbeddedLog.open(join(dir, 'log'), {
      segmentBytes: 1 << 20,
      maxBacklogBytes: 64 << 20,
      memoryTailBytes: 8 << 20,
      groupCommitMaxDelayMs: 0,
      fsync: true,
      maxBatchRecords: 100,
      retainMs: 0,
    });
    const store = await DuckDBStore.open({
      path: join(dir, 'db.duckdb'),
      checkpointThreshold: '16MB',
      memoryLimit: '',
      threads: 1,
    });
    // The store refuses the first two commits, as a full disk would.
    let refusals = 2;
    const writeRaw = store.writeRaw.bind(store);
    store.writeRaw = (rows: readonly RawBeaconRow[], checkpoint: ConsumerCheckpoint) =>
      refusals-- > 0 ? Promise.reject(new Error('disk full')) : writeRaw(rows, checkpoint);
    const views = new ActiveViews();
    const consumer = new IntakeConsumer(log, store, views, createMetrics(), {
      dedupeRetentionMs: 3_900_000,
      commitIntervalMs: 0,
      viewTickIntervalMs: 60_000,
    });
    const seen: string[] = [];
    consumer.addStage({
      name: 'recorder',
      subscribe: (events: PipelineEvents) =>
        events.on('batchApplied', ({ beacons }) => {
          for (const a of beacons) for (const i of a.items) seen.push(`${a.sourceViewId}#${i.seq}`);
        }),
    });
    await consumer.start();

    const t0 = Date.now() - 60_000;
    const meta: IntakeMeta = {
      kind: 'native',
      envId: 'env',
      receivedAtMs: Date.now(),
      clockOffsetMs: 0,
      ip: '127.0.0.1',
      userAgent: 'test',
    };
    // Three beacons of one view: 3 × 2 playing samples of 5 s each.
    for (let b = 0; b < 3; b++) {
      const samples = [0, 1].map((k) =>
        makeSample({
          viewId: 'v',
          sequenceNumber: b * 2 + k,
          state: 'playing',
          timestamp: t0 + (b * 2 + k) * 5000,
          durationMs: 5000,
        }),
      );
      const beacon = makeBeacon({ envKey: 'k', samples });
      await log.publish('v', encodeIntakeRecord(meta, Buffer.from(JSON.stringify(beacon))), { meta, beacon });
    }
    await consumer.caughtUp();

    expect(refusals).toBeLessThan(0);
    expect(views.get('env', 'v')!.machine.metrics(false).playingTimeMs).toBe(30_000);
    expect(seen).toEqual(['v#0', 'v#1', 'v#2', 'v#3', 'v#4', 'v#5']);
    const ledger = await store.select(
      'SELECT first_seq, last_seq FROM beacons WHERE view_id = $1 ORDER BY first_seq',
      ['v'],
    );
    expect(ledger).toEqual([
      { first_seq: 0, last_seq: 1 },
      { first_seq: 2, last_seq: 3 },
      { first_seq: 4, last_seq: 5 },
    ]);
    expect((await store.readCheckpoint('pipeline'))?.position).toBe(log.stats().endPosition);
    await consumer.stop();
    await log.close();
    await store.close();
  });
});
