#!/usr/bin/env node
/**
 * Ingest benchmark (`npm run bench:ingest`): how many samples per second
 * openqoe makes durable and stores, next to a bare Fastify route that only
 * parses the same JSON, on the same machine in the same run.
 *
 * The load generator (load.mjs, autocannon) is pinned to core 0 and each
 * server in turn to core 1, so neither steals the other's CPU. openqoe is
 * credited only with samples the pipeline committed to the store by the end
 * of the load plus DRAIN_MS; what was accepted but not yet stored by then is
 * reported as the backlog. Results are recorded in docs/benchmarks.md.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const HERE = dirname(fileURLToPath(import.meta.url));
const CLI = resolve(HERE, '../dist/cli.js');
const LOAD = join(HERE, 'load.mjs');
const BARE = join(HERE, 'bare-server.mjs');
const TASKSET = '/usr/bin/taskset';
const GENERATOR_CORE = '0';
const SERVER_CORE = '1';
const SAMPLES_PER_BEACON = 20;
const DRAIN_MS = 10_000;
const TARGET_SAMPLES_PER_S = 50_000;
const TARGET_RATIO = 0.5;
/** Other processes using more than this share of a core make the numbers unreliable. */
const NOISE_WARN_CORES = 0.1;
/** Linux USER_HZ: the unit of /proc CPU times. */
const CLK_TCK = 100;

const HELP = `Usage: node packages/server/bench/ingest.mjs [options]   (build first: npm run bench:ingest does)

Loads POST /v1/beacon with beacons of ${SAMPLES_PER_BEACON} samples, first on openqoe, then on a bare
Fastify route that only parses the JSON. Generator pinned to core ${GENERATOR_CORE}, servers to core ${SERVER_CORE}.

Options:
  --duration <s>            seconds of load per server [60]
  --connections <n>         concurrent connections [100]
  --views <n>               requests continue n views in turn (next sequence numbers, contiguous
                            times), as n players in progress would [10000]; 0: every request opens
                            a new view that is never continued (the worst case for memory)
  --only <openqoe|bare>     run one side only (no ratio)
  --server-node-args=<str>  node flags for the openqoe server beyond those of the openqoe command's
                            first line (note the =), e.g.
                            --server-node-args="--cpu-prof --cpu-prof-dir=/tmp/prof"
  -h, --help                this text

Targets: openqoe ≥ ${TARGET_SAMPLES_PER_S.toLocaleString('en-US')} samples/s stored, ratio to the bare route ≥ ${TARGET_RATIO}.
`;

