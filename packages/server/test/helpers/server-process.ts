/**
 * Runs the real `openqoe serve` (the built CLI) as a child process on a free
 * port with its own data dir, the way a user runs it. Tests that need to kill
 * it (-9) and start it again use the same data dir.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Deadline, waitFor } from './patience.js';
import { spawnTracked, stopChild } from './processes.js';

export { settled, waitFor } from './patience.js';

export const CLI = resolve(import.meta.dirname, '../../dist/cli.js');

export interface Bootstrap {
  environment: { id: string; key: string };
  access_token: { id: string; secret: string };
}

export interface ServerProcess {
  url: string;
  dataDir: string;
  child: ChildProcess;
  output(): string;
  bootstrap(): Bootstrap;
  /** Authorization header value of the admin token. */
  adminAuth(): string;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export function tempDataDir(prefix = 'openqoe-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface StartOptions {
  dataDir?: string;
  /** Config object written to a file and passed with --config. */
  config?: Record<string, unknown>;
  env?: Record<string, string>;
  args?: string[];
  /** An exact start deadline (not scaled): the helpers' own tests use it to take the timeout path. */
  startDeadlineMs?: number;
  /** The `openqoe` command to run (an installed release's bin) instead of this checkout's built CLI. */
  bin?: string;
}

/** Test defaults: generous rate limits so bursts of test traffic are not refused unless a test wants it. */
export const TEST_CONFIG = {
  logLevel: 'warn',
  intake: { rateLimit: { perIpPerSecond: 0, perEnvKeyPerSecond: 0 } },
  // A free port: parallel test servers must not compete for RTMP's 1935.
  live: { rtmp: { port: 0 } },
  // Load tests keep up to a thousand requests in flight from 127.0.0.1: more than one address's
  // default share of connections (the connection caps have their own suite, with their own config).
  connections: { maxPerAddress: 4096 },
};

/**
 * The longest start this process has seen: a start may take up to
 * START_MULTIPLIER times it (or the scaled idle deadline, when longer), so
 * a machine whose starts are slow for reasons the CPU calibration does not
 * see (a slow disk) gets its own deadline.
 */
let slowestStartMs = 0;
const START_MULTIPLIER = 10;
/** A start deadline on an idle machine, scaled by patience.ts. */
const IDLE_START_DEADLINE_MS = 30_000;

/**
 * The start deadline: `startDeadlineMs` (exact, for the helpers' own tests), else
 * OPENQOE_TEST_START_DEADLINE_MS (exact, to try the timeout path by hand), else
 * the scaled idle deadline or START_MULTIPLIER × the slowest start, whichever is longer.
 */
function startDeadline(options: StartOptions): { expired(): boolean; ms(): number } {
  const exact =
    options.startDeadlineMs ?? Number(process.env['OPENQOE_TEST_START_DEADLINE_MS'] || Number.NaN);
  const started = Date.now();
  if (Number.isFinite(exact)) return { expired: () => Date.now() - started >= exact, ms: () => exact };
  const scaled = new Deadline(IDLE_START_DEADLINE_MS);
  const ms = () => Math.max(scaled.ms, START_MULTIPLIER * slowestStartMs);
  return { expired: () => Date.now() - started >= ms(), ms };
}

