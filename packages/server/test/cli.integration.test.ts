/**
 * The `openqoe` command as a user runs it (the built CLI in a child process):
 * help, the admin commands against a running server, the first start, and
 * the exit codes and messages of its errors.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { makeBeacon, makeSample } from '@openqoe/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patience } from './helpers/patience.js';
import { track } from './helpers/processes.js';
import {
  CLI,
  postBeacon,
  removeDir,
  type ServerProcess,
  startServer,
  TEST_CONFIG,
  tempDataDir,
} from './helpers/server-process.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of the test runner without any OPENQOE_* variable, so only what a test sets counts. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OPENQOE_')) env[k] = v;
  return { ...env, ...extra };
}

/** Runs the CLI to its end (a `serve` that did start is killed by the timeout and fails the test). */
function run(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<Run> {
  return new Promise((resolve) => {
    track(
      execFile(
        process.execPath,
        [CLI, ...args],
        { env: cleanEnv(env), timeout: patience(20_000), killSignal: 'SIGKILL', ...(cwd ? { cwd } : {}) },
        (err, stdout, stderr) => {
          const code = err ? ((err as { code?: unknown }).code as number | null) : 0;
          resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
        },
      ),
      `openqoe ${args[0] ?? ''}`,
    );
  });
}

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('openqoe CLI', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const d = tempDataDir('openqoe-cli-');
    dirs.push(d);
    return d;
  };

  afterAll(() => {
    for (const d of dirs) removeDir(d);
  });

  describe('help', () => {
    it('--help lists serve, environments and tokens', async () => {
      const r = await run(['--help']);
      expect(r.code).toBe(0);
      for (const cmd of ['serve', 'environments', 'tokens'])
        expect(r.stdout).toMatch(new RegExp(`^\\s+${cmd}\\b`, 'm'));
    });

    it('serve --help lists --port, --host, --data-dir and --config', async () => {
      const r = await run(['serve', '--help']);
      expect(r.code).toBe(0);
      for (const flag of ['--port', '--host', '--data-dir', '--config']) expect(r.stdout).toContain(flag);
    });

    it('tokens create --help lists its options', async () => {
      const r = await run(['tokens', 'create', '--help']);
      expect(r.code).toBe(0);
      for (const flag of [
        '--name',
        '--permissions',
        '--environments',
        '--all-environments',
        '--url',
        '--json',
      ]) {
        expect(r.stdout).toContain(flag);
      }
    });
  });

  describe('against a running server', () => {
    let server: ServerProcess;
    let admin: string[];

    beforeAll(async () => {
      server = await startServer();
      admin = ['--data-dir', server.dataDir, '--url', server.url];
    });

    afterAll(async () => {
      await server?.kill();
      if (server) removeDir(server.dataDir);
    });

    it('printed the environment key and the token secret on first start, and kept them in a 0600 bootstrap.json', () => {
      const b = server.bootstrap();
      expect(server.output()).toContain('First start');
      expect(server.output()).toContain(b.environment.key);
      expect(server.output()).toContain(b.access_token.id);
      expect(server.output()).toContain(b.access_token.secret);
      expect(statSync(join(server.dataDir, 'bootstrap.json')).mode & 0o777).toBe(0o600);
    });

    it('environments list prints the default environment', async () => {
      const r = await run(['environments', 'list', ...admin]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const { id, key } = server.bootstrap().environment;
      expect(r.stdout).toMatch(/ID\s+NAME\s+KEY/);
      expect(r.stdout).toMatch(new RegExp(`${id}\\s+default\\s+${key}`));
    });

    it('environments create --json prints JSON with a key the intake accepts', async () => {
      const r = await run(['environments', 'create', 'qa', '--json', ...admin]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout) as { data: { id: string; name: string; key: string } };
      expect(out.data.name).toBe('qa');
      expect(out.data.key).toMatch(/^\w{16,}$/);
      const beacon = JSON.stringify(makeBeacon({ envKey: out.data.key, samples: [makeSample()] }));
      expect((await postBeacon(server.url, beacon)).status).toBe(202);

      const list = await run(['environments', 'list', '--json', ...admin]);
      const names = (JSON.parse(list.stdout) as { data: { name: string }[] }).data.map((e) => e.name);
      expect(names).toEqual(['default', 'qa']);
    });

    it('tokens create prints a secret that authenticates; tokens list shows it without the secret', async () => {
      const r = await run([
        'tokens',
        'create',
        '--name',
        'ci',
        '--permissions',
        'data:read',
        '--all-environments',
        ...admin,
      ]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const id = /id:\s+(\S+)/.exec(r.stdout)?.[1];
      const secret = /secret:\s+(\S+)/.exec(r.stdout)?.[1];
      expect(id).toBeDefined();
      expect(secret).toBeDefined();
      // It authenticates: data:read only, so the system API answers 403, not 401.
      const res = await fetch(`${server.url}/system/v1/environments`, {
        headers: { authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` },
      });
      expect(res.status).toBe(403);

      const list = await run(['tokens', 'list', ...admin]);
      expect(list.code).toBe(0);
      expect(list.stdout).toMatch(/ID\s+NAME\s+PERMISSIONS\s+ENVIRONMENTS/);
      expect(list.stdout).toMatch(new RegExp(`${id}\\s+ci\\s+data:read\\s+\\*`));
      expect(list.stdout).toContain('admin');
      expect(list.stdout).not.toContain(secret);
      expect(list.stdout).not.toContain(server.bootstrap().access_token.secret);

      // The same token through flags and through the environment: refused for lack of `system`, exit 1.
      for (const [args, env] of [
        [['--token-id', id!, '--token-secret', secret!], {}],
        [[], { OPENQOE_TOKEN_ID: id!, OPENQOE_TOKEN_SECRET: secret! }],
      ] as const) {
        const denied = await run(['environments', 'list', '--url', server.url, ...args], env);
        expect(denied.code).toBe(1);
        expect(denied.stderr).toContain('HTTP 403 QOE_ERR_FORBIDDEN');
      }
    });

    it('refuses bad arguments to tokens create before calling the server', async () => {
      const bad = await run([
        'tokens',
        'create',
        '--name',
        'x',
        '--permissions',
        'bogus',
        '--all-environments',
        ...admin,
      ]);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(/permissions must be a comma-separated list/);
      const both = await run([
        'tokens',
        'create',
        '--permissions',
        'system',
        '--environments',
        'x',
        '--all-environments',
        ...admin,
      ]);
      expect(both.code).toBe(2);
      expect(both.stderr).toMatch(/--environments <ids> or --all-environments, not both/);
    });

    it('tokens create with only --permissions (as the README and the sign-in page say) covers every environment', async () => {
      const r = await run(['tokens', 'create', '--permissions', 'data:read,video', '--json', ...admin]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const t = (JSON.parse(r.stdout) as { data: { name: string; all_environments: boolean } }).data;
      expect(t).toMatchObject({ name: 'data:read,video', all_environments: true });
    });

    it('prints the server’s field errors and exits 1', async () => {
      const r = await run([
        'tokens',
        'create',
        '--name',
        'x',
        '--permissions',
        'system',
        '--environments',
        'no-such-env',
        ...admin,
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('HTTP 400 QOE_ERR_VALIDATION');
      expect(r.stderr).toContain('environment_ids: no environment no-such-env');
    });

    it('a second start on the same data dir prints no secret', async () => {
      const secret = server.bootstrap().access_token.secret;
      await server.kill();
      server = await startServer({ dataDir: server.dataDir });
      expect(server.output()).not.toContain('First start');
      expect(server.output()).not.toContain(secret);
      expect(
        (await run(['environments', 'list', '--data-dir', server.dataDir, '--url', server.url])).code,
      ).toBe(0);
    });
  });

  describe('finding the server', () => {
    it('reaches a server on a non-default port with no flags, through the server.json it wrote; removed on stop', async () => {
      const cwd = tempDir();
      mkdirSync(join(cwd, 'data'));
      const server = await startServer({ dataDir: join(cwd, 'data') });
      try {
        const file = JSON.parse(readFileSync(join(cwd, 'data', 'server.json'), 'utf8')) as { url: string };
        expect(file.url).toBe(server.url);
        expect(new URL(server.url).port).not.toBe('8080');
        const closed = `http://127.0.0.1:${await closedPort()}`;
        // No flags: ./data/server.json of the working directory, ahead of OPENQOE_URL.
        const r = await run(['environments', 'list'], { OPENQOE_URL: closed }, cwd);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(r.stdout).toContain(server.bootstrap().environment.key);
        // --url comes first.
        const flag = await run(['environments', 'list', '--url', closed], {}, cwd);
        expect(flag.code).toBe(1);
        expect(flag.stderr).toContain(`cannot reach the server at ${closed}`);
        expect(flag.stderr).toContain('URL from --url');
      } finally {
        expect(await server.kill()).toBe(0);
      }
      expect(existsSync(join(cwd, 'data', 'server.json'))).toBe(false);
      // Without the file: OPENQOE_URL.
      const port = await closedPort();
      const r = await run(['environments', 'list'], { OPENQOE_URL: `http://127.0.0.1:${port}` }, cwd);
      expect(r.stderr).toContain(`cannot reach the server at http://127.0.0.1:${port}`);
      expect(r.stderr).toContain('URL from OPENQOE_URL');
    });

    it('admin commands’ --help states the order', async () => {
      for (const cmd of [['tokens', 'list'], ['live-streams', 'create'], ['import-cmcd']]) {
        const r = await run([...cmd, '--help']);
        expect(r.stdout).toContain('--url, the server.json a running server wrote into its data dir');
      }
      const generate = await run(['generate', '--help']);
      expect(generate.stdout.replace(/\s+/g, ' ')).toContain(
        'server URL [the data dir’s server.json, else OPENQOE_URL, else http://127.0.0.1:8080]',
      );
    });
  });

  describe('ports', () => {
    /** A port some other process (this test) listens on. */
    async function takenPort(): Promise<{ port: number; release(): Promise<void> }> {
      const srv = createServer();
      await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
      return {
        port: (srv.address() as { port: number }).port,
        release: () => new Promise<void>((r) => srv.close(() => r())),
      };
    }

    it('a taken HTTP port stops the start with one line naming it and what to change', async () => {
      const taken = await takenPort();
      try {
        const r = await run(['serve', '--port', String(taken.port), '--data-dir', join(tempDir(), 'data')], {
          OPENQOE_LOG_LEVEL: 'error',
        });
        expect(r.code).toBe(1);
        expect(r.stderr.trim()).toBe(
          `openqoe: HTTP port ${taken.port} on 127.0.0.1 is taken by another process: choose another with --port (OPENQOE_PORT, or port in the config file)`,
        );
      } finally {
        await taken.release();
      }
    });

    it('a taken RTMP or Mux port leaves the server running; /healthz, the live streams API and live-streams create say why', async () => {
      const taken = await takenPort();
      const server = await startServer({
        config: {
          ...TEST_CONFIG,
          live: { rtmp: { port: taken.port } },
          compat: { mux: { enabled: true, port: taken.port } },
        },
      });
      try {
        const rtmpOff = `RTMP ingest is off: port ${taken.port} on 127.0.0.1 is taken by another process; choose another port with live.rtmp.port (OPENQOE_LIVE__RTMP__PORT), or set live.rtmp.enabled to false (OPENQOE_LIVE__RTMP__ENABLED=false) to run without it`;
        const muxOff = `Mux-protocol intake is off: port ${taken.port} on 127.0.0.1 is taken by another process; choose another port with compat.mux.port (OPENQOE_COMPAT__MUX__PORT), or set compat.mux.enabled to false (OPENQOE_COMPAT__MUX__ENABLED=false) to run without it`;
        const health = (await (await fetch(`${server.url}/healthz`)).json()) as { listeners_off: string[] };
        expect(health.listeners_off).toEqual([rtmpOff, muxOff]);
        const list = (await (
          await fetch(`${server.url}/video/v1/live-streams`, {
            headers: { authorization: server.adminAuth() },
          })
        ).json()) as { rtmp: unknown };
        expect(list.rtmp).toEqual({ url: null, off_reason: rtmpOff });
        const r = await run(['live-streams', 'create', '--data-dir', server.dataDir]);
        expect(r.code).toBe(0);
        expect(r.stdout).toContain(`cannot publish yet: ${rtmpOff}`);
        expect(r.stdout).not.toContain('1935');
      } finally {
        await server.kill();
        removeDir(server.dataDir);
        await taken.release();
      }
    });

    it('live-streams create prints the RTMP URL the server listens on', async () => {
      const server = await startServer();
      try {
        const r = await run(['live-streams', 'create', '--data-dir', server.dataDir]);
        expect(r.code).toBe(0);
        const port = JSON.parse(readFileSync(join(server.dataDir, 'server.json'), 'utf8')).rtmp_url as string;
        // A stream key is base64url: it may hold '-' and '_', even first.
        const key = /stream key: (\S+)/.exec(r.stdout)?.[1];
        expect(key).toMatch(/^[A-Za-z0-9_-]{20,}$/);
        expect(r.stdout).toContain(`publish to: ${port}/${key}\n`);
      } finally {
        await server.kill();
        removeDir(server.dataDir);
      }
    });
  });

  describe('errors', () => {
    it('exits 1 saying it cannot reach the server when nothing listens at --url', async () => {
      const port = await closedPort();
      const r = await run([
        'environments',
        'list',
        '--url',
        `http://127.0.0.1:${port}`,
        '--token-id',
        'x',
        '--token-secret',
        'y',
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/cannot reach the server at http:\/\/127\.0\.0\.1:\d+/);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    });

    it('exits 2 naming --token-id when there are no credentials', async () => {
      const empty = tempDir();
      const port = await closedPort();
      const r = await run(['tokens', 'list', '--data-dir', empty, '--url', `http://127.0.0.1:${port}`]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--token-id');
      expect(r.stderr).toContain(join(empty, 'bootstrap.json'));
      // Without --data-dir it looks in ./data of the working directory.
      const cwd = tempDir();
      const fromCwd = await run(['environments', 'list', '--url', `http://127.0.0.1:${port}`], {}, cwd);
      expect(fromCwd.code).toBe(2);
      expect(fromCwd.stderr).toContain('--token-id');
    });

    it('serve exits 2 naming an unknown key of the config file', async () => {
      const dir = tempDir();
      const file = join(dir, 'config.json');
      writeFileSync(file, JSON.stringify({ intake: { maxBodyByts: 5 } }));
      const r = await run(['serve', '--port', '0', '--data-dir', join(dir, 'data'), '--config', file]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('intake.maxBodyByts');
      expect(r.stderr).toContain(file);
      expect(r.stdout).not.toContain('listening');
    });

    it('serve exits 2 naming a bad value of the config file', async () => {
      const dir = tempDir();
      const file = join(dir, 'config.yaml');
      writeFileSync(file, 'intake:\n  rateLimit:\n    perIpPerSecond: -1\n');
      const r = await run(['serve', '--port', '0', '--data-dir', join(dir, 'data'), '--config', file]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('intake.rateLimit.perIpPerSecond');
    });

    it('serve exits 2 naming a config file that is not JSON', async () => {
      const dir = tempDir();
      const file = join(dir, 'config.json');
      writeFileSync(file, '{ port: 1 ');
      const r = await run(['serve', '--port', '0', '--data-dir', join(dir, 'data'), '--config', file]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(file);
      expect(r.stderr).toMatch(/not valid JSON/);
    });

    it('serve exits 2 naming `port` when OPENQOE_PORT is not a number', async () => {
      const dir = tempDir();
      const r = await run(['serve', '--data-dir', join(dir, 'data')], { OPENQOE_PORT: 'abc' });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/\bport\b/);
      expect(r.stdout).not.toContain('listening');
    });

    it('serve --port notanumber exits non-zero naming the port', async () => {
      const dir = tempDir();
      const r = await run(['serve', '--port', 'notanumber', '--data-dir', join(dir, 'data')]);
      expect(r.code).not.toBe(0);
      expect(r.code).not.toBeNull();
      expect(r.stderr).toMatch(/port/i);
      expect(r.stderr).toContain('notanumber');
    });

    it('an unknown command exits non-zero', async () => {
      const r = await run(['frobnicate']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/unknown command/i);
    });
  });
});
