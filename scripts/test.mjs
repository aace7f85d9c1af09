#!/usr/bin/env node
/**
 * `npm test`: installs the Debian packages the suites need (when missing and
 * when we can), builds, checks the server's dependency rules, runs every
 * suite with vitest, prints each file's time and ends with the plain line
 * `N passed, N failed` that CI reads.
 * Extra arguments go to vitest (e.g. `npm test -- packages/server/test/config.test.ts`).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
/** Debian packages some suite needs, with a shell check that shows it is installed. */
const DEBIAN_PACKAGES = [
  // Benchmarks pin processes to cores with taskset (util-linux).
  { pkg: 'util-linux', check: 'command -v taskset' },
  // The enrichment tests build their own MaxMind-format databases with it.
  { pkg: 'libmaxmind-db-writer-perl', check: 'perl -MMaxMind::DB::Writer::Tree -e1' },
  // The live ingest tests push RTMP from a real encoder.
  { pkg: 'ffmpeg', check: 'command -v ffmpeg' },
  // The monitoring stream tests: a real JetStream server and protoc as an independent decoder.
  { pkg: 'nats-server', check: 'command -v nats-server' },
  { pkg: 'protobuf-compiler', check: 'command -v protoc' },
  // The collector's browser tests: Debian Chromium driven by playwright-core (media made with ffmpeg, above).
  { pkg: 'chromium', check: 'test -x /usr/bin/chromium' },
  // The notification tests deliver to a real Alertmanager and read back the alerts it holds.
  { pkg: 'prometheus-alertmanager', check: 'command -v prometheus-alertmanager' },
];

const ok = (check) => spawnSync('sh', ['-c', check], { stdio: 'ignore' }).status === 0;
const has = (command) => ok(`command -v ${command}`);

function ensureDebianPackages() {
  const missing = DEBIAN_PACKAGES.filter((p) => !ok(p.check)).map((p) => p.pkg);
  if (missing.length === 0) return;
  const sudo = process.getuid?.() === 0 ? [] : has('sudo') ? ['sudo', '-n'] : null;
  if (!sudo || !has('apt-get')) {
    console.warn(
      `test: missing Debian packages ${missing.join(', ')}; install them (apt-get install ${missing.join(' ')})`,
    );
    return;
  }
  console.log(`test: installing ${missing.join(', ')}`);
  const run = (args) =>
    execFileSync(sudo[0] ?? args[0], sudo.length ? [...sudo.slice(1), ...args] : args.slice(1), {
      stdio: 'inherit',
    });
  run(['apt-get', 'update', '-qq']);
  run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...missing]);
}

/**
 * The embedded ClickHouse engine that the ClickHouse store's suites run on: ~550 MB, so it is
 * not in the default install but in tools/chdb, installed here (pinned by its lock file) when missing.
 */
function ensureChdb() {
  const dir = join(root, 'tools', 'chdb');
  if (existsSync(join(dir, 'node_modules', 'chdb'))) return;
  console.log('test: installing the embedded ClickHouse engine (chdb) into tools/chdb');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  // `npm install` rather than `npm ci`: npm 11 leaves other platforms' optional packages out of the lock, which `ci` refuses.
  const r = spawnSync(npm, ['install', '--prefix', dir, '--no-audit', '--no-fund'], { stdio: 'inherit' });
  // The ClickHouse store must be tested like the default one: no silent skip.
  if (r.status !== 0) {
    console.error(
      'test: could not install chdb into tools/chdb (npm install failed); the ClickHouse suites need it',
    );
    process.exit(1);
  }
}

// --- ClickHouse over HTTP: chDB behind tools/chdb-http, unless CLICKHOUSE_URL names a server ---
/** Starts tools/chdb-http on a free port (its own temporary data dir) and resolves with it and its URL. */
function startChdbHttp() {
  const password = randomBytes(12).toString('hex');
  const args = [
    join(root, 'tools/chdb-http/server.mjs'),
    ...['--port', '0', '--host', '127.0.0.1', '--password', password],
  ];
  // On Linux, tied to this process: the kernel ends it if this script is killed before it can stop it.
  const tied = process.platform === 'linux' && has('setpriv');
  const child = spawn(
    tied ? 'setpriv' : process.execPath,
    tied ? ['--pdeathsig', 'SIGKILL', '--', process.execPath, ...args] : args,
    // stdout only for the one line with the address; nothing else is written there.
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = /listening on http:\/\/([\d.]+):(\d+)/.exec(out);
      if (m) resolve({ child, url: `clickhouse://default:${password}@${m[1]}:${m[2]}` });
    });
    child.on('exit', (code) =>
      reject(new Error(`tools/chdb-http exited with code ${code} before listening`)),
    );
  });
}

