/**
 * A beacon answered 202 survives `kill -9` right after the answer and is
 * stored exactly once, and neither a restart, client retries nor a full
 * replay of the log stores anything twice. The same for the Mux-protocol
 * intake on its TLS listener: every event answered 200 is stored once.
 */

import { Agent, request } from 'node:https';
import { makeBeacon, makeEvent, makeSample } from '@openqoe/schema';
import { afterAll, describe, expect, it } from 'vitest';
import { minifyKey } from '../src/intake/mux/mux-keys.js';
import {
  muxListenerOf,
  postBeacon,
  readMetric,
  removeDir,
  startServer,
  TEST_CONFIG,
  tempDataDir,
  waitForDrain,
} from './helpers/server-process.js';
import { slowTests } from './helpers/slow-tests.js';
import { queryStoreOf, runnableStores, type StoreUnderTest } from './helpers/stores.js';

slowTests(180_000);

const BATCHES = 1000;
const SAMPLES_PER_BATCH = 5;

/** Batch i: view `v{i}`, samples 0..4 and one event (seq 5); every tenth batch also carries a second view. */
function batchBody(envKey: string, i: number): string {
  const now = Date.now();
  const samples = Array.from({ length: SAMPLES_PER_BATCH }, (_, s) =>
    makeSample({ viewId: `v${i}`, sequenceNumber: s, viewerTime: now - 1000 * (5 - s) }),
  );
  const events = [
    makeEvent({ viewId: `v${i}`, sequenceNumber: SAMPLES_PER_BATCH, type: 'pause', state: 'paused' }),
  ];
  if (i % 10 === 0) samples.push(makeSample({ viewId: `v${i}-b`, sequenceNumber: 0 }));
  return JSON.stringify(makeBeacon({ envKey, sentAt: now, samples, events }));
}

/**
 * All BATCHES at once come from one address: past the per-address cap (256) the connections
 * would be closed at accept, and Node's fetch leaves some of those requests hanging for ever.
 */
const nativeConfig = { ...TEST_CONFIG, connections: { maxPerAddress: 2 * BATCHES } };

const expectedRows = (i: number) => SAMPLES_PER_BATCH + 1 + (i % 10 === 0 ? 1 : 0);

/** Per (view, sequence) how many times the store's ledger holds it, over samples and events. */
async function storedCounts(store: StoreUnderTest, dataDir: string): Promise<Map<string, number>> {
  // Each batch's items of one view are contiguous, so a ledger row's range lists exactly its items.
  const gaps = await queryStoreOf(
    store,
    dataDir,
    'SELECT count(*) AS n FROM beacons WHERE seq_count <> last_seq - first_seq + 1',
  );
  expect(Number(gaps[0]?.['n'])).toBe(0);
  // Physical rows (no FINAL on ClickHouse): a ledger row written twice counts twice.
  const rows = await queryStoreOf(
    store,
    dataDir,
    store.kind === 'duckdb'
      ? `SELECT view_id, s AS sequence_number, count(*) AS n
         FROM beacons, unnest(generate_series(first_seq, last_seq)) AS t(s) GROUP BY ALL`
      : `SELECT view_id, arrayJoin(range(first_seq, last_seq + 1)) AS sequence_number, count() AS n
         FROM beacons GROUP BY ALL`,
  );
  return new Map(rows.map((r) => [`${r['view_id']}#${r['sequence_number']}`, Number(r['n'])]));
}

