/**
 * Storage faults never lose or hide acknowledged data: with the data dir's
 * filesystem full, and with a ClickHouse server that refuses inserts or is
 * gone, under load through the native intake, every view and sample answered
 * 202 is queryable once the fault clears, without a restart; /readyz says
 * why it is not ready meanwhile and /healthz stays 200.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, truncateSync, writeSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { makeBeacon, makeEvent, makeSample } from '@openqoe/schema';
import { afterAll, describe, expect, it } from 'vitest';
import {
  postBeacon,
  queryDataDir,
  readMetric,
  removeDir,
  type ServerProcess,
  settled,
  startServer,
  tempDataDir,
  waitFor,
} from './helpers/server-process.js';
import { slowTests } from './helpers/slow-tests.js';
import { queryStoreOf, type StoreUnderTest, storesUnderTest, titleOf } from './helpers/stores.js';

slowTests(180_000);

const CONFIG = {
  logLevel: 'warn',
  intake: { rateLimit: { perIpPerSecond: 0, perEnvKeyPerSecond: 0 } },
  views: { idleCompleteMs: 1000, tickIntervalMs: 100 },
  pipeline: { commitIntervalMs: 100 },
  // Small segments: the log must fit a small filesystem next to the store.
  bus: { segmentBytes: 1024 * 1024 },
};

/** View `id`: a play request and `samples` playing samples, in one beacon. */
function viewBeacon(envKey: string, id: string, samples: number): string {
  const t0 = Date.now() - samples * 1000;
  return JSON.stringify(
    makeBeacon({
      envKey,
      sentAt: Date.now(),
      events: [
        makeEvent({ viewId: id, sequenceNumber: 0, type: 'playrequest', state: 'startup', viewerTime: t0 }),
      ],
      samples: Array.from({ length: samples }, (_, k) =>
        makeSample({
          viewId: id,
          sequenceNumber: k + 1,
          timestamp: t0 + k * 1000,
          durationMs: 1000,
          playedMs: 1000,
          viewerTime: t0 + (k + 1) * 1000,
        }),
      ),
    }),
  );
}

/**
 * Posts one new view after another (a few at a time) until stopped, and
 * keeps what was acknowledged: view id → its sample count.
 */
function load(server: ServerProcess, prefix: string) {
  const envKey = server.bootstrap().environment.key;
  const acked = new Map<string, number>();
  const refused = new Map<number, number>();
  let sent = 0;
  let running = true;
  const worker = async () => {
    while (running) {
      const id = `${prefix}${sent++}`;
      const samples = 1 + (sent % 7);
      const r = await postBeacon(server.url, viewBeacon(envKey, id, samples)).catch(() => undefined);
      if (r?.status === 202) acked.set(id, samples);
      else {
        const status = r?.status ?? 0;
        refused.set(status, (refused.get(status) ?? 0) + 1);
        if (status === 429 || status === 503) expect(r?.headers.get('retry-after')).toBeTruthy();
        await new Promise((res) => setTimeout(res, 50));
      }
    }
  };
  const workers = Array.from({ length: 3 }, worker);
  return {
    acked,
    refused,
    /** Waits until `n` more views than `since` (by default: now) were acknowledged. */
    more: async (n: number, since = acked.size) => {
      const target = since + n;
      await waitFor(async () => acked.size >= target, `${n} more acknowledged views`, 60_000);
    },
    stop: async () => {
      running = false;
      await Promise.all(workers);
    },
  };
}

async function readyz(server: ServerProcess): Promise<{ status: number; messages: string[] }> {
  const res = await fetch(`${server.url}/readyz`);
  const body = (await res.json()) as { error?: { messages?: string[] } };
  return { status: res.status, messages: body.error?.messages ?? [] };
}

const stalledReported = (r: { messages: string[] }) => r.messages.some((m) => m.startsWith('store_stalled'));

async function healthzStatus(server: ServerProcess): Promise<number> {
  return (await fetch(`${server.url}/healthz`)).status;
}

/** Every acknowledged view as the query API lists it, with no restart. */
async function missingViews(server: ServerProcess, acked: Map<string, number>): Promise<string[]> {
  const now = Math.floor(Date.now() / 1000);
  const seen = new Set<string>();
  for (let page = 1; ; page++) {
    const res = await fetch(
      `${server.url}/data/v1/video-views?timeframe[]=${now - 3600}&timeframe[]=${now + 600}&limit=1000&page=${page}`,
      { headers: { authorization: server.adminAuth() } },
    );
    const body = (await res.json()) as { data: { view_id: string }[] };
    if (!res.ok) throw new Error(`video-views: ${res.status} ${JSON.stringify(body)}`);
    for (const v of body.data) seen.add(v.view_id);
    if (body.data.length < 1000) break;
  }
  return [...acked.keys()].filter((id) => !seen.has(id));
}

