/**
 * The Kinesis sink against the real Kinesis API (kinesalite) when a
 * PutRecords call partly fails: a proxy marks chosen records of chosen calls
 * `ProvisionedThroughputExceededException` (without storing them), as Kinesis
 * does under throttling. The stream, read back with GetRecords, must hold
 * every record once, in order per partition key, and the retries must carry
 * only the failed records.
 */
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Delivery } from '../src/outputs/delivery/delivery.js';
import type { QueueRecord } from '../src/outputs/delivery/destination.js';
import { kinesisSink } from '../src/outputs/stream/sinks/kinesis.js';
import { createMonitoringMetrics, sinkCounters } from '../src/outputs/stream/sinks/monitoring-metrics.js';
import {
  createStream,
  kinesisClient,
  readStream,
  startFaultProxy,
  startKinesalite,
} from './helpers/monitoring-infra.js';
import { removeDir, tempDataDir, waitFor } from './helpers/server-process.js';

const KEYS = 5;
const ROUNDS = 3;

/** Round-major, as the stream queues them: every key's round 0, then round 1, … */
const entries: QueueRecord[] = Array.from({ length: ROUNDS }, (_, round) =>
  Array.from({ length: KEYS }, (_, k) => ({
    key: `key-${k}`,
    id: `key-${k}-round-${round}`,
    dueAtMs: Date.now(),
    payload: Buffer.concat([Buffer.from(`key-${k}-round-${round}:`), Buffer.alloc(64 + k, round)]),
  })),
).flat();
const payloadOf = (k: number, round: number) => entries[round * KEYS + k]!.payload;
/** What a PutRecords request carried, as "key-k-round-r" names. */
const names = (records: { data: Buffer }[]) => records.map((r) => r.data.toString().split(':')[0]);

