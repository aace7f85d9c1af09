/**
 * Runs the real `openqoe serve` (the built CLI) as a child process on a free
 * port with its own data dir, the way a user runs it. Tests that need to kill
 * it (-9) and start it again use the same data dir.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

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
}

/** Test defaults: generous rate limits so bursts of test traffic are not refused unless a test wants it. */
export const TEST_CONFIG = {
  logLevel: 'warn',
  intake: { rateLimit: { perIpPerSecond: 0, perEnvKeyPerSecond: 0 } },
  // A free port: parallel test servers must not compete for RTMP's 1935.
  live: { rtmp: { port: 0 } },
};

/** Servers not stopped when the test process exits (a test failed before it stopped them) are killed then. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startServer(options: StartOptions = {}): Promise<ServerProcess> {
  const dataDir = options.dataDir ?? tempDataDir();
  const configFile = join(dataDir, 'test-config.json');
  writeFileSync(configFile, JSON.stringify(options.config ?? TEST_CONFIG));
  const child = spawn(
    process.execPath,
    [CLI, 'serve', '--port', '0', '--data-dir', dataDir, '--config', configFile, ...(options.args ?? [])],
    { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  running.add(child);
  const exited = new Promise<number | null>((r) =>
    child.once('exit', (code) => {
      running.delete(child);
      r(code);
    }),
  );
  const url = await new Promise<string>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within 30 s:\n${out}`)), 30_000);
    const onData = () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolvePromise(m[1]!.replace('localhost', '127.0.0.1'));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${out}`));
    });
  });
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

/** Polls `check` until it holds; "within N s" in a test is this deadline, never a performance assertion. */
export async function waitFor(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
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

/** Waits until the pipeline has processed everything the log holds. */
export async function waitForDrain(server: ServerProcess, timeoutMs = 30_000): Promise<void> {
  await waitFor(
    async () =>
      ((await (await fetch(`${server.url}/healthz`)).json()) as { bus: { backlog_bytes: number } }).bus
        .backlog_bytes === 0,
    'the pipeline to drain',
    timeoutMs,
  );
}
