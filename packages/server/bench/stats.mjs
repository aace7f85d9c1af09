#!/usr/bin/env node
/**
 * `npm run bench:stats`: how fast the stats API checks tokens and answers.
 *
 * 1. Token verifications per second, in process, through the server's own
 *    verifier (RS256 with a 2048-bit key: header, key lookup, signature,
 *    claims), one at a time and 64 in flight.
 * 2. `GET /counts?token=` and `GET /live-stream-health?token=` requests per
 *    second over HTTP against `openqoe serve` (a child process on a temp data
 *    dir) holding --views active views spread over 100 video ids, with
 *    autocannon (--connections, --duration). Every request carries a token,
 *    so each one pays a signature check.
 */
import { spawn } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { SignJWT } from 'jose';

const { values: args } = parseArgs({
  options: {
    views: { type: 'string', default: '20000' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    verifications: { type: 'string', default: '5000' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(`usage: npm run bench:stats -- [--views N] [--duration S] [--connections C] [--verifications V]
  --views          active views loaded before the HTTP runs (default 20000)
  --duration       seconds per HTTP run (default 10)
  --connections    concurrent HTTP connections (default 50)
  --verifications  tokens verified in process (default 5000)`);
  process.exit(0);
}
const VIEWS = Number(args.views);
const DURATION = Number(args.duration);
const CONNECTIONS = Number(args.connections);
const VERIFICATIONS = Number(args.verifications);
for (const [flag, v] of [
  ['--views', VIEWS],
  ['--duration', DURATION],
  ['--connections', CONNECTIONS],
  ['--verifications', VERIFICATIONS],
]) {
  if (!Number.isFinite(v) || v <= 0) {
    console.error(`bench:stats: ${flag} must be a positive number`);
    process.exit(2);
  }
}

const dist = resolve(import.meta.dirname, '../dist');
const { LiveStore } = await import(join(dist, 'store/live-store.js'));
const { SigningKeys } = await import(join(dist, 'live/signing-keys.js'));
const { verifyStatsToken } = await import(join(dist, 'live/stats-token.js'));
const { makeBeacon, makeSample } = await import('@openqoe/schema');

const fmt = (n) => Math.round(n).toLocaleString('en-US').replace(/,/g, ' ');
console.log(
  `bench:stats on ${cpus().length} cores (${cpus()[0]?.model}), load average ${loadavg()[0].toFixed(2)}`,
);

// 1. In-process verifications: signing keys kept in memory by a store that holds one row.
{
  const rows = [];
  const store = new LiveStore({
    execute: async (sql, params = []) => {
      if (sql.startsWith('INSERT'))
        rows.push({ id: params[0], env_id: params[1], public_key: params[2], created_at: 0 });
      return sql.startsWith('SELECT') ? rows : [];
    },
  });
  const keys = await SigningKeys.load(store);
  const { key, privateKeyBase64 } = await keys.create('env');
  const pem = Buffer.from(privateKeyBase64, 'base64').toString();
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: 'RS256', kid: key.id })
    .setSubject('video-1')
    .setAudience('video_id')
    .setExpirationTime('1h')
    .sign(createPrivateKey(pem));
  for (let i = 0; i < 200; i++) await verifyStatsToken(token, keys, ['video_id']);
  // jose verifies with WebCrypto, which runs on libuv's thread pool: one at a time measures the
  // latency of a check, many in flight the throughput a busy server gets.
  let t0 = process.hrtime.bigint();
  for (let i = 0; i < VERIFICATIONS; i++) await verifyStatsToken(token, keys, ['video_id']);
  let s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(
    `token verifications, one at a time: ${fmt(VERIFICATIONS / s)}/s (${((s / VERIFICATIONS) * 1e6).toFixed(0)} µs each)`,
  );
  t0 = process.hrtime.bigint();
  for (let done = 0; done < VERIFICATIONS; done += 64) {
    await Promise.all(Array.from({ length: 64 }, () => verifyStatsToken(token, keys, ['video_id'])));
  }
  s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`token verifications, 64 in flight: ${fmt(VERIFICATIONS / s)}/s`);
}

// 2. Over HTTP against the real server.
const dataDir = mkdtempSync(join(tmpdir(), 'openqoe-bench-stats-'));
const configFile = join(dataDir, 'config.json');
writeFileSync(
  configFile,
  JSON.stringify({
    logLevel: 'warn',
    bus: { fsync: false },
    intake: {
      rateLimit: { perIpPerSecond: 0, perEnvKeyPerSecond: 0 },
      // Throughput runs: the caps on new views (intake.views) off, as the rate limits are.
      views: { maxInProgressPerEnv: 0, newPerSecondPerEnv: 0, maxInMemory: 100_000_000 },
    },
    views: { idleCompleteMs: 600_000 },
    live: { rtmp: { port: 0 } },
  }),
);
const child = spawn(
  process.execPath,
  [join(dist, 'cli.js'), 'serve', '--port', '0', '--data-dir', dataDir, '--config', configFile],
  {
    stdio: ['ignore', 'pipe', 'pipe'],
  },
);
let out = '';
child.stdout.on('data', (d) => (out += d));
child.stderr.on('data', (d) => (out += d));
const stop = () => {
  child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
};
process.on('exit', stop);
try {
  const url = await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`server did not start:\n${out}`)), 30_000);
    const check = () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res(m[1].replace('localhost', '127.0.0.1'));
      }
    };
    child.stdout.on('data', check);
  });
  const boot = JSON.parse(readFileSync(join(dataDir, 'bootstrap.json'), 'utf8'));
  const auth = `Basic ${Buffer.from(`${boot.access_token.id}:${boot.access_token.secret}`).toString('base64')}`;
  const post = async (path, body) => {
    const r = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { authorization: auth, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    return r.json();
  };
  const keyOut = (await post('/system/v1/signing-keys')).data;
  const stream = (await post('/video/v1/live-streams')).data;
  const priv = createPrivateKey(Buffer.from(keyOut.private_key, 'base64').toString());
  const mint = (aud, sub) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: keyOut.id })
      .setSubject(sub)
      .setAudience(aud)
      .setExpirationTime('1h')
      .sign(priv);

  // Active views: beacons of 100 views each through the real intake.
  const t0 = Date.now();
  for (let i = 0; i < VIEWS; i += 100) {
    const samples = [];
    for (let j = i; j < Math.min(VIEWS, i + 100); j++) {
      samples.push(
        makeSample({ viewId: `bench-${j}`, viewerId: `viewer-${j % 5000}`, videoId: `video-${j % 100}` }),
      );
    }
    const res = await fetch(`${url}/v1/beacon`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify(makeBeacon({ envKey: boot.environment.key, samples })),
    });
    if (res.status !== 202) throw new Error(`beacon answered ${res.status}: ${await res.text()}`);
  }
  const countsToken = await mint('video_id', 'video-7');
  for (;;) {
    const r = await (await fetch(`${url}/counts?token=${countsToken}`)).json();
    if (r.data[0].views === VIEWS / 100) break;
    if (Date.now() - t0 > 120_000) throw new Error(`views not applied: ${JSON.stringify(r)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  console.log(
    `loaded ${fmt(VIEWS)} active views over 100 video ids in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );

  const run = (title, path) =>
    new Promise((res, rej) => {
      autocannon({ url: `${url}${path}`, connections: CONNECTIONS, duration: DURATION }, (err, r) => {
        if (err) return rej(err);
        console.log(
          `${title}: ${fmt(r.requests.average)} requests/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, non-2xx ${r.non2xx}, errors ${r.errors}`,
        );
        res(r);
      });
    });
  await run('GET /counts', `/counts?token=${countsToken}`);
  await run(
    'GET /live-stream-health',
    `/live-stream-health?token=${await mint('live_stream_id', stream.id)}`,
  );
} finally {
  stop();
}