describe('Kinesis sink: partial PutRecords failures (kinesalite behind a fault proxy)', () => {
  let kinesalite: Awaited<ReturnType<typeof startKinesalite>>;
  const dirs: string[] = [];
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    kinesalite = await startKinesalite();
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  afterAll(async () => {
    await kinesalite.close();
    for (const d of dirs) removeDir(d);
  });

  /** A stream, the fault proxy, and the Kinesis sink on the delivery core with every entry queued. */
  async function deliver(stream: string, failOn: Map<number, number[]>) {
    const client = kinesisClient(kinesalite.port);
    cleanups.push(async () => client.destroy());
    await createStream(client, stream, 2);
    const proxy = await startFaultProxy(kinesalite.port, failOn);
    cleanups.push(proxy.close);
    const dir = tempDataDir('openqoe-mon-kin-subset-');
    dirs.push(dir);
    const registry = new Registry();
    const sink = kinesisSink.create(
      {
        type: 'kinesis',
        name: 'kinesis',
        format: 'protobuf',
        bufferMaxBytes: 1 << 20,
        whenFull: 'block',
        retryInitialBackoffMs: 50,
        retryMaxBackoffMs: 200,
        streamName: stream,
        region: 'us-east-1',
        endpoint: `http://127.0.0.1:${proxy.port}`,
        accessKeyId: 'test',
        secretAccessKey: 'test',
      },
      { key: 'monitoring.sinks[0]', env: {} },
    );
    const delivery = await Delivery.open(sink, {
      label: 'monitoring sink kinesis',
      nouns: ['payload', 'payloads'],
      dir: join(dir, 'buffer'),
      bufferMaxBytes: 1 << 20,
      whenFull: 'block',
      retry: { initialBackoffMs: 50, maxBackoffMs: 200 },
      limits: kinesisSink.limits,
      maxDelayMs: 0,
      counters: sinkCounters(createMonitoringMetrics(registry), 'kinesis'),
      log: { info: () => {}, warn: () => {}, error: () => {} },
    });
    cleanups.push(() => delivery.close());
    await delivery.offer(entries);
    await waitFor(async () => delivery.queue.bytes === 0, 'the queue to drain', 20_000);
    const metric = async (name: string) =>
      Number(
        (await registry.metrics())
          .split('\n')
          .find((l) => l.startsWith(`${name}{sink="kinesis"} `))
          ?.split(' ')
          .pop() ?? 0,
      );
    // Each key's records in the order its shard holds them.
    const byKey = new Map<string, Buffer[]>();
    for (const r of await readStream(client, stream)) {
      byKey.set(r.partitionKey, [...(byKey.get(r.partitionKey) ?? []), r.data]);
    }
    return { seen: proxy.seen, byKey, metric };
  }

  it('retries only the failed records, and the stream holds each record once, in order per key', async () => {
    // The first call loses key-1 and key-3; its retry loses key-3 again.
    const { seen, byKey, metric } = await deliver(
      'subset',
      new Map([
        [0, [1, 3]],
        [1, [1]],
      ]),
    );
    expect(seen.map((s) => names(s.records))).toEqual([
      ['key-0-round-0', 'key-1-round-0', 'key-2-round-0', 'key-3-round-0', 'key-4-round-0'],
      ['key-1-round-0', 'key-3-round-0'],
      ['key-3-round-0'],
      ['key-0-round-1', 'key-1-round-1', 'key-2-round-1', 'key-3-round-1', 'key-4-round-1'],
      ['key-0-round-2', 'key-1-round-2', 'key-2-round-2', 'key-3-round-2', 'key-4-round-2'],
    ]);
    // The retries carried the failed records' exact bytes and keys.
    expect(seen[1]!.records).toEqual([
      { partitionKey: 'key-1', data: payloadOf(1, 0) },
      { partitionKey: 'key-3', data: payloadOf(3, 0) },
    ]);
    expect(seen[2]!.records).toEqual([{ partitionKey: 'key-3', data: payloadOf(3, 0) }]);
    expect([...byKey.keys()].sort()).toEqual(Array.from({ length: KEYS }, (_, k) => `key-${k}`));
    for (let k = 0; k < KEYS; k++) {
      expect(byKey.get(`key-${k}`)).toEqual([payloadOf(k, 0), payloadOf(k, 1), payloadOf(k, 2)]);
    }
    // Handled inside one send: no failed delivery for the core, every payload acknowledged once.
    expect(await metric('openqoe_monitoring_send_errors_total')).toBe(0);
    expect(await metric('openqoe_monitoring_payloads_sent_total')).toBe(KEYS * ROUNDS);
  });

  it('resends the whole batch when a record keeps failing: duplicates are identical and order per key holds', async () => {
    // key-2 fails in the first call and in all four subset retries (the sink gives up on the fifth).
    const failOn = new Map([[0, [2]]]);
    for (let i = 1; i <= 4; i++) failOn.set(i, [0]);
    const { seen, byKey, metric } = await deliver('stubborn', failOn);
    expect(seen.slice(1, 5).map((s) => names(s.records))).toEqual(Array(4).fill(['key-2-round-0']));
    // The core's resend starts over with the batch: round 0 again, then the rounds not sent yet.
    expect(seen.slice(5).map((s) => names(s.records))).toEqual(
      [0, 1, 2].map((round) => Array.from({ length: KEYS }, (_, k) => `key-${k}-round-${round}`)),
    );
    // key-2's round 0 was stored only by the resend; the other keys' round 0 twice, identical.
    expect(byKey.get('key-2')).toEqual([payloadOf(2, 0), payloadOf(2, 1), payloadOf(2, 2)]);
    for (const k of [0, 1, 3, 4]) {
      expect(byKey.get(`key-${k}`)).toEqual([
        payloadOf(k, 0),
        payloadOf(k, 0),
        payloadOf(k, 1),
        payloadOf(k, 2),
      ]);
    }
    expect(await metric('openqoe_monitoring_send_errors_total')).toBe(1);
    expect(await metric('openqoe_monitoring_payloads_sent_total')).toBe(KEYS * ROUNDS);
  });
});
