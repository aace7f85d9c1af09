#!/usr/bin/env node
/**
 * Slow-client attack benchmark (part of `npm run bench:hostile`): valid-beacon
 * latency (p50, p99) and the server's memory while thousands of connections
 * trickle one byte a second, next to the same beacon load without them, on the
 * same server in the same run. The server runs with the default connection
 * settings (`connections.*`: 10 s for headers, 30 s for a request, 256 per
 * address), as a deployment would; the attackers come from many loopback
 * addresses (127.0.0.0/8) so the per-address cap does not stop them, and each
 * one reconnects as soon as the server closes it, so the attack lasts the
 * whole phase. Results are recorded in docs/benchmarks.md.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { makeViewBeacon } from '@openqoe/schema';

const HERE = dirname(fileURLToPath(import.meta.url));
const CLI = resolve(HERE, '../dist/cli.js');
/** Attacking connections per source address: under the default per-address cap (256). */
const PER_ADDRESS = 200;

const HELP = `Usage: node packages/server/bench/hostile-conn.mjs [options]   (build first: npm run build)

Runs one openqoe server (default connection settings) and sends valid beacons at a fixed rate,
first alone, then while --slow connections trickle one byte a second (each reconnects when closed).
Prints valid-beacon latency (p50, p99), refusals, and the server's RSS in each phase.

Options:
  --duration <s>   seconds per phase [30]
  --rate <n>       valid beacons per second [100]
  --slow <n>       trickling connections during the attack [2000]
  -h, --help       this text
`;

