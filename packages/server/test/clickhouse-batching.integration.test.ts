/**
 * ClickHouse wants about one insert per second per table: with a ClickHouse
 * store the pipeline commits at most once per `clickhouse.minInsertIntervalMs`
 * even when `pipeline.commitIntervalMs` asks for every batch, and each
 * commit carries every beacon of its interval. The same traffic on DuckDB
 * with that setting commits far more often, so the bound is what the
 * ClickHouse store adds.
 */
import { makeBeacon, makeSample } from '@openqoe/schema';
import { afterAll, describe, expect, it } from 'vitest';
import { Deadline } from './helpers/patience.js';
import {
  postBeacon,
  readMetric,
  removeDir,
  startServer,
  TEST_CONFIG,
  tempDataDir,
  waitForDrain,
} from './helpers/server-process.js';
import { queryStoreOf, storesUnderTest, titleOf } from './helpers/stores.js';

const BEACONS = 60;
const SPACING_MS = 50;

const stores = storesUnderTest();
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) removeDir(d);
});

/** Posts one beacon of a view of its own every SPACING_MS; returns the commits and how long it took to drain. */
async function run(args: string[], dataDir: string) {
  const server = await startServer({
    dataDir,
    config: { ...TEST_CONFIG, pipeline: { commitIntervalMs: 0 } },
    args,
  });
  const key = server.bootstrap().environment.key;
  const started = performance.now();
  for (let i = 0; i < BEACONS; i++) {
    const body = JSON.stringify(
      makeBeacon({ envKey: key, samples: [makeSample({ viewId: `b${i}`, sequenceNumber: 0 })] }),
    );
    expect((await postBeacon(server.url, body)).status).toBe(202);
    await new Promise((r) => setTimeout(r, SPACING_MS));
  }
  await waitForDrain(server);
  // Drained means read; the last commit may still be waiting for its interval.
  let commits = 0;
  const deadline = new Deadline(5000);
  for (;;) {
    commits = await readMetric(server, 'openqoe_store_write_seconds_count');
    if ((await readMetric(server, 'openqoe_pipeline_samples_stored_total')) >= BEACONS) break;
    if (deadline.expired()) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const elapsedMs = performance.now() - started;
  await server.kill('SIGTERM');
  return { commits, elapsedMs };
}

describe('pipeline commits per store', () => {
  const clickhouse = stores.find((s) => s.kind === 'chdb')!;

  it.skipIf(clickhouse.skip !== undefined)(
    titleOf('at most one ledger insert per second, carrying every beacon', clickhouse),
    async () => {
      const dataDir = tempDataDir('openqoe-chbatch-');
      dirs.push(dataDir);
      const { commits, elapsedMs } = await run(clickhouse.args, dataDir);
      // One commit per started second of the run at most (the first may go at once).
      expect(commits).toBeGreaterThan(0);
      expect(commits).toBeLessThanOrEqual(Math.floor(elapsedMs / 1000) + 1);
      const [ledger] = await queryStoreOf(clickhouse, dataDir, 'SELECT count() AS n FROM beacons');
      expect(Number(ledger?.['n'])).toBe(BEACONS);
    },
  );

  it('on DuckDB the same settings commit about once per batch (the bound above is not the default)', async () => {
    const dataDir = tempDataDir('openqoe-chbatch-duck-');
    dirs.push(dataDir);
    const { commits, elapsedMs } = await run([], dataDir);
    expect(commits).toBeGreaterThan(Math.floor(elapsedMs / 1000) + 1);
  });
});
