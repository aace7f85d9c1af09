/**
 * The installable release, as a user installs it: `npm run release:pack`
 * packs the built tree into openqoe-X.Y.Z.tgz, `npm install -g` puts it in an
 * empty prefix (dependencies from the registry, or npm's cache), and the
 * prefix's `openqoe` command serves with no build step: the dashboard, the
 * demo page's collector, the bundled country database, a beacon taken and
 * its view read back, an admin command finding the server by itself, and
 * nothing written into the installed files (so a read-only install works).
 * Nothing of this checkout is reachable from the prefix (it lives under the
 * system's temp dir), so every file it finds is the tarball's or npm's.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { makeViewBeacon } from '@openqoe/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patience } from './helpers/patience.js';
import { track } from './helpers/processes.js';
import {
  postBeacon,
  removeDir,
  type ServerProcess,
  startServer,
  TEST_CONFIG,
  tempDataDir,
  waitFor,
} from './helpers/server-process.js';
import { slowTests } from './helpers/slow-tests.js';

// Packing is a few seconds; the install fetches ~250 packages (about 10 s from npm's cache, longer from the registry).
slowTests(300_000);

const ROOT = resolve(import.meta.dirname, '../../..');
const VERSION = (
  JSON.parse(readFileSync(join(ROOT, 'packages/server/package.json'), 'utf8')) as { version: string }
).version;

/** The environment without npm's per-run settings, as a user's shell has it (a parent `npm test` sets some). */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_|^OPENQOE_/i.test(k)) env[k] = v;
  return env;
}

/** Runs a command to its end; rejects with its output when it fails. */
function run(command: string, args: string[], cwd: string, idleMs: number): Promise<string> {
  return new Promise((done, fail) => {
    track(
      execFile(
        command,
        args,
        { cwd, env: userEnv(), timeout: patience(idleMs), maxBuffer: 16 * 1024 * 1024 },
        (err, stdout, stderr) =>
          err
            ? fail(new Error(`${command} ${args.join(' ')}: ${err.message}\n${stdout}${stderr}`))
            : done(stdout + stderr),
      ),
      `${command} ${args[0]}`,
    );
  });
}

/** Every file under `dir` with its size and modification time, one a line. */
function listing(dir: string): string {
  return (readdirSync(dir, { recursive: true }) as string[])
    .sort()
    .map((f) => {
      const s = statSync(join(dir, f));
      return `${f} ${s.isDirectory() ? 'dir' : s.size} ${s.mtimeMs}`;
    })
    .join('\n');
}

/**
 * The collector's script-tag build, made now (the suite's build does not make it). Built
 * into a temp dir and renamed into dist/, as the collector's kit does, so a parallel test
 * never loads a half-written file.
 */
