#!/usr/bin/env node
/**
 * `npm run bench:hostile`: what hostile load costs the clients that behave.
 *
 * One `openqoe serve` (a child process on a temp data dir, default caps)
 * takes a steady load of valid native beacons (--rate per second, continuing
 * views, from 127.0.0.1) through three phases of --duration seconds each:
 *
 * 1. baseline: the valid load alone;
 * 2. fan-out: meanwhile 150 gzip beacons of 1 000 new view ids each on one
 *    public key, from three other addresses (127.0.0.6-8), three in flight each;
 * 3. token flood: meanwhile bogus signed tokens on the stats API from
 *    127.0.0.2, 16 in flight, for the whole phase.
 *
 * For each phase: the valid beacons' latency (p50, p99, max) and statuses,
 * the server's RSS (peak and at the phase end, from /proc/<pid>/status), and
 * what the attack got (202 / 429, 401 / 429).
 */
import { spawn } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { makeBeacon, makeEvent, makeSample } from '@openqoe/schema';
import { SignJWT } from 'jose';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '20' },
    rate: { type: 'string', default: '50' },
    unprotected: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(`usage: npm run bench:hostile -- [--duration S] [--rate R] [--unprotected]
  --duration     seconds per phase: baseline, fan-out, token flood (default 20)
  --rate         valid beacons per second during every phase (default 50)
  --unprotected  the same attacks with the defences off (no caps on views, no limit on failed
                 authentication, no stats-token cache), as the server was before them`);
  process.exit(0);
}
const DURATION = Number(args.duration);
const RATE = Number(args.rate);
for (const [flag, v] of [
  ['--duration', DURATION],
  ['--rate', RATE],
]) {
  if (!Number.isFinite(v) || v <= 0) {
    console.error(`bench:hostile: ${flag} must be a positive number`);
    process.exit(2);
  }
}

const dist = resolve(import.meta.dirname, '../dist');
const dataDir = mkdtempSync(join(tmpdir(), 'openqoe-bench-hostile-'));
const configFile = join(dataDir, 'config.json');
const OFF = {
  intake: { views: { maxInProgressPerEnv: 0, newPerSecondPerEnv: 0, maxInMemory: 100_000_000 } },
  auth: { maxFailuresPerAddress: 0, statsTokenCacheSize: 0 },
};
writeFileSync(
  configFile,
  JSON.stringify({ logLevel: 'warn', live: { rtmp: { port: 0 } }, ...(args.unprotected ? OFF : {}) }),
);
const child = spawn(
  process.execPath,
  [join(dist, 'cli.js'), 'serve', '--port', '0', '--data-dir', dataDir, '--config', configFile],
  { stdio: ['ignore', 'pipe', 'pipe'] },
);
let out = '';
child.stdout.on('data', (d) => (out += d));
child.stderr.on('data', (d) => (out += d));
const agents = [];
const stop = () => {
  for (const a of agents) a.destroy();
  child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
};
process.on('exit', stop);

const rssMiB = () =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]) / 1024;

/** A client bound to one loopback source address, over kept-alive connections. */
function client(base, localAddress) {
  const agent = new Agent({ keepAlive: true, maxSockets: 32, localAddress });
  agents.push(agent);
  return (method, path, body, headers = {}) =>
    new Promise((res, rej) => {
      const u = new URL(path, base);
      const req = request(
        { host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers, agent },
        (r) => {
          r.resume();
          r.on('end', () => res(r.statusCode));
        },
      );
      req.on('error', rej);
      req.end(body);
    });
}

const pct = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