let opts;
try {
  opts = parseArgs({
    options: {
      duration: { type: 'string', default: '60' },
      connections: { type: 'string', default: '100' },
      // A site's steady state: a fixed number of views in progress, each sending its next beacon.
      views: { type: 'string', default: '10000' },
      only: { type: 'string' },
      'server-node-args': { type: 'string', default: '' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;
} catch (err) {
  process.stderr.write(`${err.message}\n\n${HELP}`);
  process.exit(2);
}
if (opts.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const duration = Number(opts.duration);
const connections = Number(opts.connections);
if (!(duration > 0) || !Number.isInteger(connections) || connections < 1) {
  process.stderr.write(`--duration must be > 0 and --connections a positive integer\n\n${HELP}`);
  process.exit(2);
}
if (opts.only && opts.only !== 'openqoe' && opts.only !== 'bare') {
  process.stderr.write(`--only must be openqoe or bare\n`);
  process.exit(2);
}
if (!existsSync(CLI)) {
  process.stderr.write(`${CLI} is missing: run npm run build first\n`);
  process.exit(2);
}
if (!existsSync(TASKSET) || availableParallelism() < 2) {
  process.stderr.write(`needs ${TASKSET} and at least 2 cores to pin generator and server apart\n`);
  process.exit(2);
}

const log = (line) => process.stderr.write(`${line}\n`);
const fmt = (n, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (x) => `${fmt(100 * x)}%`;

/** CPU seconds of every process on the machine (interrupt time left out: loopback traffic's own lands there). */
function machineBusyS() {
  const [, user, nice, system, _idle, _iowait, _irq, _softirq, steal] = readFileSync('/proc/stat', 'utf8')
    .split('\n', 1)[0]
    .split(/\s+/)
    .map(Number);
  return (user + nice + system + steal) / CLK_TCK;
}

/** utime + stime of one process, all its threads, in seconds; 0 once it is gone. */
function processCpuS(pid) {
  let stat;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 0;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** CPU seconds of each kernel thread (child of kthreadd, pid 2): writeback of what the server wrote lands there. */
function kernelThreadsCpuS() {
  const byPid = new Map();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[1] === '2') byPid.set(pid, (Number(fields[11]) + Number(fields[12])) / CLK_TCK); // ppid
    } catch {}
  }
  return byPid;
}

/** CPU seconds kernel threads used between two snapshots (threads come and go; only the living count). */
function kernelThreadsDeltaS(before, after) {
  let total = 0;
  for (const [pid, s] of after) total += s - (before.get(pid) ?? s);
  return total;
}

/**
 * Runs the load and accounts for the CPU it took: the server's, the generator's, kernel threads', and
 * anything else's. The machine may be shared; other processes on either core lower both results.
 */
async function measuredLoad(server, url, envKey, onProgress) {
  const cpu0 = { busy: machineBusyS(), kernel: kernelThreadsCpuS(), server: processCpuS(server.pid) };
  const at0 = performance.now();
  const load = await runLoad(url, envKey, onProgress);
  const wallS = (performance.now() - at0) / 1000;
  const serverS = processCpuS(server.pid) - cpu0.server;
  const kernelS = kernelThreadsDeltaS(cpu0.kernel, kernelThreadsCpuS());
  const otherS = machineBusyS() - cpu0.busy - serverS - load.cpuS - kernelS;
  load.cpu = {
    server: serverS / wallS,
    generator: load.cpuS / load.durationS,
    kernel: kernelS / wallS,
    other: Math.max(0, otherS) / wallS,
  };
  return load;
}

// OPENQOE_* variables of the caller would override the bench config; the run must not depend on them.
const childEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OPENQOE_')));
const children = new Set();

/** Spawns a server on the server core; resolves with its base URL once it prints its listening line. */
function startServer(label, args) {
  const child = spawn(TASKSET, ['-c', SERVER_CORE, process.execPath, ...args], {
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  const stderr = createInterface({ input: child.stderr });
  stderr.on('line', (line) => log(`[${label} stderr] ${line}`));
  return new Promise((resolvePromise, reject) => {
    let ready = false;
    // Output is read to the end (a full pipe would stall the server) but only log lines (JSON) are shown:
    // the start-up block holds the bootstrap credentials.
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (ready) return line.startsWith('{') && log(`[${label}] ${line}`);
      const m = /listening on (http:\/\/\S+)/.exec(line);
      if (!m) return;
      ready = true;
      // The server listens on 127.0.0.1 but names it localhost; connect to the address it really bound.
      resolvePromise({ child, url: m[1].replace('//localhost', '//127.0.0.1') });
    });
    child.on('exit', (code, signal) => {
      if (!ready) reject(new Error(`${label} exited before listening (code ${code}, signal ${signal})`));
      else if (!child.stopping) {
        // Not stopped by us: on a shared machine another process may have signalled it.
        log(`[${label}] exited unexpectedly (code ${code}, signal ${signal}); its results are not valid`);
      }
    });
  });
}

/** SIGTERM, then SIGKILL if it has not exited in time. */
async function stopChild(child, graceMs = 15_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.stopping = true;
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    log(`[pid ${child.pid}] still running ${graceMs / 1000} s after SIGTERM: killing it`);
    child.kill('SIGKILL');
  }, graceMs);
  await exited;
  clearTimeout(timer);
}

/** Runs load.mjs on the generator core; calls onProgress for each progress line; resolves with its result. */
function runLoad(url, envKey, onProgress) {
  const args = ['--url', `${url}/v1/beacon`, '--env-key', envKey, '--duration', String(duration)];
  args.push('--connections', String(connections), '--samples', String(SAMPLES_PER_BEACON));
  args.push('--views', String(Number(opts.views)));
  const child = spawn(TASKSET, ['-c', GENERATOR_CORE, process.execPath, LOAD, ...args], {
    env: childEnv,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  return new Promise((resolvePromise, reject) => {
    let result;
    createInterface({ input: child.stdout }).on('line', (line) => {
      const msg = JSON.parse(line);
      if (msg.type === 'progress') onProgress(msg);
      else if (msg.type === 'result') result = msg;
    });
    child.on('exit', (code) => {
      children.delete(child);
      if (result) resolvePromise(result);
      else reject(new Error(`load generator exited with code ${code} and no result`));
    });
  });
}

/** One sample value of a Prometheus text exposition; `series` is the name with its labels, as printed. */
function metricValue(text, series) {
  const at = text.indexOf(`\n${series} `);
  if (at < 0) return 0; // A labelled counter not yet incremented is not printed.
  const start = at + series.length + 2;
  return Number(text.slice(start, text.indexOf('\n', start)));
}

async function pipelineCounts(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  return {
    accepted: metricValue(text, 'openqoe_intake_samples_accepted_total{source="native"}'),
    stored: metricValue(text, 'openqoe_pipeline_samples_stored_total'),
  };
}

/** The node flags in the CLI's `#!/usr/bin/env -S node …` line. */
function binNodeFlags() {
  const first = readFileSync(CLI, 'utf8').split('\n', 1)[0];
  const m = /^#!\S*env -S node(.*)$/.exec(first);
  return m ? m[1].split(/\s+/).filter(Boolean) : [];
}

async function benchOpenqoe(tmp) {
  const dataDir = join(tmp, 'data');
  const configFile = join(tmp, 'config.json');
  const config = {
    logLevel: 'warn',
    shutdownTimeoutMs: 5000,
    intake: {
      rateLimit: { perIpPerSecond: 0, perEnvKeyPerSecond: 0 },
      // Throughput runs: the caps on new views (intake.views) off, as the rate limits are.
      views: { maxInProgressPerEnv: 0, newPerSecondPerEnv: 0, maxInMemory: 100_000_000 },
    },
  };
  await writeFile(configFile, JSON.stringify(config));
  // Started as the openqoe command starts it: with the node flags of its first line (as npm start does).
  const nodeArgs = [...binNodeFlags(), ...opts['server-node-args'].split(/\s+/).filter(Boolean)];
  const serveArgs = ['serve', '--port', '0', '--data-dir', dataDir, '--config', configFile];
  log(`[openqoe] starting on core ${SERVER_CORE}${nodeArgs.length ? ` with ${nodeArgs.join(' ')}` : ''}`);
  const { child, url } = await startServer('openqoe', [...nodeArgs, CLI, ...serveArgs]);
  try {
    const bootstrap = JSON.parse(await readFile(join(dataDir, 'bootstrap.json'), 'utf8'));
    log(`[openqoe] ${url}: ${duration} s of load, ${connections} connections`);
    const load = await measuredLoad(child, url, bootstrap.environment.key, (p) => {
      // Progress reads the server's own counters; one /metrics request per 10 s costs it nothing measurable.
      pipelineCounts(url).then(
        (c) =>
          log(
            `[openqoe] ${String(p.elapsedS).padStart(3)} s  ${fmt(p.ok2xxPerS)} req/s  non-2xx ${fmt(p.non2xx)}` +
              `  accepted ${fmt(c.accepted)}  stored ${fmt(c.stored)} samples`,
          ),
        () => {},
      );
    });
    // Only what the pipeline committed by the end of the load + DRAIN_MS counts.
    const deadline = load.finish + DRAIN_MS;
    let counts = await pipelineCounts(url);
    while (counts.stored < counts.accepted && Date.now() < deadline) {
      await sleep(200);
      counts = await pipelineCounts(url);
    }
    const drainMs = Math.max(0, Date.now() - load.finish);
    log(
      `[openqoe] load done; ${counts.stored < counts.accepted ? 'deadline reached' : 'pipeline caught up'} ${fmt(drainMs / 1000, 1)} s after it`,
    );
    return { load, ...counts, drainMs, samplesPerS: counts.stored / load.durationS };
  } finally {
    log('[openqoe] stopping');
    const stopAt = performance.now();
    // A graceful exit can take long (the server stores every active view) but --cpu-prof writes only then.
    await stopChild(child, nodeArgs.length ? 600_000 : 15_000);
    log(`[openqoe] stopped in ${fmt((performance.now() - stopAt) / 1000, 1)} s`);
  }
}

async function benchBare() {
  log(`[bare] starting on core ${SERVER_CORE}`);
  const { child, url } = await startServer('bare', [BARE]);
  try {
    log(`[bare] ${url}: ${duration} s of load, ${connections} connections`);
    const load = await measuredLoad(child, url, 'bench', (p) =>
      log(`[bare] ${String(p.elapsedS).padStart(3)} s  ${fmt(p.ok2xxPerS)} req/s  non-2xx ${fmt(p.non2xx)}`),
    );
    return { load, samplesPerS: (load.ok2xx * SAMPLES_PER_BEACON) / load.durationS };
  } finally {
    await stopChild(child);
  }
}

function report(openqoe, bare) {
  const columns = [
    'samples/s',
    '2xx/s',
    'p50 ms',
    'p99 ms',
    'non-2xx',
    'errors',
    'srv CPU',
    'gen CPU',
    'kthreads',
  ];
  const line = (name, cells) => [name.padEnd(18), ...cells.map((c) => c.padStart(9))].join(' ');
  const row = (name, r) =>
    line(name, [
      fmt(r.samplesPerS),
      fmt(r.load.ok2xx / r.load.durationS),
      fmt(r.load.latencyMs.p50),
      fmt(r.load.latencyMs.p99),
      fmt(r.load.non2xx),
      fmt(r.load.errors + r.load.timeouts),
      pct(r.load.cpu.server),
      pct(r.load.cpu.generator),
      pct(r.load.cpu.kernel),
    ]);
  const mark = (ok) => (ok ? 'met' : 'MISSED');
  const any = openqoe ?? bare;
  const lines = [
    '',
    `Ingest: ${fmt(any.load.durationS, 1)} s of load, ${connections} connections, ${SAMPLES_PER_BEACON} samples/beacon, ` +
      `${Number(opts.views) > 0 ? `${opts.views} views in turn` : 'a new view per beacon'}` +
      ` (${fmt(any.load.bodyBytes)} bytes), generator on core ${GENERATOR_CORE}, server on core ${SERVER_CORE}`,
    `Machine: ${availableParallelism()} cores, ${cpus()[0]?.model ?? '?'}, ${fmt(totalmem() / 2 ** 30, 1)} GiB, Node ${process.version}`,
    '',
    line('', columns),
  ];
  if (openqoe) lines.push(row('openqoe (stored)', openqoe));
  if (bare) lines.push(row('bare Fastify route', bare));
  lines.push('');
  if (openqoe) {
    lines.push(
      `openqoe: ${fmt(openqoe.samplesPerS)} samples/s stored (target ≥ ${fmt(TARGET_SAMPLES_PER_S)}: ${mark(openqoe.samplesPerS >= TARGET_SAMPLES_PER_S)})`,
      `backlog at load end + ${DRAIN_MS / 1000} s: ${fmt(openqoe.accepted - openqoe.stored)} samples` +
        ` (accepted ${fmt(openqoe.accepted)}, stored ${fmt(openqoe.stored)})`,
    );
  }
  if (openqoe && bare) {
    const ratio = openqoe.samplesPerS / bare.samplesPerS;
    lines.push(
      `ratio openqoe / bare: ${fmt(ratio, 2)} (target ≥ ${TARGET_RATIO}: ${mark(ratio >= TARGET_RATIO)})`,
    );
  }
  for (const [name, r] of [
    ['openqoe', openqoe],
    ['bare', bare],
  ]) {
    if (r && r.load.cpu.other > NOISE_WARN_CORES) {
      lines.push(
        `WARNING: other processes used ${pct(r.load.cpu.other)} of a core during the ${name} run; its numbers are low`,
      );
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

const tmp = await mkdtemp(join(tmpdir(), 'openqoe-bench-'));
let cleaning;
const cleanup = () => {
  cleaning ??= (async () => {
    await Promise.all([...children].map((c) => stopChild(c, 5000)));
    await rm(tmp, { recursive: true, force: true });
  })();
  return cleaning;
};
process.on('SIGINT', () => cleanup().then(() => process.exit(130)));

try {
  const busy0 = machineBusyS();
  await sleep(1000);
  const idleBusy = machineBusyS() - busy0;
  if (idleBusy > NOISE_WARN_CORES) {
    log(`WARNING: the machine is not idle (${pct(idleBusy)} of a core busy before the run)`);
  }
  const openqoe = opts.only === 'bare' ? undefined : await benchOpenqoe(tmp);
  const bare = opts.only === 'openqoe' ? undefined : await benchBare();
  report(openqoe, bare);
} catch (err) {
  log(
    `ingest bench failed: ${err.stack ?? err}${err.cause ? `\ncause: ${err.cause.stack ?? err.cause}` : ''}`,
  );
  process.exitCode = 1;
} finally {
  await cleanup();
}
