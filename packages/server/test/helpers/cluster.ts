/**
 * A scale-out deployment on one machine for tests and the cluster benchmark:
 * a real `nats-server -js` and openqoe CLI processes in their roles.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { connect } from 'nats';
import { spawnTracked, stopChild } from './processes.js';
import {
  removeDir,
  type ServerProcess,
  type StartOptions,
  startServer,
  tempDataDir,
  waitFor,
} from './server-process.js';

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

export interface NatsServer {
  url: string;
  dir: string;
  child: ChildProcess;
  stop(): void;
}

/** Starts `nats-server -js`; `at` starts it again where a stopped one was (its port and JetStream store). */
export async function startNats(at?: { port: number; dir: string }): Promise<NatsServer> {
  const dir = at?.dir ?? tempDataDir('openqoe-nats-');
  const port = at?.port ?? (await freePort());
  const child = spawnTracked(
    'nats-server',
    ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir],
    { stdio: 'ignore' },
    'nats-server',
  );
  try {
    await waitFor(async () => {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(
          `nats-server exited (${child.exitCode ?? child.signalCode}) before accepting connections`,
        );
      try {
        const c = await connect({ servers: `127.0.0.1:${port}` });
        await c.close();
        return true;
      } catch {
        return false;
      }
    }, 'nats-server to accept connections');
  } catch (err) {
    // A server that did not come up in time is not left running.
    await stopChild(child, 'SIGKILL');
    if (!at) removeDir(dir);
    throw err;
  }
  return { url: `nats://127.0.0.1:${port}`, dir, child, stop: () => child.kill('SIGKILL') };
}

/** Starts `openqoe serve --role <role> --bus <url>` (extra args, e.g. `--partitions 0-3`). */
export function startRole(
  role: 'ingest' | 'pipeline' | 'api' | 'all',
  busUrl: string,
  options: StartOptions & { extraArgs?: string[] } = {},
): Promise<ServerProcess> {
  return startServer({
    ...options,
    args: ['--role', role, '--bus', busUrl, ...(options.extraArgs ?? [])],
  });
}

/**
 * What one cluster test starts, to stop in its afterAll: `dir` makes a data dir, `start`
 * keeps a started process, `stopAll` kills them and removes the dirs and the NATS store.
 */
export function clusterProcesses(prefix: string) {
  const servers: ServerProcess[] = [];
  const dirs: string[] = [];
  return {
    dir(name: string): string {
      const d = tempDataDir(`${prefix}-${name}-`);
      dirs.push(d);
      return d;
    },
    async start(p: Promise<ServerProcess>): Promise<ServerProcess> {
      const s = await p;
      servers.push(s);
      return s;
    },
    async stopAll(nats: NatsServer | undefined): Promise<void> {
      for (const s of servers) await s.kill('SIGKILL');
      nats?.stop();
      for (const d of [...dirs, nats?.dir ?? '']) if (d) removeDir(d);
    },
  };
}
