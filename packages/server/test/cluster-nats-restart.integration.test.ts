/**
 * The scale-out deployment with its bus restarted under load: a real
 * `nats-server -js`, one ingest node, one pipeline worker and one api node
 * (owning a DuckDB store), all real CLI processes. Clients post beacons
 * without pause; nats-server is stopped mid-load and started again on the same
 * port and JetStream store. While it is down the ingest node refuses (5xx or
 * 429), never answers 202 for a beacon it could not make durable; afterwards
 * every sample of every 202 is in the api node's store exactly once.
 */
import { makeBeacon, makeSample } from '@openqoe/schema';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterProcesses, type NatsServer, startNats, startRole } from './helpers/cluster.js';
import { stopChild } from './helpers/processes.js';
import {
  postBeacon,
  queryDataDir,
  type ServerProcess,
  TEST_CONFIG,
  waitFor,
} from './helpers/server-process.js';
import { slowTests } from './helpers/slow-tests.js';

slowTests(180_000);

const SAMPLES_PER_BEACON = 5;
/** Clients posting at once, each one beacon after the other. */
const CLIENTS = 8;

/** Beacon i: a view of its own, `n{i}`, with samples 0..4. */
function beaconBody(envKey: string, i: number): string {
  const now = Date.now();
  const samples = Array.from({ length: SAMPLES_PER_BEACON }, (_, s) =>
    makeSample({ viewId: `n${i}`, sequenceNumber: s, viewerTime: now - 1000 * (5 - s) }),
  );
  return JSON.stringify(makeBeacon({ envKey, sentAt: now, samples }));
}

const backlogOf = async (s: ServerProcess) =>
  ((await (await fetch(`${s.url}/healthz`)).json()) as { bus: { backlog_bytes: number } }).bus.backlog_bytes;

describe('scale-out with nats-server restarted under load', () => {
  let nats: NatsServer | undefined;
  const { dir, start, stopAll } = clusterProcesses('openqoe-natsrestart');
  afterAll(() => stopAll(nats));

  it('refuses while the bus is down and loses nothing it answered 202', async () => {
    nats = await startNats();
    const config = { ...TEST_CONFIG, pipeline: { commitIntervalMs: 500 } };
    const apiDir = dir('api');
    const api = await start(startRole('api', nats.url, { dataDir: apiDir, config }));
    const worker = await start(startRole('pipeline', nats.url, { dataDir: dir('worker'), config }));
    const ingest = await start(startRole('ingest', nats.url, { dataDir: dir('ingest'), config }));
    const envKey = api.bootstrap().environment.key;

    // The load: CLIENTS loops, each posting the next beacon as soon as the last is answered.
    type Phase = 'before' | 'down' | 'after';
    let phase: Phase = 'before';
    const acked = new Set<number>();
    const answers: Record<Phase, Map<number | string, number>> = {
      before: new Map(),
      down: new Map(),
      after: new Map(),
    };
    const count = (p: Phase, k: number | string) => answers[p].set(k, (answers[p].get(k) ?? 0) + 1);
    let next = 0;
    let stopLoad = false;
    const refusals = new Set<string>();
    const client = async () => {
      while (!stopLoad) {
        const i = next++;
        // The phase when the request was sent: a 202 sent before the stop may still arrive.
        const sentIn = phase;
        try {
          const r = await postBeacon(ingest.url, beaconBody(envKey, i));
          count(sentIn, r.status);
          if (r.status === 202) acked.add(i);
          else {
            // Refused in the envelope, with the Retry-After a collector honours.
            const code = (r.json as { error?: { code?: string } }).error?.code;
            refusals.add(`${r.status} ${code} retry-after=${r.headers.get('retry-after')}`);
            // A refused client backs off a little, as the collector does.
            await new Promise((r) => setTimeout(r, 50));
          }
        } catch (err) {
          count(sentIn, (err as Error).message);
        }
      }
    };
    const load = Promise.all(Array.from({ length: CLIENTS }, client));
    const ackedBy = (n: number, what: string) => waitFor(async () => acked.size >= n, what, 60_000);

    try {
      await ackedBy(150, '150 beacons acknowledged before the restart');
      // Stopped: what was published and not yet consumed stays in its JetStream store.
      const { port, dir: natsDir } = { port: Number(new URL(nats.url).port), dir: nats.dir };
      await stopChild(nats.child, 'SIGTERM');
      phase = 'down';
      const ackedAtStop = acked.size;
      // Refusals while it is down (a publish waits up to its timeout before it gives up).
      await waitFor(
        async () => [...answers.down.keys()].some((k) => typeof k === 'number' && k >= 429),
        'the ingest node to refuse while the bus is down',
        60_000,
      );
      const refusedWhileDown = [...answers.down].filter(([k]) => typeof k === 'number' && k >= 429);
      nats = await startNats({ port, dir: natsDir });
      phase = 'after';
      // The ingest node reconnects by itself and acknowledges again.
      await ackedBy(acked.size + 150, '150 more beacons acknowledged after the restart');
      stopLoad = true;
      await load;

      const statuses = new Set([...answers.before.keys(), ...answers.down.keys(), ...answers.after.keys()]);
      // Every answer is a 202 or a refusal the client retries on: no other 4xx or 5xx, no hang-up.
      for (const s of statuses) expect([202, 429, 503], JSON.stringify(answers)).toContain(s);
      for (const r of refusals)
        expect(['503 QOE_ERR_UNAVAILABLE retry-after=1', '429 QOE_ERR_BACKLOG_FULL retry-after=1']).toContain(
          r,
        );
      expect(refusedWhileDown.length).toBeGreaterThan(0);
      expect(acked.size).toBeGreaterThan(ackedAtStop);
    } finally {
      stopLoad = true;
      await load;
    }

    // The worker and the api node catch up with what the bus holds, then the store is read.
    await waitFor(async () => (await backlogOf(worker)) === 0, 'the worker to drain', 60_000);
    await waitFor(async () => (await backlogOf(api)) === 0, 'the store writer to drain', 60_000);
    // Each stored item counted once per (view, sequence), whatever was posted but never answered.
    const want = new Map<string, number>();
    for (const i of acked) want.set(`n${i}`, SAMPLES_PER_BEACON);
    await api.kill('SIGTERM');
    const rows = await queryDataDir(
      apiDir,
      `SELECT view_id, s::INTEGER AS seq, count(*)::INTEGER AS n
       FROM beacons, unnest(generate_series(first_seq, last_seq)) AS t(s) GROUP BY ALL`,
    );
    const stored = new Map<string, number>();
    for (const r of rows) {
      // Nothing stored twice, acknowledged or not.
      expect(r['n'], `${r['view_id']}#${r['seq']}`).toBe(1);
      const v = String(r['view_id']);
      stored.set(v, (stored.get(v) ?? 0) + 1);
    }
    const missing = [...want].filter(([v, n]) => stored.get(v) !== n).map(([v]) => v);
    expect(missing, `of ${acked.size} acknowledged beacons`).toEqual([]);
  });
});