describe.each(runnableStores('durability'))('durability on $name', (store) => {
  const dataDir = tempDataDir('openqoe-durability-');
  afterAll(() => removeDir(dataDir));

  // A random moment, reproducible from the printed seed.
  const seed = Number(process.env['DURABILITY_SEED'] ?? Math.floor(Math.random() * 1e9));
  const killAfter = 100 + (seed % 800);

  it(`every 202 survives kill -9 after ${killAfter} answers (seed ${seed}) and is stored exactly once`, async () => {
    let server = await startServer({ dataDir, config: nativeConfig, args: store.args });
    const envKey = server.bootstrap().environment.key;
    const bodies = Array.from({ length: BATCHES }, (_, i) => batchBody(envKey, i));

    const acked = new Set<number>();
    let killed: Promise<unknown> | undefined;
    const results = await Promise.allSettled(
      bodies.map(async (body, i) => {
        const r = await postBeacon(server.url, body);
        if (r.status === 202) {
          acked.add(i);
          if (acked.size === killAfter) killed = server.kill('SIGKILL');
        }
        return r.status;
      }),
    );
    await killed;
    expect(server.child.signalCode).toBe('SIGKILL');
    const failed = results.filter((r) => r.status === 'rejected').length;
    // The kill happened mid-stream: some were answered, some were cut off.
    expect(acked.size).toBeGreaterThanOrEqual(killAfter);
    expect(acked.size + failed).toBe(BATCHES);

    server = await startServer({ dataDir, config: nativeConfig, args: store.args });
    await waitForDrain(server);
    await server.kill('SIGTERM');

    const counts = await storedCounts(store, dataDir);
    for (const i of acked) {
      const views = i % 10 === 0 ? [`v${i}`, `v${i}-b`] : [`v${i}`];
      for (const v of views) {
        const seqs = v.endsWith('-b') ? [0] : [0, 1, 2, 3, 4, 5];
        for (const s of seqs) expect(counts.get(`${v}#${s}`), `${v}#${s}`).toBe(1);
      }
    }
    // Nothing, acknowledged or not, is stored twice.
    expect([...counts.values()].filter((n) => n !== 1)).toEqual([]);
    const storedTotal = [...counts.values()].reduce((a, b) => a + b, 0);
    const ackedTotal = [...acked].reduce((a, i) => a + expectedRows(i), 0);
    expect(storedTotal).toBeGreaterThanOrEqual(ackedTotal);

    // Client retries of every batch (as a collector does after a network error) add nothing.
    server = await startServer({ dataDir, config: nativeConfig, args: store.args });
    const retried = await Promise.all(bodies.map((b) => postBeacon(server.url, b)));
    expect(retried.every((r) => r.status === 202)).toBe(true);
    await waitForDrain(server);
    await server.kill('SIGTERM');
    const afterRetry = await storedCounts(store, dataDir);
    expect([...afterRetry.values()].every((n) => n === 1)).toBe(true);
    // Batches that were cut off arrive now, exactly once, so every batch is complete.
    const totalExpected = bodies.reduce((a, _, i) => a + expectedRows(i), 0);
    expect([...afterRetry.values()].reduce((a, b) => a + b, 0)).toBe(totalExpected);

    // A full replay of the log (the store forgets its position) stores nothing twice.
    await queryStoreOf(store, dataDir, 'DELETE FROM consumer_checkpoints WHERE 1 = 1');
    server = await startServer({ dataDir, config: nativeConfig, args: store.args });
    await waitForDrain(server);
    const duplicates = await readMetric(server, 'openqoe_pipeline_duplicates_total');
    await server.kill('SIGTERM');
    expect(duplicates).toBeGreaterThan(0);
    const afterReplay = await storedCounts(store, dataDir);
    expect(afterReplay).toEqual(afterRetry);
  });
});

const MUX_BATCHES = 600;
/** Mux events per view and batch: view_sequence_number 1..6, stored as sequence 0..5. */
const MUX_EVENTS = ['viewstart', 'play', 'playing', 'pause', 'play', 'playing'];

/** Batch i: view `m{i}` with six events; every tenth batch also carries view `m{i}-b` with one. */
function muxBatchBody(envKey: string, i: number): string {
  const now = Date.now();
  const event = (viewId: string, seq: number, name: string) => {
    const full: Record<string, unknown> = {
      env_key: envKey,
      view_id: viewId,
      view_sequence_number: seq,
      player_sequence_number: seq,
      viewer_time: now - 1000 * (7 - seq),
      player_playhead_time: 0,
      event: name,
      player_instance_id: `p-${i}`,
    };
    // Sent minified, as the SDK does.
    return Object.fromEntries(Object.entries(full).map(([k, v]) => [minifyKey(k), v]));
  };
  const events = MUX_EVENTS.map((name, s) => event(`m${i}`, s + 1, name));
  if (i % 10 === 0) events.push(event(`m${i}-b`, 1, 'viewstart'));
  return JSON.stringify({ metadata: { transmission_timestamp: now }, events });
}

