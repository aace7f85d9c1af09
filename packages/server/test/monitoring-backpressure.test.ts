/**
 * A sink whose destination is down and whose disk buffer is full holds the
 * pipeline (`whenFull: block`, the default) instead of dropping records;
 * once the destination (a real HTTP listener) comes up, every record
 * arrives and the pipeline is released.
 */
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { fromBinary } from '@bufbuild/protobuf';
import { makeSample, monitoring as pb } from '@openqoe/schema';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { MonitoringStage } from '../src/outputs/stream/monitoring-stage.js';
import { PipelineEvents } from '../src/pipeline/pipeline-events.js';
import { ActiveViews, type Arrival, DEFAULT_TIMERS } from '../src/pipeline/view-model/active-views.js';
import { nativeItems } from '../src/pipeline/view-model/normalize-native.js';
import { removeDir, tempDataDir, waitFor } from './helpers/server-process.js';

const T0 = 1_763_700_000_000;
const VIEWS = 40;

describe('monitoring backpressure', () => {
  const dir = tempDataDir('openqoe-mon-bp-');
  let http: Server | undefined;
  afterAll(async () => {
    await new Promise((r) => (http ? http.close(r) : r(undefined)));
    removeDir(dir);
  });

  it('holds the pipeline while the buffer is full and loses nothing', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createNetServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const views = new ActiveViews(DEFAULT_TIMERS);
    const events = new PipelineEvents(views);
    const stage = await MonitoringStage.open({
      config: {
        intervalMs: 10_000,
        allowedLatenessMs: 0,
        ebvsDelayMs: 60_000,
        // One sample per payload, so the 1 KiB buffer fills after a few.
        maxPayloadBytes: 1024,
        partitions: 1,
        sinks: [
          {
            type: 'http',
            name: 'http',
            format: 'protobuf',
            url: `http://127.0.0.1:${port}/`,
            headers: {},
            timeoutMs: 2000,
            bufferMaxBytes: 1024,
            whenFull: 'block',
            retryInitialBackoffMs: 20,
            retryMaxBackoffMs: 100,
          },
        ],
      },
      dataDir: dir,
      minStallMs: 250,
      registry: new Registry(),
      log: { info() {}, warn() {}, error() {} },
      emitOnSchedule: false,
    });
    stage.subscribe(events);
    const batch = () => events.deliver({ event: { beacons: [], replay: false }, accepted: 0 });
    for (let v = 0; v < VIEWS; v++) {
      const viewId = `view-${v}`;
      const arrival: Arrival = {
        envId: 'env1',
        receivedAtMs: T0 + 10_000,
        clockOffsetMs: 0,
        ip: '',
        userAgent: '',
      };
      // 4 s of playing in the first window (no startup: no START_LATENCY, one metric).
      const items = nativeItems(
        [makeSample({ viewId, sequenceNumber: 0, state: 'playing', timestamp: T0 + 1000, durationMs: 4000 })],
        [],
      );
      views.apply(arrival, viewId, items);
    }
    stage.tick(T0 + 10_000);
    // The destination is down and the buffer full: a batch is held, then handed back to be retried.
    await expect(batch()).rejects.toThrow(/buffer is full/);
    expect((await stage.metrics.dropped.get()).values.reduce((a, v) => a + v.value, 0)).toBe(0);

    const received: Buffer[] = [];
    http = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push(Buffer.concat(chunks));
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => http!.listen(port, '127.0.0.1', () => r()));
    await waitFor(async () => (await batch()) === undefined, 'the pipeline to be released', 20_000);
    await waitFor(
      async () => (await stage.metrics.buffered.get()).values.every((v) => v.value === 0),
      'the buffer to drain',
    );
    await stage.close();
    const viewIds = received.flatMap((b) => fromBinary(pb.SamplesSchema, b).samples.map((s) => s.viewId));
    expect(viewIds.sort()).toEqual(Array.from({ length: VIEWS }, (_, v) => `view-${v}`).sort());
    for (const b of received) {
      for (const s of fromBinary(pb.SamplesSchema, b).samples) {
        expect(s.records.map((r) => r.metrics.map((m) => [m.type, m.value]))).toEqual([
          [[pb.Metric_Type.WATCH_DURATION_MS, 4000n]],
        ]);
      }
    }
  });
});
