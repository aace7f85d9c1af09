#!/usr/bin/env node
/**
 * How long a new user waits for a server that answers:
 *
 * `npm run bench:start`: `npm start` in this checkout, timed from the command
 * to `/healthz` 200: first from nothing built (every build output and stamp
 * removed), then again with nothing changed, then after touching one
 * dashboard source file.
 *
 * `npm run bench:install`: packs the release (`npm run release:pack`), installs
 * it with `npm install -g` into an empty prefix (npm's cache first, then the
 * registry) and starts the prefix's `openqoe serve`, timed from the install's
 * start to `/healthz` 200.
 *
 * Each server gets its own temp data dir and free ports, and is stopped.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../../..');
const mode = process.argv[2];
if (mode !== 'start' && mode !== 'install') {
  console.log(`usage: node packages/server/bench/startup.mjs start|install
  start    npm start from nothing built, again unchanged, again after one dashboard edit (npm run bench:start)
  install  pack the release, install it into an empty prefix, start it (npm run bench:install)`);
  process.exit(mode === '--help' ? 0 : 1);
}

const work = mkdtempSync(join(tmpdir(), 'openqoe-bench-startup-'));
// Free ports: beside another server on 8080 or 1935.
const config = join(work, 'config.json');
writeFileSync(config, JSON.stringify({ logLevel: 'warn', live: { rtmp: { port: 0 } } }));
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

/**
 * Starts a command whose arguments end in `openqoe serve`'s (a free port and `dataDir` are added), waits for /healthz 200, stops it
 * (its whole process group) and resolves with the milliseconds from `since`.
 */
function timeToHealthy(command, args, dataDir, since = Date.now()) {
  const child = spawn(command, [...args, '--port', '0', '--data-dir', dataDir, '--config', config], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const collect = (d) => {
    out += d;
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  return new Promise((done, fail) => {
    let finished = false;
    const stop = () => {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {}
    };
    child.once('exit', (code) => {
      if (!finished) fail(new Error(`${command} exited with ${code} before /healthz answered:\n${out}`));
    });
    const poll = async () => {
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      if (url) {
        const ok = await fetch(`${url.replace('localhost', '127.0.0.1')}/healthz`)
          .then((r) => r.status === 200)
          .catch(() => false);
        if (ok) {
          finished = true;
          const ms = Date.now() - since;
          child.once('exit', () => done(ms));
          stop();
          return;
        }
      }
      if (!finished) setTimeout(poll, 50);
    };
    void poll();
  });
}

const npm = (args, cwd = root) =>
  execFileSync('npm', args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });

function machine() {
  const npmVersion = npm(['--version']).trim();
  return `${cpus().length} cores (${cpus()[0]?.model}), Node ${process.version}, npm ${npmVersion}, load average ${loadavg()[0].toFixed(1)}`;
}

try {
  console.log(`machine: ${machine()}`);
  if (mode === 'start') {
    // Nothing built: every output and every incremental state the build keeps.
    for (const p of ['schema', 'generator', 'server', 'collector', 'dashboard']) {
      rmSync(join(root, 'packages', p, 'dist'), { recursive: true, force: true });
      rmSync(join(root, 'packages', p, 'tsconfig.tsbuildinfo'), { force: true });
    }
    rmSync(join(root, 'node_modules/.cache/openqoe-build'), { recursive: true, force: true });
    const runs = [
      ['first start, nothing built', () => {}],
      ['second start, nothing changed', () => {}],
      [
        'after editing one dashboard file',
        () => {
          const file = join(root, 'packages/dashboard/src/main.tsx');
          const now = new Date();
          utimesSync(file, now, now);
        },
      ],
    ];
    for (const [i, [what, before]] of runs.entries()) {
      before();
      const ms = await timeToHealthy('npm', ['start', '--'], join(work, `data-${i}`));
      console.log(`npm start, ${what}: ${seconds(ms)} to /healthz 200`);
    }
  } else {
    let t = Date.now();
    const packed = npm(['run', '-s', 'release:pack', '--', '--out', work]);
    const tarball = /release: (\S+\.tgz)/.exec(packed)?.[1];
    console.log(`${packed.trim()}\npack (incremental build included): ${seconds(Date.now() - t)}`);
    const prefix = join(work, 'prefix');
    mkdirSync(prefix);
    t = Date.now();
    npm(['install', '-g', tarball, '--prefix', prefix, '--no-audit', '--no-fund', '--prefer-offline'], work);
    console.log(`npm install -g: ${seconds(Date.now() - t)}`);
    const ms = await timeToHealthy(join(prefix, 'bin/openqoe'), ['serve'], join(work, 'data'), t);
    console.log(`install start to /healthz 200: ${seconds(ms)}`);
    const version = JSON.parse(readFileSync(join(root, 'packages/server/package.json'), 'utf8')).version;
    console.log(`(openqoe ${version})`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
