/**
 * The store writer (api role) with a real nats-server and DuckDB: ledger rows
 * handed over twice — a worker killed after handing its rows over and before
 * acknowledging its beacons does that — are stored once; and the role flags
 * refuse bad input with a message naming the setting.
 */
import { spawnSync } from 'node:child_process';
import { connect } from 'nats';
import { afterAll, describe, expect, it } from 'vitest';
import { type NatsServer, startNats, startRole } from './helpers/cluster.js';
import { patience } from './helpers/patience.js';
import {
  CLI,
  queryDataDir,
  removeDir,
  type ServerProcess,
  TEST_CONFIG,
  tempDataDir,
  waitFor,
} from './helpers/server-process.js';

const row = (viewId: string, partition: number, logPosition: number, seqCount: number) => ({
  partition,
  logPosition,
  envId: 'env1',
  viewId,
  firstSeq: 0,
  lastSeq: seqCount - 1,
  seqCount,
  sampleCount: seqCount,
  eventCount: 0,
  receivedAtMs: 1_700_000_000_000,
  clockOffsetMs: 0,
  logId: 'OPENQOE_BEACONS',
});

describe('store writer', () => {
  let nats: NatsServer | undefined;
  let api: ServerProcess | undefined;
  const dirs: string[] = [];
  afterAll(async () => {
    await api?.kill('SIGKILL');
    nats?.stop();
    for (const d of [...dirs, nats?.dir ?? '']) if (d) removeDir(d);
  });

  it('stores rows handed over again only once, per partition', async () => {
    nats = await startNats();
    const dataDir = tempDataDir('openqoe-storewriter-');
    dirs.push(dataDir);
    api = await startRole('api', nats.url, { dataDir, config: TEST_CONFIG });
    const nc = await connect({ servers: nats.url.replace('nats://', '') });
    const js = nc.jetstream();
    const send = (rows: unknown[]) => js.publish('openqoe.store.raw', JSON.stringify({ kind: 'raw', rows }));
    // Beacon at stream sequence 10 of partition 3 carried two views; 12 one view.
    await send([row('v1', 3, 10, 4), row('v2', 3, 10, 2), row('v1', 3, 12, 3)]);
    // The worker died before acking, came back and handed the same beacons over again, plus the next one.
    await send([row('v1', 3, 10, 4), row('v2', 3, 10, 2)]);
    await send([row('v1', 3, 12, 3), row('v2', 3, 15, 5)]);
    // Another partition has its own sequence: position 11 there is new.
    await send([row('v3', 5, 11, 7)]);
    await nc.close();
    await waitFor(
      async () =>
        ((await (await fetch(`${api!.url}/healthz`)).json()) as { bus: { backlog_bytes: number } }).bus
          .backlog_bytes === 0,
      'the store writer to drain',
    );
    // Let the last write finish, then read the file the stopped server leaves.
    await new Promise((r) => setTimeout(r, 500));
    await api.kill('SIGTERM');
    const rows = await queryDataDir(
      dataDir,
      'SELECT view_id, log_position::INTEGER AS pos, seq_count::INTEGER AS n FROM beacons ORDER BY view_id, pos',
    );
    expect(rows).toEqual([
      { view_id: 'v1', pos: 10, n: 4 },
      { view_id: 'v1', pos: 12, n: 3 },
      { view_id: 'v2', pos: 10, n: 2 },
      { view_id: 'v2', pos: 15, n: 5 },
      { view_id: 'v3', pos: 11, n: 7 },
    ]);
    const checkpoints = await queryDataDir(
      dataDir,
      "SELECT consumer, position::INTEGER AS position FROM consumer_checkpoints WHERE consumer LIKE 'OPENQOE_STORE:%' ORDER BY consumer",
    );
    expect(checkpoints).toEqual([
      { consumer: 'OPENQOE_STORE:p3', position: 16 },
      { consumer: 'OPENQOE_STORE:p5', position: 12 },
    ]);
  });
});

describe('serve --role', () => {
  const serve = (...args: string[]) => {
    const dir = tempDataDir('openqoe-role-');
    const r = spawnSync(process.execPath, [CLI, 'serve', '--port', '0', '--data-dir', dir, ...args], {
      encoding: 'utf8',
      timeout: patience(20_000),
    });
    removeDir(dir);
    return { code: r.status, err: r.stderr };
  };

  it('needs a bus for a role other than all', () => {
    const r = serve('--role', 'pipeline');
    expect(r.code).toBe(2);
    expect(r.err).toContain('--role pipeline needs a NATS bus: add --bus nats://host:port');
  });

  it('names a partition list out of range', () => {
    const r = serve('--role', 'pipeline', '--bus', 'nats://127.0.0.1:1', '--partitions', '4-9');
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      'cluster.ownPartitions: partition list: 9 is out of range (cluster.partitions is 8: 0-7)',
    );
  });

  it('says when the bus cannot be reached', () => {
    const r = serve('--role', 'ingest', '--bus', 'nats://127.0.0.1:1');
    expect(r.code).toBe(2);
    expect(r.err).toContain('cannot reach the NATS bus at nats://127.0.0.1:1 (cluster.bus)');
  });

  it('refuses a bus that is not NATS', () => {
    const r = serve('--bus', 'kafka://127.0.0.1:9092');
    expect(r.code).toBe(2);
    expect(r.err).toContain('cluster.bus');
  });
});