/** Waits for every acknowledged view and sample to be stored, reading only what the running server answers. */
async function expectAllQueryable(server: ServerProcess, acked: Map<string, number>): Promise<void> {
  const samples = [...acked.values()].reduce((a, b) => a + b, 0);
  await waitFor(
    async () => (await readMetric(server, 'openqoe_pipeline_samples_stored_total')) >= samples,
    `${samples} acknowledged samples committed`,
    60_000,
  );
  // Nothing but acknowledged beacons reached the log: exactly their samples are stored.
  expect(await readMetric(server, 'openqoe_pipeline_samples_stored_total')).toBe(samples);
  const missing = await settled(
    () => missingViews(server, acked),
    (m) => m.length === 0,
    60_000,
  );
  expect(missing.slice(0, 10), `${missing.length} of ${acked.size} acknowledged views missing`).toEqual([]);
}

/** The ledger's samples per view, from whatever store it is on. */
function ledgerCheck(rows: Record<string, unknown>[], acked: Map<string, number>): void {
  const stored = new Map(rows.map((r) => [String(r['view_id']), Number(r['n'])]));
  const wrong = [...acked].filter(([id, n]) => stored.get(id) !== n);
  expect(wrong.slice(0, 10), `${wrong.length} views with a wrong sample count in the ledger`).toEqual([]);
}

const VIEW_FAILURES = 'openqoe_store_write_failures_total{what="views"}';
const LEDGER_SQL = 'SELECT view_id, sum(sample_count) AS n FROM beacons GROUP BY view_id';

/**
 * Mounts a 64 MiB filesystem of `kind` on `dir`: a size-limited tmpfs (no
 * O_DIRECT, so the log writes through the page cache) or ext4 on a loop
 * device (the log's O_DIRECT path, as on a production disk). Returns how to
 * unmount it, or the reason it cannot be mounted here.
 */
function mountSmallFs(dir: string, kind: 'tmpfs' | 'ext4'): { unmount: () => void } | string {
  if (process.getuid?.() !== 0) return 'needs root to mount a small filesystem (CI runs as root)';
  const image = `${dir}.img`;
  try {
    if (kind === 'tmpfs')
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', dir], { stdio: 'pipe' });
    else {
      closeSync(openSync(image, 'w'));
      truncateSync(image, 64 * 1024 * 1024);
      execFileSync('mkfs.ext4', ['-q', '-F', image], { stdio: 'pipe' });
      execFileSync('mount', ['-o', 'loop', image, dir], { stdio: 'pipe' });
    }
  } catch (err) {
    rmSync(image, { force: true });
    return `cannot mount ${kind} here: ${(err as Error).message.split('\n')[0]}`;
  }
  return {
    unmount: () => {
      execFileSync('umount', [dir]);
      rmSync(image, { force: true });
    },
  };
}

/** Fills the filesystem of `dir` with one file until it refuses more; returns the file. */
function fillDisk(dir: string): string {
  const file = join(dir, 'filler');
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(256 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    // The last few blocks too, so nothing the server writes fits.
    const small = Buffer.alloc(4096, 1);
    try {
      for (;;) writeSync(fd, small);
    } catch {}
  } finally {
    closeSync(fd);
  }
  return file;
}

describe.each(['tmpfs', 'ext4'] as const)(
  'storage faults: the data dir on a full %s disk (DuckDB)',
  (kind) => {
    // Made in the test, so a run filtered to other tests leaves nothing behind.
    let mountDir: string | undefined;
    let mounted: { unmount: () => void } | undefined;
    let server: ServerProcess | undefined;
    afterAll(async () => {
      await server?.kill('SIGKILL');
      mounted?.unmount();
      if (mountDir) removeDir(mountDir);
    });

    it('every 202 is queryable after the disk is freed, with no restart', async (ctx) => {
      mountDir = tempDataDir('openqoe-diskfull-');
      const mount = mountSmallFs(mountDir, kind);
      if (typeof mount === 'string') {
        console.warn(`storage faults on a full ${kind} disk skipped: ${mount}`);
        ctx.skip(mount);
        return;
      }
      mounted = mount;
      const dataDir = join(mountDir, 'data');
      mkdirSync(dataDir);
      server = await startServer({
        dataDir,
        config: { ...CONFIG, readiness: { minFreeDiskBytes: 4 * 1024 * 1024, minFreeDiskPercent: 0 } },
      });
      expect((await readyz(server)).status).toBe(200);
      const traffic = load(server, 'disk-');
      await traffic.more(40);
      // The views just acknowledged complete (1 s idle) while the disk is full: their writes fail.
      const filler = fillDisk(mountDir);
      const during = await settled(() => readyz(server!), stalledReported, 60_000);
      expect(stalledReported(during)).toBe(true);
      expect(during.status).toBe(503);
      expect(during.messages.some((m) => m.startsWith('disk_near_full'))).toBe(true);
      expect(await healthzStatus(server)).toBe(200);
      expect(await readMetric(server, 'openqoe_pipeline_stalled{writer="pipeline"}')).toBe(1);
      expect(await readMetric(server, 'openqoe_ready')).toBe(0);
      // Still stalled a while later: it waits, it does not give up or drop.
      await new Promise((r) => setTimeout(r, 1500));
      expect(stalledReported(await readyz(server))).toBe(true);
      expect(await healthzStatus(server)).toBe(200);

      rmSync(filler);
      await waitFor(
        async () => (await readyz(server!)).status === 200,
        '/readyz to answer 200 again',
        60_000,
      );
      expect(await healthzStatus(server)).toBe(200);
      // And it takes traffic again.
      await traffic.more(20);
      await traffic.stop();
      expect(await readMetric(server, VIEW_FAILURES)).toBeGreaterThan(0);
      await expectAllQueryable(server, traffic.acked);
      expect(await readMetric(server, 'openqoe_ready')).toBe(1);

      await server.kill('SIGTERM');
      ledgerCheck(await queryDataDir(dataDir, LEDGER_SQL), traffic.acked);
    });
  },
);