const muxExpectedRows = (i: number) => MUX_EVENTS.length + (i % 10 === 0 ? 1 : 0);

const muxConfig = {
  ...TEST_CONFIG,
  compat: { mux: { enabled: true, port: 0 } },
};

describe.each(runnableStores('durability of the Mux intake'))(
  'durability of the Mux intake on $name',
  (store) => {
    const dataDir = tempDataDir('openqoe-durability-mux-');
    afterAll(() => removeDir(dataDir));

    const seed = Number(process.env['DURABILITY_SEED'] ?? Math.floor(Math.random() * 1e9));
    const killAfter = 50 + (seed % 400);

    /** POSTs one body to the server's Mux listener (its own certificate trusted) and gives the status. */
    const postMux = ({ url, ca }: { url: URL; ca: string }, agent: Agent, body: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: url.port,
            path: '/',
            method: 'POST',
            ca,
            agent,
            headers: { 'content-type': 'text/plain' },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(body);
      });

    it(`every 200 survives kill -9 after ${killAfter} answers (seed ${seed}) and is stored exactly once`, async () => {
      const start = () => startServer({ dataDir, config: muxConfig, args: store.args });
      let server = await start();
      let listener = muxListenerOf(server);
      const envKey = server.bootstrap().environment.key;
      const bodies = Array.from({ length: MUX_BATCHES }, (_, i) => muxBatchBody(envKey, i));

      // A pool of kept-alive TLS connections, as many browsers behind one address would hold.
      let agent = new Agent({ keepAlive: true, maxSockets: 32 });
      const acked = new Set<number>();
      const statuses = new Map<number, number>();
      let killed: Promise<unknown> | undefined;
      const results = await Promise.allSettled(
        bodies.map(async (body, i) => {
          const status = await postMux(listener, agent, body);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (status === 200) {
            acked.add(i);
            if (acked.size === killAfter) killed = server.kill('SIGKILL');
          }
          return status;
        }),
      );
      await killed;
      agent.destroy();
      expect(server.child.signalCode).toBe('SIGKILL');
      const failed = results.filter((r) => r.status === 'rejected').length;
      // The kill happened mid-stream: some were answered, the rest cut off; none refused.
      expect(acked.size).toBeGreaterThanOrEqual(killAfter);
      expect(acked.size + failed, JSON.stringify([...statuses])).toBe(MUX_BATCHES);
      expect(failed).toBeGreaterThan(0);

      server = await start();
      await waitForDrain(server);
      await server.kill('SIGTERM');

      const counts = await storedCounts(store, dataDir);
      for (const i of acked) {
        for (let s = 0; s < MUX_EVENTS.length; s++) expect(counts.get(`m${i}#${s}`), `m${i}#${s}`).toBe(1);
        if (i % 10 === 0) expect(counts.get(`m${i}-b#0`), `m${i}-b#0`).toBe(1);
      }
      // Nothing, acknowledged or not, is stored twice.
      expect([...counts.values()].filter((n) => n !== 1)).toEqual([]);
      const ackedTotal = [...acked].reduce((a, i) => a + muxExpectedRows(i), 0);
      expect([...counts.values()].reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(ackedTotal);

      // The SDK's retries of every batch add nothing, and complete the batches that were cut off.
      server = await start();
      listener = muxListenerOf(server);
      agent = new Agent({ keepAlive: true, maxSockets: 32 });
      const retried = await Promise.all(bodies.map((b) => postMux(listener, agent, b)));
      agent.destroy();
      expect(retried.filter((s) => s !== 200)).toEqual([]);
      await waitForDrain(server);
      await server.kill('SIGTERM');
      const afterRetry = await storedCounts(store, dataDir);
      expect([...afterRetry.values()].filter((n) => n !== 1)).toEqual([]);
      const totalExpected = bodies.reduce((a, _, i) => a + muxExpectedRows(i), 0);
      expect([...afterRetry.values()].reduce((a, b) => a + b, 0)).toBe(totalExpected);
    });
  },
);