async function buildCollector(): Promise<void> {
  const dir = join(ROOT, 'packages/collector');
  const tmp = mkdtempSync(join(tmpdir(), 'openqoe-collector-'));
  try {
    await run(process.execPath, [join(dir, 'build.mjs'), '--no-types', '--outdir', tmp], ROOT, 60_000);
    mkdirSync(join(dir, 'dist'), { recursive: true });
    for (const f of readdirSync(tmp)) renameSync(join(tmp, f), join(dir, 'dist', f));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

describe('the installable release', () => {
  const work = tempDataDir('openqoe-release-');
  const prefix = join(work, 'prefix');
  const bin = join(prefix, 'bin', 'openqoe');
  let server: ServerProcess;
  let installMs = 0;
  let installToHealthyMs = 0;
  let installed = '';

  beforeAll(async () => {
    await buildCollector();
    const packed = await run(
      process.execPath,
      [join(ROOT, 'scripts/release-pack.mjs'), '--no-build', '--out', work],
      ROOT,
      60_000,
    );
    expect(packed).toContain(`openqoe-${VERSION}.tgz`);
    mkdirSync(prefix);
    mkdirSync(join(work, 'data'));
    const started = Date.now();
    await run(
      'npm',
      [
        'install',
        '-g',
        join(work, `openqoe-${VERSION}.tgz`),
        '--prefix',
        prefix,
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
      ],
      work,
      600_000,
    );
    installMs = Date.now() - started;
    installed = listing(join(prefix, 'lib/node_modules/openqoe'));
    server = await startServer({
      bin,
      dataDir: join(work, 'data'),
      // trustProxy: the test's beacon comes from a forwarded public address, placed by the bundled database.
      config: { ...TEST_CONFIG, trustProxy: true, views: { idleCompleteMs: 300, tickIntervalMs: 50 } },
    });
    await waitFor(
      async () => (await fetch(`${server.url}/healthz`)).status === 200,
      '/healthz to answer 200',
    );
    installToHealthyMs = Date.now() - started;
    console.log(
      `release: install ${(installMs / 1000).toFixed(1)} s, install start to /healthz 200 ${(installToHealthyMs / 1000).toFixed(1)} s`,
    );
  });

  afterAll(async () => {
    await server?.kill();
    removeDir(work);
  });

  it('installs the built files only, with the workspace packages and the systemd unit inside it', () => {
    const pkg = join(prefix, 'lib/node_modules/openqoe');
    expect(readdirSync(join(pkg, 'packages')).sort()).toEqual(['dashboard', 'server']);
    // The systemd unit comes with it, as it is in the repository.
    expect(readFileSync(join(pkg, 'deploy/openqoe.service'), 'utf8')).toBe(
      readFileSync(join(ROOT, 'deploy/openqoe.service'), 'utf8'),
    );
    // Built, not source: no TypeScript to compile, no source folders.
    expect(readdirSync(join(pkg, 'packages/server'))).not.toContain('src');
    for (const lib of ['schema', 'generator', 'collector'])
      expect(
        JSON.parse(readFileSync(join(pkg, 'node_modules/@openqoe', lib, 'package.json'), 'utf8')).name,
      ).toBe(`@openqoe/${lib}`);
  });

  it('its `openqoe` command serves: version, dashboard, API reference and the demo page’s collector', async () => {
    expect((await run(bin, ['--version'], work, 30_000)).trim()).toBe(VERSION);
    const ui = await fetch(`${server.url}/ui/`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('<div id="app"');
    expect((await fetch(`${server.url}/docs/json`)).status).toBe(200);
    // The reference's page and scripts come from @fastify/swagger-ui's own files.
    const docs = await fetch(`${server.url}/docs`);
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-type')).toContain('text/html');
    const collector = await fetch(`${server.url}/demo/openqoe.js`);
    expect(collector.status).toBe(200);
    expect(await collector.text()).toContain('openqoe');
  });

  it('takes a beacon and answers its view, with its country, through the data API; an admin command finds the server by itself', async () => {
    const key = server.bootstrap().environment.key;
    // 85.214.0.0/16: a German hosting provider's block.
    const res = await postBeacon(server.url, JSON.stringify(makeViewBeacon(key, 'release-view', 0, 3)), {
      'content-type': 'text/plain',
      'x-forwarded-for': '85.214.132.117',
    });
    expect(res.status).toBe(202);
    const auth = server.adminAuth();
    await waitFor(
      async () =>
        (await fetch(`${server.url}/data/v1/video-views/release-view`, { headers: { authorization: auth } }))
          .status === 200,
      'the view to be stored',
    );
    const view = (await (
      await fetch(`${server.url}/data/v1/video-views/release-view`, { headers: { authorization: auth } })
    ).json()) as { data: { view_id: string; country: string } };
    expect(view.data).toMatchObject({ view_id: 'release-view', country: 'DE' });
    // No --url: the installed CLI reads the server.json the server wrote into its data dir.
    const listed = await run(bin, ['environments', 'list', '--data-dir', server.dataDir], work, 30_000);
    expect(listed).toContain(server.bootstrap().environment.id);
  });

  it('wrote nothing into its installed files while it ran (a read-only install works)', () => {
    expect(listing(join(prefix, 'lib/node_modules/openqoe'))).toBe(installed);
  });
});