export async function startServer(options: StartOptions = {}): Promise<ServerProcess> {
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? tempDataDir();
  const configFile = join(dataDir, 'test-config.json');
  writeFileSync(configFile, JSON.stringify(options.config ?? TEST_CONFIG));
  const startedMs = Date.now();
  const serve = ['serve', '--port', '0', '--data-dir', dataDir, '--config', configFile];
  const args = [...serve, ...(options.args ?? [])];
  const child = spawnTracked(
    options.bin ?? process.execPath,
    options.bin ? args : [CLI, ...args],
    { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
    'openqoe serve',
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const deadline = startDeadline(options);
  let url: string;
  try {
    url = await new Promise<string>((resolvePromise, reject) => {
      const done = (f: () => void) => {
        clearInterval(timer);
        child.stdout!.off('data', onData);
        child.stderr!.off('data', onData);
        f();
      };
      // Checked often (the deadline stretches when the machine gets busier), not armed once.
      const timer = setInterval(
        () => {
          if (deadline.expired())
            done(() =>
              reject(new Error(`server did not start within ${deadline.ms()} ms (killed it):\n${out}`)),
            );
        },
        Math.min(250, deadline.ms()),
      );
      const onData = () => {
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) done(() => resolvePromise(m[1]!.replace('localhost', '127.0.0.1')));
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('error', (err) =>
        done(() => reject(new Error(`server could not be started: ${err.message}`))),
      );
      void exited.then((code) =>
        done(() => reject(new Error(`server exited with ${code} before listening:\n${out}`))),
      );
    });
  } catch (err) {
    // Nothing a failed start began may outlive it.
    await stopChild(child, 'SIGKILL');
    if (ownDataDir) removeDir(dataDir);
    throw err;
  }
  slowestStartMs = Math.max(slowestStartMs, Date.now() - startedMs);
  const proc: ServerProcess = {
    url,
    dataDir,
    child,
    output: () => out,
    bootstrap: () => JSON.parse(readFileSync(join(dataDir, 'bootstrap.json'), 'utf8')) as Bootstrap,
    adminAuth: () => {
      const b = proc.bootstrap();
      return `Basic ${Buffer.from(`${b.access_token.id}:${b.access_token.secret}`).toString('base64')}`;
    },
    kill: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
  return proc;
}

/** Opens the server's DuckDB file read-only (the server must be stopped) and runs one query. */
export async function queryDataDir(dataDir: string, sql: string): Promise<Record<string, unknown>[]> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(join(dataDir, 'openqoe.duckdb'), { access_mode: 'READ_ONLY' });
  const conn = await db.connect();
  try {
    const r = await conn.runAndReadAll(sql);
    return r.getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

/** The Mux-protocol listener a started server printed, and its self-signed certificate to trust it by. */
export function muxListenerOf(server: ServerProcess): { url: URL; ca: string } {
  const m = /Mux-protocol intake: (https:\/\/\S+)/.exec(server.output());
  if (!m) throw new Error(server.output());
  return {
    url: new URL(m[1]!),
    ca: readFileSync(join(server.dataDir, 'compat-tls', 'self-signed-cert.pem'), 'utf8'),
  };
}

export async function postBeacon(
  url: string,
  body: string | Buffer,
  headers: Record<string, string> = { 'content-type': 'text/plain' },
  query = '',
): Promise<{ status: number; json: unknown; headers: Headers }> {
  // A plain Uint8Array body type-checks under both the Node and the DOM fetch types.
  const payload = typeof body === 'string' ? body : new Uint8Array(body);
  const res = await fetch(`${url}/v1/beacon${query}`, { method: 'POST', headers, body: payload });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}

/**
 * One Prometheus value from the server's /metrics, by its series as printed:
 * a name, or a name with its labels (`name{sink="http"}`); 0 when absent (a
 * labelled counter never incremented is not printed).
 */
export async function readMetric(server: ServerProcess, series: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

/** Waits until at least `hours` hours were refreshed into the ClickHouse rollup and none is dirty. */
export async function waitForRollup(server: ServerProcess, hours: number): Promise<void> {
  await waitFor(
    async () =>
      (await readMetric(server, 'openqoe_store_rollup_refreshed_hours_total')) >= hours &&
      (await readMetric(server, 'openqoe_store_rollup_dirty_hours')) === 0,
    'the rollup to be refreshed',
  );
}

/** Waits until the pipeline has processed everything the log holds (`timeoutMs`: idle-machine time, scaled). */
export async function waitForDrain(server: ServerProcess, timeoutMs = 30_000): Promise<void> {
  await waitFor(
    async () =>
      ((await (await fetch(`${server.url}/healthz`)).json()) as { bus: { backlog_bytes: number } }).bus
        .backlog_bytes === 0,
    'the pipeline to drain',
    timeoutMs,
  );
}