/** SIGTERM, then waits for it to close its chDB session. */
async function stopChdbHttp(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const code = await exited;
  if (code !== 0) console.warn(`test: tools/chdb-http ended with code ${code}`);
}
// --- end ClickHouse over HTTP ---

ensureDebianPackages();
ensureChdb();
console.log('test: building');
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'packages/server'], {
  cwd: root,
  stdio: 'inherit',
});
execFileSync(process.execPath, [join(root, 'scripts/bin-executable.mjs')], { stdio: 'inherit' });

// The dashboard's browser tests load the built app the server serves under /ui/.
execFileSync(process.execPath, [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], {
  cwd: join(root, 'packages/dashboard'),
  stdio: 'inherit',
});
execFileSync(process.execPath, [join(root, 'packages/dashboard/compress.mjs')], { stdio: 'inherit' });

// The server's dependency rules (.dependency-cruiser.cjs): a broken layer or an import cycle fails
// the run here, before any suite, with dependency-cruiser's own account of the offending imports.
const depcruise = spawnSync(
  process.execPath,
  [
    join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs'),
    'packages/server/src',
    '--config',
    '.dependency-cruiser.cjs',
    '--output-type',
    'err-long',
  ],
  { cwd: root, stdio: 'inherit' },
);
if (depcruise.status !== 0) {
  console.error('test: the server breaks its dependency rules (above); see .dependency-cruiser.cjs');
  process.exit(1);
}

// Started last, so a failed build leaves nothing running.
let chdbHttp;
if (!process.env.CLICKHOUSE_URL) {
  try {
    chdbHttp = await startChdbHttp();
  } catch (err) {
    console.error(`test: ${err.message}; the ClickHouse-over-HTTP suites need it`);
    process.exit(1);
  }
  // The vitest child inherits it: every suite with an "over HTTP" variant runs that variant.
  process.env.CLICKHOUSE_URL = chdbHttp.url;
  console.log('test: the ClickHouse-over-HTTP suites run against chDB behind tools/chdb-http');
}

mkdirSync(join(root, 'test-results'), { recursive: true });
const report = join(root, 'test-results', 'vitest.json');
// A run that is stopped before vitest writes its report must not print the previous run's.
rmSync(report, { force: true });

/**
 * Runs vitest and resolves with its exit status. Not spawnSync: this process must stay able to
 * handle a signal, pass it on to vitest and stop chdb-http before it ends.
 */
function runVitest(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'node_modules/vitest/vitest.mjs'), ...args], {
      cwd: root,
      stdio: 'inherit',
    });
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    const forward = (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    };
    for (const s of signals) process.on(s, forward);
    child.once('exit', (code) => {
      for (const s of signals) process.off(s, forward);
      resolve({ status: code });
    });
  });
}

const vitest = await runVitest([
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${report}`,
  ...process.argv.slice(2),
]);
if (chdbHttp) await stopChdbHttp(chdbHttp.child);

let passed = 0;
let failed = 0;
if (existsSync(report)) {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed = r.numPassedTests ?? 0;
  // A file that fails to load has no failed test of its own; it still counts as a failure.
  const brokenFiles = (r.testResults ?? []).filter(
    (f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed'),
  ).length;
  failed = (r.numFailedTests ?? 0) + brokenFiles;
  console.log('\nsuite times:');
  for (const f of r.testResults ?? []) {
    const secs = ((f.endTime - f.startTime) / 1000).toFixed(1).padStart(7);
    console.log(`${secs} s  ${f.status === 'passed' ? 'ok  ' : 'FAIL'}  ${f.name.replace(`${root}/`, '')}`);
  }
} else {
  failed = 1;
}
if (vitest.status !== 0 && failed === 0) failed = 1;
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(vitest.status ?? 1);