let opts;
try {
  opts = parseArgs({
    options: {
      duration: { type: 'string', default: '30' },
      rate: { type: 'string', default: '100' },
      slow: { type: 'string', default: '2000' },
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
const durationMs = Number(opts.duration) * 1000;
const rate = Number(opts.rate);
const slowCount = Number(opts.slow);

// The attack holds slowCount sockets in this process and in the server.
const soft = /Max open files\s+(\S+)/.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];
if (soft !== 'unlimited' && Number(soft) < slowCount + 1024)
  execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${slowCount + 1024}:`]);

const dataDir = mkdtempSync(join(tmpdir(), 'openqoe-bench-hostile-'));
const configFile = join(dataDir, 'bench-config.json');
writeFileSync(
  configFile,
  JSON.stringify({
    logLevel: 'warn',
    intake: { rateLimit: { perIpPerSecond: 0, perEnvKeyPerSecond: 0 } },
    live: { rtmp: { enabled: false } },
  }),
);
const child = spawn(
  process.execPath,
  [CLI, 'serve', '--port', '0', '--data-dir', dataDir, '--config', configFile],
  {
    stdio: ['ignore', 'pipe', 'pipe'],
  },
);
let out = '';
child.stdout.on('data', (d) => (out += d));
child.stderr.on('data', (d) => (out += d));
process.on('exit', () => {
  child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

const rssMiB = () =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]) / 1024;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

const url = await new Promise((res, rej) => {
  const timer = setTimeout(() => rej(new Error(`server did not start:\n${out}`)), 60_000);
  child.stdout.on('data', () => {
    const m = /listening on (http:\/\/\S+)/.exec(out);
    if (m) {
      clearTimeout(timer);
      res(m[1].replace('localhost', '127.0.0.1'));
    }
  });
});
const port = Number(new URL(url).port);
const envKey = JSON.parse(readFileSync(join(dataDir, 'bootstrap.json'), 'utf8')).environment.key;

/** Valid beacons at `rate` per second for `durationMs`; latency of each, and the server's RSS twice a second. */
async function phase(name) {
  const latencies = [];
  const statuses = new Map();
  const rss = [];
  const sampler = setInterval(() => rss.push(rssMiB()), 500);
  const started = performance.now();
  const inFlight = [];
  let view = 0;
  for (let i = 0; performance.now() - started < durationMs; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const body = JSON.stringify(makeViewBeacon(envKey, `${name}-${view++ % 500}-${i}`, 0, 5));
    const t0 = performance.now();
    inFlight.push(
      fetch(`${url}/v1/beacon`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body })
        .then(async (r) => {
          await r.arrayBuffer();
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        })
        .catch((err) =>
          statuses.set(err.cause?.code ?? 'error', (statuses.get(err.cause?.code ?? 'error') ?? 0) + 1),
        )
        .finally(() => latencies.push(performance.now() - t0)),
    );
  }
  await Promise.all(inFlight);
  clearInterval(sampler);
  latencies.sort((a, b) => a - b);
  return {
    name,
    beacons: latencies.length,
    p50: pct(latencies, 50),
    p99: pct(latencies, 99),
    statuses: Object.fromEntries(statuses),
    rssMaxMiB: Math.max(...rss),
    rssEndMiB: rss.at(-1),
  };
}

/** Keeps `count` connections trickling a request line a byte a second; each reconnects when the server closes it. */
function attack(count) {
  const line = Buffer.from('POST /v1/beacon HTTP/1.1\r\nHost: x\r\n');
  const sockets = new Set();
  let closedByServer = 0;
  let refusedAtAccept = 0;
  let stopped = false;
  const open = (i) => {
    if (stopped) return;
    const localAddress = `127.${100 + Math.floor(i / PER_ADDRESS / 250)}.${Math.floor(i / PER_ADDRESS) % 250}.1`;
    const s = net.connect({ port, host: '127.0.0.1', localAddress });
    s.sent = 0;
    s.on('error', () => {});
    s.on('close', () => {
      sockets.delete(s);
      if (stopped) return;
      if (s.sent === 0) refusedAtAccept++;
      else closedByServer++;
      setTimeout(() => open(i), 100);
    });
    sockets.add(s);
  };
  for (let i = 0; i < count; i++) open(i);
  const timer = setInterval(() => {
    for (const s of sockets) {
      if (s.destroyed || s.connecting) continue;
      s.write(line.subarray(s.sent % line.length, (s.sent % line.length) + 1));
      s.sent++;
    }
  }, 1000);
  return {
    open: () => sockets.size,
    stop() {
      stopped = true;
      clearInterval(timer);
      for (const s of sockets) s.destroy();
      return { closedByServer, refusedAtAccept };
    },
  };
}

await sleep(2000);
const idleRss = rssMiB();
const baseline = await phase('baseline');
const slow = attack(slowCount);
// Let the attack reach its size before measuring.
await sleep(3000);
const heldAtStart = slow.open();
const underAttack = await phase('attack');
const attackResult = slow.stop();
await sleep(5000);
const afterRss = rssMiB();
await sleep(25_000);
const laterRss = rssMiB();

const fmt = (r) =>
  `${r.name.padEnd(9)} ${String(r.beacons).padStart(6)} beacons  p50 ${r.p50.toFixed(1).padStart(7)} ms  p99 ${r.p99
    .toFixed(1)
    .padStart(
      7,
    )} ms  RSS max ${r.rssMaxMiB.toFixed(0)} MiB, end ${r.rssEndMiB.toFixed(0)} MiB  answers ${JSON.stringify(r.statuses)}`;
console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(
  `load: ${rate} valid beacons/s (5 samples each) for ${durationMs / 1000} s per phase; attack: ${slowCount} connections trickling 1 byte/s`,
);
console.log(
  `server RSS idle ${idleRss.toFixed(0)} MiB; after the attack ${afterRss.toFixed(0)} MiB (5 s), ${laterRss.toFixed(0)} MiB (30 s)`,
);
console.log(fmt(baseline));
console.log(fmt(underAttack));
console.log(
  `attack: ${heldAtStart} connections open when measuring began; ${attackResult.closedByServer} closed by the server's timeouts, ${attackResult.refusedAtAccept} closed before a byte was sent (caps) during the phase`,
);
// The server's output pipes would keep this process alive.
process.exit(0);