/**
 * A front to the ClickHouse server that can refuse inserts (as a server out
 * of disk or memory does) or drop every connection (a server that is down).
 */
async function faultyFront(
  upstream: URL,
): Promise<{ server: Server; port: number; mode: { now: 'up' | 'refuse' | 'down' } }> {
  const mode = { now: 'up' as 'up' | 'refuse' | 'down' };
  const server = createServer((req, res) => {
    if (mode.now === 'down') {
      req.socket.destroy();
      return;
    }
    if (mode.now === 'refuse' && /INSERT/i.test(decodeURIComponent(req.url ?? ''))) {
      req.resume();
      res.writeHead(500, { 'x-clickhouse-exception-code': '243' });
      res.end('Code: 243. DB::Exception: Cannot reserve 1.00 MiB, not enough space. (NOT_ENOUGH_SPACE)\n');
      return;
    }
    const out = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, mode };
}

const http = storesUnderTest().find((s) => s.kind === 'http')!;

describe.skipIf(http.skip !== undefined)(
  titleOf('storage faults: the store refusing inserts, then down', http),
  () => {
    let dataDir: string | undefined;
    let server: ServerProcess | undefined;
    let front: Awaited<ReturnType<typeof faultyFront>> | undefined;
    afterAll(async () => {
      await server?.kill('SIGKILL');
      front?.server.closeAllConnections();
      front?.server.close();
      if (dataDir) removeDir(dataDir);
    });

    it('every 202 is queryable once ClickHouse takes inserts again, with no restart', async () => {
      dataDir = tempDataDir('openqoe-storedown-');
      const target = new URL(http.url!);
      front = await faultyFront(target);
      const viaFront = new URL(target);
      viaFront.host = `127.0.0.1:${front.port}`;
      server = await startServer({
        dataDir,
        config: {
          ...CONFIG,
          clickhouse: { requestTimeoutMs: 5000 },
          // Small, so the stalled pipeline lets the load fill the log within seconds (and not before it is seen).
          bus: { ...CONFIG.bus, maxBacklogBytes: 8 * 1024 * 1024 },
        },
        args: ['--store', viaFront.toString()],
      });
      const traffic = load(server, 'ch-');
      await traffic.more(40);

      let viewFailures = 0;
      for (const fault of ['refuse', 'down'] as const) {
        front.mode.now = fault;
        const ackedBeforeFault = traffic.acked.size;
        const during = await settled(() => readyz(server!), stalledReported, 60_000);
        expect(stalledReported(during), `store ${fault}`).toBe(true);
        expect(during.status).toBe(503);
        expect(await healthzStatus(server)).toBe(200);
        // The intake still acknowledges into the log meanwhile: those must not be lost either.
        // Counted from the fault: on a slow machine the log may be full by the time the stall shows.
        await traffic.more(10, ackedBeforeFault);
        // Held until views completed before the fault were refused too, not just raw commits.
        const failures = await settled(
          () => readMetric(server!, VIEW_FAILURES),
          (n) => n > viewFailures,
          60_000,
        );
        expect(failures, `view writes refused (store ${fault})`).toBeGreaterThan(viewFailures);
        viewFailures = failures;
        if (fault === 'down') {
          // Held until the log is full: intakes answer 429 (with Retry-After, checked by the load), /readyz says so.
          // Counted from now: the first fault may have filled the log already (and it drained since).
          const before = traffic.refused.get(429) ?? 0;
          await waitFor(
            async () => (traffic.refused.get(429) ?? 0) > before,
            'a 429 once the log is full',
            60_000,
          );
          const full = await settled(
            () => readyz(server!),
            (r) => r.messages.some((m) => m.startsWith('backlog_full')),
            60_000,
          );
          expect(full.messages.some((m) => m.startsWith('backlog_full'))).toBe(true);
          expect(stalledReported(full)).toBe(true);
        }
        front.mode.now = 'up';
        await waitFor(
          async () => (await readyz(server!)).status === 200,
          `/readyz 200 after the store was ${fault}`,
          60_000,
        );
        await traffic.more(10);
      }
      await traffic.stop();
      expect(await readMetric(server, 'openqoe_store_write_failures_total{what="raw"}')).toBeGreaterThan(0);
      await expectAllQueryable(server, traffic.acked);
      const store: StoreUnderTest = { ...http, url: target.toString() };
      ledgerCheck(await queryStoreOf(store, dataDir, LEDGER_SQL), traffic.acked);
    });
  },
);
