#!/usr/bin/env node
/**
 * `npm test`: installs the Debian packages the suites need (when missing and
 * when we can) and the test-only tools (tools/chdb, tools/kinesalite,
 * tools/node24), builds, checks the server's dependency rules, runs every
 * suite with vitest on Node 24 LTS (tools/node24), then the set-up path's
 * suites (machineNodeSuites) on the Node running this script, prints each
 * file's time per run and ends with the plain line `N passed, N failed` (both
 * runs summed) that CI reads.
 * Extra arguments go to vitest, in both runs (e.g. `npm test -- packages/server/test/config.test.ts`);
 * OPENQOE_TEST_NODES=24 or =machine runs one of the two only.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

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
 * Installs tools/<name> (pinned by its lock file) when `marker` is missing under its node_modules:
 * test-only pieces too big or too native for the default install.
 */
function ensureTool(name, marker, what) {
  const dir = join(root, 'tools', name);
  if (existsSync(join(dir, 'node_modules', marker))) return;
  console.log(`test: installing ${what} into tools/${name}`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  // `npm install` rather than `npm ci`: npm 11 leaves other platforms' optional packages out of the lock, which `ci` refuses.
  const r = spawnSync(npm, ['install', '--prefix', dir, '--no-audit', '--no-fund'], { stdio: 'inherit' });
  // What the suites need must be there: no silent skip.
  if (r.status !== 0 || !existsSync(join(dir, 'node_modules', marker))) {
    console.error(
      `test: could not install ${what} into tools/${name} (npm install failed or has no ${marker})`,
    );
    process.exit(1);
  }
}

/** The Node the suite targets; the npm registry publishes its binaries as node-<platform>-<arch>. */
const NODE24_PACKAGE = `node-${process.platform}-${process.arch}`;
const NODE24 = join(root, 'tools', 'node24', 'node_modules', NODE24_PACKAGE, 'bin', 'node');

/**
 * The suites that also run on the machine's Node: the set-up path (install and build ran on it
 * above), every unit test, and the integration suites that load the native modules (DuckDB, chDB
 * embedded and over HTTP, leveldown under kinesalite), use NATS, and run the CLI and the README.
 */
const MACHINE_NODE_INTEGRATION = [
  'packages/server/test/duckdb-store.integration.test.ts',
  'packages/server/test/clickhouse-store.integration.test.ts',
  'packages/server/test/chdb-http.integration.test.ts',
  'packages/server/test/monitoring-kinesis-subset.integration.test.ts',
  'packages/server/test/cluster-realtime.integration.test.ts',
  'packages/server/test/cli.integration.test.ts',
  'packages/server/test/readme.integration.test.ts',
];
function machineNodeSuites() {
  const units = [];
  for (const pkg of readdirSync(join(root, 'packages'))) {
    const dir = join(root, 'packages', pkg, 'test');
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir, { recursive: true })) {
      if (f.endsWith('.test.ts') && !/\.(integration|e2e)\.test\.ts$/.test(f)) {
        units.push(`packages/${pkg}/test/${f}`);
      }
    }
  }
  return [...units, ...MACHINE_NODE_INTEGRATION];
}

