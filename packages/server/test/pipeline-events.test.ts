/**
 * The pipeline's events: listeners hear them in subscription order, a batch
 * a listener refused is offered again from that listener on, and a restart
 * rebuilds the views from a real log by publishing the same events with
 * `replay` set, then the live ones without it.
 */
import { join } from 'node:path';
import { makeBeacon, makeSample } from '@openqoe/schema';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedLog } from '../src/bus/embedded/embedded-log.js';
import { encodeIntakeRecord, type IntakeMeta } from '../src/bus/intake-record.js';
import { createMetrics } from '../src/observability/metrics.js';
import { IntakeConsumer } from '../src/pipeline/intake-consumer.js';
import { PipelineEvents } from '../src/pipeline/pipeline-events.js';
import { ActiveViews } from '../src/pipeline/view-model/active-views.js';
import { DuckDBStore } from '../src/store/duckdb/duckdb-store.js';
import { removeDir, tempDataDir } from './helpers/server-process.js';

const dir = tempDataDir('openqoe-events-');
afterAll(() => removeDir(dir));

describe('pipeline events', () => {
  it('calls listeners in order and resumes a refused batch at the listener that refused it', async () => {
    const events = new PipelineEvents();
    const heard: string[] = [];
    let refusals = 1;
    events.on('batchApplied', () => void heard.push('a'));
    events.on('batchApplied', async () => {
      heard.push('b');
      if (refusals-- > 0) throw new Error('buffer full');
    });
    events.on('batchApplied', () => void heard.push('c'));
    events.on('tick', ({ nowMs }) => void heard.push(`tick ${nowMs}`));
    const delivery = { event: { beacons: [], replay: false }, accepted: 0 };
    await expect(events.deliver(delivery)).rejects.toThrow('buffer full');
    expect(heard).toEqual(['a', 'b']);
    await events.deliver(delivery);
    expect(heard).toEqual(['a', 'b', 'b', 'c']);
    events.emit('tick', { nowMs: 7, replay: false });
    expect(heard.at(-1)).toBe('tick 7');
  });

  it('replays the log on start with replay set, then publishes live events without it', async () => {
    const logOptions = {
      segmentBytes: 1 << 20,
      maxBacklogBytes: 64 << 20,
      memoryTailBytes: 8 << 20,
      groupCommitMaxDelayMs: 0,
      fsync: true,
      maxBatchRecords: 100,
      retainMs: 3_600_000,
    };
    const storeOptions = {
      path: join(dir, 'db.duckdb'),
      checkpointThreshold: '16MB',
      memoryLimit: '',
      threads: 1,
    };
    const consumerOptions = { dedupeRetentionMs: 3_900_000, commitIntervalMs: 0, viewTickIntervalMs: 60_000 };
    const t0 = Date.now() - 60_000;
    const meta: IntakeMeta = {
      kind: 'native',
      envId: 'env',
      receivedAtMs: Date.now(),
      clockOffsetMs: 0,
      ip: '127.0.0.1',
      userAgent: 'test',
    };
    const publish = async (log: EmbeddedLog, seq: number, state: 'startup' | 'playing') => {
      const samples = [makeSample({ viewId: 'v', sequenceNumber: seq, state, timestamp: t0 + seq * 5000 })];
      const beacon = makeBeacon({ envKey: 'k', samples });
      await log.publish('v', encodeIntakeRecord(meta, Buffer.from(JSON.stringify(beacon))), { meta, beacon });
    };

    // First run: two beacons of one view (startup, then playing), applied and committed.
    let log = await EmbeddedLog.open(join(dir, 'log'), logOptions);
    let store = await DuckDBStore.open(storeOptions);
    let consumer = new IntakeConsumer(log, store, new ActiveViews(), createMetrics(), consumerOptions);
    await consumer.start();
    await publish(log, 0, 'startup');
    await publish(log, 1, 'playing');
    await consumer.caughtUp();
    await consumer.stop();
    await log.close();
    await store.close();

    // Second run: a stage records what it hears while the views are rebuilt, then a live beacon.
    log = await EmbeddedLog.open(join(dir, 'log'), logOptions);
    store = await DuckDBStore.open(storeOptions);
    const views = new ActiveViews();
    consumer = new IntakeConsumer(log, store, views, createMetrics(), consumerOptions);
    const heard: { what: string; replay: boolean }[] = [];
    consumer.addStage({
      name: 'recorder',
      subscribe: (events) => {
        events.on(
          'viewCreated',
          (e) => void heard.push({ what: `created ${e.view.viewId}`, replay: e.replay }),
        );
        events.on('viewState', (e) => void heard.push({ what: `state ${e.from}→${e.to}`, replay: e.replay }));
        events.on('batchApplied', (e) => {
          for (const b of e.beacons)
            for (const i of b.items) heard.push({ what: `item ${i.seq}`, replay: e.replay });
        });
      },
    });
    await consumer.start();
    await publish(log, 2, 'playing');
    await consumer.caughtUp();
    const replayed = heard.filter((h) => h.replay).map((h) => h.what);
    // Each record's view events come before its batch (the rebuild reads the log in one batch or more).
    expect(replayed.filter((w) => !w.startsWith('item'))).toEqual([
      'created v',
      'state setup→startup',
      'state startup→playing',
    ]);
    expect(replayed.filter((w) => w.startsWith('item'))).toEqual(['item 0', 'item 1']);
    expect(heard.filter((h) => !h.replay).map((h) => h.what)).toEqual(['item 2']);
    expect(heard.findIndex((h) => !h.replay)).toBe(replayed.length);
    expect(views.get('env', 'v')!.machine.metrics(false).playingTimeMs).toBe(2 * 10_000);
    await consumer.stop();
    await log.close();
    await store.close();
  });
});