try {
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
  const boot = JSON.parse(readFileSync(join(dataDir, 'bootstrap.json'), 'utf8'));
  const envKey = boot.environment.key;
  const auth = `Basic ${Buffer.from(`${boot.access_token.id}:${boot.access_token.secret}`).toString('base64')}`;
  const admin = client(url, '127.0.0.1');
  const post = async (path) =>
    (await fetch(`${url}${path}`, { method: 'POST', headers: { authorization: auth } })).json();
  const key = (await post('/system/v1/signing-keys')).data;
  const stream = (await post('/video/v1/live-streams')).data;
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: 'RS256', kid: key.id })
    .setSubject(stream.id)
    .setAudience('live_stream_id')
    .setExpirationTime(Math.floor(Date.now() / 1000) + 3600)
    .sign(createPrivateKey(Buffer.from(key.private_key, 'base64').toString()));
  const [h, p] = token.split('.');

  // The valid load: 200 continuing views, 5 samples per beacon, round robin.
  const seqs = new Array(200).fill(0);
  let turn = 0;
  const validBeacon = () => {
    const v = turn++ % seqs.length;
    const first = seqs[v];
    seqs[v] += 5;
    const now = Date.now();
    return JSON.stringify(
      makeBeacon({
        envKey,
        samples: Array.from({ length: 5 }, (_, i) =>
          makeSample({
            viewId: `valid-${v}`,
            sequenceNumber: first + i,
            state: first + i === 0 ? 'startup' : 'playing',
            timestamp: now - 5000 + i * 1000,
            durationMs: 1000,
            viewerTime: now - 4000 + i * 1000,
          }),
        ),
      }),
    );
  };

  async function phase(name, attack) {
    const latencies = [];
    const statuses = {};
    const pending = [];
    let peak = rssMiB();
    const rssTimer = setInterval(() => (peak = Math.max(peak, rssMiB())), 250);
    const until = Date.now() + DURATION * 1000;
    const attackDone = attack ? attack(until) : Promise.resolve('');
    const loadTimer = setInterval(() => {
      const started = performance.now();
      pending.push(
        admin('POST', '/v1/beacon', validBeacon(), { 'content-type': 'text/plain' }).then((s) => {
          latencies.push(performance.now() - started);
          statuses[s] = (statuses[s] ?? 0) + 1;
        }),
      );
    }, 1000 / RATE);
    await new Promise((r) => setTimeout(r, DURATION * 1000));
    clearInterval(loadTimer);
    await Promise.all(pending);
    const attackResult = await attackDone;
    clearInterval(rssTimer);
    latencies.sort((a, b) => a - b);
    return {
      name,
      beacons: latencies.length,
      statuses,
      p50: pct(latencies, 50),
      p99: pct(latencies, 99),
      max: latencies.at(-1),
      peakRss: Math.max(peak, rssMiB()),
      endRss: rssMiB(),
      attack: attackResult,
    };
  }

  const fanOut = async () => {
    let next = 0;
    const got = {};
    const sender = async (address) => {
      const send = client(url, address);
      while (next < 150) {
        const b = next++;
        const beacon = makeBeacon({
          envKey,
          events: Array.from({ length: 1000 }, (_, i) =>
            makeEvent({ viewId: `fan-${b}-${i}`, sequenceNumber: 0, type: 'playrequest', state: 'startup' }),
          ),
        });
        const s = await send('POST', '/v1/beacon', gzipSync(JSON.stringify(beacon)), {
          'content-type': 'text/plain',
          'content-encoding': 'gzip',
        });
        got[s] = (got[s] ?? 0) + 1;
      }
    };
    const senders = [];
    for (const a of ['127.0.0.6', '127.0.0.7', '127.0.0.8'])
      for (let i = 0; i < 3; i++) senders.push(sender(a));
    await Promise.all(senders);
    return `150 fan-out beacons: ${Object.entries(got)
      .map(([s, n]) => `${n} × ${s}`)
      .join(', ')}`;
  };

  const flood = async (until) => {
    const send = client(url, '127.0.0.2');
    const got = {};
    let i = 0;
    const worker = async () => {
      while (Date.now() < until) {
        const bogus = `${h}.${p}.${Buffer.from(`forged-${i++}`).toString('base64url')}`;
        const s = await send('GET', `/live-stream-health?token=${bogus}`);
        got[s] = (got[s] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    return `${i} bogus tokens: ${Object.entries(got)
      .map(([s, n]) => `${n} × ${s}`)
      .join(', ')}`;
  };

  const startRss = rssMiB();
  const results = [
    await phase('baseline', null),
    await phase('fan-out', fanOut),
    await phase('token flood', flood),
  ];
  console.log(
    `\n${cpus().length} cores, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(
        ' ',
      )}; server RSS at start ${startRss.toFixed(0)} MiB; ${RATE} valid beacons/s, ${DURATION} s per phase\n`,
  );
  console.log(
    '| phase | valid beacons (statuses) | p50 ms | p99 ms | max ms | peak RSS MiB | RSS at end MiB | the attack got |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const st = Object.entries(r.statuses)
      .map(([s, n]) => `${n} × ${s}`)
      .join(', ');
    console.log(
      `| ${r.name} | ${st} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.max.toFixed(1)} | ${r.peakRss.toFixed(0)} | ${r.endRss.toFixed(0)} | ${r.attack || '—'} |`,
    );
  }
} finally {
  stop();
}