// --- ClickHouse over HTTP: chDB behind tools/chdb-http, unless CLICKHOUSE_URL names a server ---
/** Starts tools/chdb-http on `node`, on a free port (its own temporary data dir); resolves with it and its URL. */
function startChdbHttp(node) {
  const password = randomBytes(12).toString('hex');
  const args = [
    join(root, 'tools/chdb-http/server.mjs'),
    ...['--port', '0', '--host', '127.0.0.1', '--password', password],
  ];
  // On Linux, tied to this process: the kernel ends it if this script is killed before it can stop it.
  const tied = process.platform === 'linux' && has('setpriv');
  const child = spawn(
    tied ? 'setpriv' : node,
    tied ? ['--pdeathsig', 'SIGKILL', '--', node, ...args] : args,
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
const nodes = process.env.OPENQOE_TEST_NODES ?? 'both';
if (!['both', '24', 'machine'].includes(nodes)) {
  console.error(`test: OPENQOE_TEST_NODES must be both, 24 or machine, not "${nodes}"`);
  process.exit(1);
}
// ~550 MB: not in the default install.
ensureTool('chdb', 'chdb', 'the embedded ClickHouse engine (chdb)');
// Test-only, and leveldown under it is a native module.
ensureTool('kinesalite', 'kinesalite', 'kinesalite (the Kinesis API)');
if (nodes !== 'machine') {
  ensureTool('node24', NODE24_PACKAGE, `Node 24 (${NODE24_PACKAGE})`);
}
// The same incremental build as `npm run build` (server, collector, and the dashboard whose built app
// the browser tests load under /ui/): one definition of the build, and a rerun builds only what changed.
console.log('test: building');
execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit' });

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

mkdirSync(join(root, 'test-results'), { recursive: true });

/** Set when this script is stopped (Ctrl-C, CI's timeout): no further run starts. */
let interrupted = false;

/**
 * Runs vitest on `node` and resolves with its exit status. Not spawnSync: this process
 * must stay able to handle a signal, pass it on to vitest and stop chdb-http before it ends.
 */
function runVitest(node, args, env) {
  return new Promise((resolve) => {
    const child = spawn(node, [join(root, 'node_modules/vitest/vitest.mjs'), ...args], {
      cwd: root,
      env,
      stdio: 'inherit',
    });
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    const forward = (signal) => {
      interrupted = true;
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    };
    for (const s of signals) process.on(s, forward);
    child.once('exit', (code) => {
      for (const s of signals) process.off(s, forward);
      resolve({ status: code });
    });
  });
}

/**
 * One vitest run on `node`: chdb-http started on that Node (unless CLICKHOUSE_URL names a server),
 * `node` first on PATH, so the servers, CLI children and shell commands the suites start run on it
 * too (they use process.execPath or `node`). Prints each file's time; resolves with the counts.
 */
async function runOn(node, label, files) {
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  console.log(
    `\ntest: ${label}: Node ${version}${files.length ? `, ${files.length} files or filters` : ', every suite'}`,
  );
  const env = { ...process.env, PATH: `${dirname(node)}${delimiter}${process.env.PATH ?? ''}` };
  let chdbHttp;
  if (!process.env.CLICKHOUSE_URL) {
    try {
      chdbHttp = await startChdbHttp(node);
    } catch (err) {
      console.error(`test: ${err.message}; the ClickHouse-over-HTTP suites need it`);
      return { passed: 0, failed: 1, status: 1, failures: [`${label}: ${err.message}`] };
    }
    // Every suite with an "over HTTP" variant runs that variant.
    env.CLICKHOUSE_URL = chdbHttp.url;
    console.log('test: the ClickHouse-over-HTTP suites run against chDB behind tools/chdb-http');
  }
  const report = join(root, 'test-results', `vitest-${label}.json`);
  // A run that is stopped before vitest writes its report must not print the previous run's.
  rmSync(report, { force: true });
  const vitest = await runVitest(
    node,
    ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...files],
    env,
  );
  if (chdbHttp) await stopChdbHttp(chdbHttp.child);

  let passed = 0;
  let failed = 0;
  const failures = [];
  if (existsSync(report)) {
    const r = JSON.parse(readFileSync(report, 'utf8'));
    passed = r.numPassedTests ?? 0;
    // A file that fails to load has no failed test of its own; it still counts as a failure.
    const brokenFiles = (r.testResults ?? []).filter(
      (f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed'),
    ).length;
    failed = (r.numFailedTests ?? 0) + brokenFiles;
    console.log(`\nsuite times (${label}, Node ${version}):`);
    for (const f of r.testResults ?? []) {
      const secs = ((f.endTime - f.startTime) / 1000).toFixed(1).padStart(7);
      const file = f.name.replace(`${root}/`, '');
      console.log(`${secs} s  ${f.status === 'passed' ? 'ok  ' : 'FAIL'}  ${file}`);
      if (f.status !== 'failed') continue;
      const tests = (f.assertionResults ?? []).filter((a) => a.status === 'failed');
      if (tests.length === 0) failures.push(`${label}: ${file}: ${firstLine(f.message)}`);
      for (const a of tests)
        failures.push(
          `${label}: ${file} > ${a.fullName} (after ${((a.duration ?? 0) / 1000).toFixed(1)} s): ${firstLine(a.failureMessages?.[0])}`,
        );
    }
  } else {
    failed = 1;
    failures.push(`${label}: vitest wrote no report (exit ${vitest.status})`);
  }
  if (vitest.status !== 0 && failed === 0) {
    failed = 1;
    failures.push(`${label}: vitest exited ${vitest.status} with no failed test`);
  }
  // Not the `N passed, N failed` form: CI reads that line, which sums both runs, at the end.
  console.log(`test: ${label} run: ${passed} passed and ${failed} failed`);
  return { passed, failed, status: vitest.status ?? 1, failures };
}

/** A failure's first line, cut short: the list at the end names failures; the full text is above it. */
function firstLine(message) {
  const line = String(message ?? 'no message').split('\n')[0];
  // vitest's JSON report gives a timeout no message of its own.
  if (line === 'Error: STACK_TRACE_ERROR')
    return 'timed out, or failed with no message (the log above has it)';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

const extra = process.argv.slice(2);
const runs = [];
if (nodes !== 'machine') runs.push({ node: NODE24, label: 'node24', files: extra });
// Node 24 itself needs no second run.
if (nodes !== '24' && (nodes === 'machine' || process.versions.node.split('.')[0] !== '24')) {
  runs.push({
    node: process.execPath,
    label: 'machine-node',
    files: extra.length ? extra : machineNodeSuites(),
  });
}
let passed = 0;
let failed = 0;
let status = 0;
const failures = [];
for (const run of runs) {
  const r = await runOn(run.node, run.label, run.files);
  passed += r.passed;
  failed += r.failed;
  failures.push(...r.failures);
  if (r.status !== 0) status = r.status;
  if (interrupted) break;
}
// The failures again, just above the last line, where a reader of the log's tail sees them.
if (failures.length) console.log(`\nfailed:\n${failures.map((f) => `  ${f}`).join('\n')}`);
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(status);
