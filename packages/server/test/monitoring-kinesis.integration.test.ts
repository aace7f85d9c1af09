/**
 * The monitoring stream end to end: scripted beacons into the real server
 * CLI, a Kinesis sink writing to kinesalite through a proxy that the test
 * takes away (outage) while the server is SIGKILLed and restarted, records
 * read back with GetRecords and decoded by protoc with a reference-only
 * schema, compared with the records written by hand in the script.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createStream,
  decodeWithProtoc,
  kinesisClient,
  readStream,
  startKinesalite,
  startProxy,
} from './helpers/monitoring-infra.js';
import {
  type ExpectedRecord,
  expectedRecords,
  postScriptedViews,
  recordsOfJsonPayloads,
  sortRecords,
} from './helpers/monitoring-script.js';
import {
  readMetric,
  removeDir,
  type ServerProcess,
  startServer,
  TEST_CONFIG,
  tempDataDir,
  waitFor,
} from './helpers/server-process.js';
import { slowTests } from './helpers/slow-tests.js';

slowTests(120_000);

const WINDOW = 10_000;

describe('monitoring stream to Kinesis (kinesalite)', () => {
  let kinesalite: Awaited<ReturnType<typeof startKinesalite>>;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let server: ServerProcess | undefined;
  const dirs: string[] = [];

  beforeAll(async () => {
    kinesalite = await startKinesalite();
    proxy = await startProxy(kinesalite.port);
  });
  afterAll(async () => {
    await server?.kill('SIGKILL');
    await proxy.down();
    await kinesalite.close();
    for (const d of dirs) removeDir(d);
  });

  it('delivers every hand-computed record through an outage and a SIGKILL, readable by a reference decoder', async () => {
    const client = kinesisClient(kinesalite.port);
    await createStream(client, 'samples', 2);
    const dataDir = tempDataDir('openqoe-mon-kin-');
    dirs.push(dataDir);
    const config = {
      ...TEST_CONFIG,
      views: { tickIntervalMs: 100 },
      monitoring: {
        intervalMs: WINDOW,
        allowedLatenessMs: 1000,
        ebvsDelayMs: 2000,
        partitions: 8,
        sinks: [
          {
            type: 'kinesis',
            name: 'kinesis',
            format: 'protobuf',
            streamName: 'samples',
            endpoint: `http://127.0.0.1:${proxy.port}`,
            accessKeyId: 'test',
            secretAccessKey: 'test',
            retryInitialDelayMs: 100,
            retryMaxDelayMs: 500,
          },
          { type: 'file', name: 'json', format: 'json', directory: join(dataDir, 'stream-json') },
        ],
      },
    };
    // Windows from the next boundary on: the beacons (sent at once, ahead of time) arrive before any is due.
    const t0 = Math.floor(Date.now() / WINDOW) * WINDOW + WINDOW;
    const windowRecords = () => readMetric(server!, 'openqoe_monitoring_records_total{kind="window"}');
    // The endpoint goes away before anything is sent.
    await proxy.down();
    server = await startServer({ dataDir, config });
    await postScriptedViews(server, t0);
    // The first window of the four views is buffered (the rest is still open in memory).
    await waitFor(async () => (await windowRecords()) >= 4, 'the first window to be buffered', 30_000);
    expect(await readMetric(server, 'openqoe_monitoring_send_errors_total{sink="kinesis"}')).toBeGreaterThan(
      0,
    );
    // Killed during the outage, restarted with the same data dir, still during the outage: the
    // windows not yet emitted come back from the stored beacons.
    await server.kill('SIGKILL');
    server = await startServer({ dataDir, config });
    await waitFor(async () => (await windowRecords()) >= 2, 'the last windows to be buffered', 40_000);
    // The endpoint comes back (same port): everything buffered is delivered.
    await proxy.up();
    await waitFor(
      async () => (await readMetric(server!, 'openqoe_monitoring_buffered_bytes{sink="kinesis"}')) === 0,
      'the Kinesis buffer to drain',
      30_000,
    );

    const stored = await readStream(client, 'samples');
    const decoded = decodeWithProtoc(stored.map((r) => r.data));
    const expected = sortRecords(expectedRecords(t0));
    // Duplicates (a re-emission after the kill) must be identical; after de-duplication the set is exact.
    const byId = new Map<string, ExpectedRecord>();
    for (const r of decoded.records) {
      const id = `${r.view_id}|${r.start_ms}|${r.duration_ms}`;
      const seen = byId.get(id);
      if (seen) expect(r).toEqual(seen);
      byId.set(id, r);
    }
    expect(sortRecords([...byId.values()])).toEqual(expected);
    // A consumer of the reference schema sees our extra dimensions only as unknown fields (100+).
    const unknown = new Set(
      decoded.sampleFields
        .flat()
        .filter((f) => /^\d+$/.test(f))
        .map(Number),
    );
    expect([...unknown].every((n) => n >= 100)).toBe(true);
    expect(unknown.has(100)).toBe(true);
    // All of a view's samples went under one partition key, and in window order on their shard.
    const keysByView = new Map<string, Set<string>>();
    const lastStart = new Map<string, number>();
    for (const rec of stored) {
      const one = decodeWithProtoc([rec.data]);
      for (const r of one.records) {
        const keys = keysByView.get(r.view_id) ?? new Set();
        keys.add(rec.partitionKey);
        keysByView.set(r.view_id, keys);
        if (r.duration_ms > 0) {
          expect(r.start_ms).toBeGreaterThanOrEqual(lastStart.get(r.view_id) ?? 0);
          lastStart.set(r.view_id, r.start_ms);
        }
      }
    }
    for (const keys of keysByView.values()) expect(keys.size).toBe(1);

    // The JSON encoding (file sink of the same server) carries the same records.
    const jsonDir = join(dataDir, 'stream-json');
    const lines = readdirSync(jsonDir).flatMap((f) =>
      readFileSync(join(jsonDir, f), 'utf8').split('\n').filter(Boolean),
    );
    const fromJson = new Map<string, ExpectedRecord>();
    for (const r of recordsOfJsonPayloads(lines.map((l) => JSON.parse(l)))) {
      fromJson.set(`${r.view_id}|${r.start_ms}|${r.duration_ms}`, r);
    }
    expect(sortRecords([...fromJson.values()])).toEqual(expected);
  });
});
