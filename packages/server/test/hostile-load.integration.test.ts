/**
 * Hostile input and load against the real server CLI over real sockets
 * (issue "Hold under faults"): absurd field values refused by name or
 * corrected, device clocks far off kept within a view's receipts, floods of
 * bogus tokens limited per client address (127.0.0.x source addresses), a
 * fan-out of new view ids refused before its 202 past the view caps with
 * every accepted view stored and memory bounded, and the hostile battery
 * (nesting, bombs, huge arrays, unknown keys, wrong types) on the Mux and
 * CMCD intakes. Outcomes only: statuses, envelopes, rows, metrics.
 */

import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, type ClientRequest, type IncomingMessage, request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { gzipSync } from 'node:zlib';
import { type ErrorEnvelope, makeBeacon, makeEvent, makeSample } from '@openqoe/schema';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { minifyKey } from '../src/intake/mux/mux-keys.js';
import { call, createLiveStream, createSigningKey } from './helpers/live.js';
import {
  muxListenerOf,
  postBeacon,
  readMetric,
  removeDir,
  type ServerProcess,
  startServer,
  TEST_CONFIG,
  waitFor,
} from './helpers/server-process.js';

/** A burst above the per-key cap: the fan-out meets the cap on views in progress whatever the machine's speed. */
const CAPS = { maxInProgressPerEnv: 20_000, newPerSecondPerEnv: 1000, newBurstPerEnv: 25_000 };
const MAX_AUTH_FAILURES = 30;
/** The RSS the server must stay under through the fan-out (it was 1 034 MiB without caps). */
const RSS_BOUND_MIB = 700;

let server: ServerProcess;
let muxUrl: URL;
let ca: string;
const envKey = () => server.bootstrap().environment.key;

beforeAll(async () => {
  server = await startServer({
    config: {
      ...TEST_CONFIG,
      compat: { mux: { enabled: true, port: 0 } },
      views: { idleCompleteMs: 2000, gapTimeoutMs: 1000, tickIntervalMs: 200 },
      intake: { ...TEST_CONFIG.intake, views: CAPS },
      // A long window: the limit must hold however slowly the flood goes on a busy machine.
      auth: { maxFailuresPerAddress: MAX_AUTH_FAILURES, failureWindowMs: 600_000 },
    },
  });
  ({ url: muxUrl, ca } = muxListenerOf(server));
});

afterAll(async () => {
  await server?.kill();
  if (server) removeDir(server.dataDir);
});

interface Reply {
  status: number;
  json: unknown;
  headers: Record<string, string | string[] | undefined>;
}

const parse = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

/** Sends one request and reads its answer (JSON when it parses). */
function exchange(
  send: (onResponse: (res: IncomingMessage) => void) => ClientRequest,
  body?: string | Buffer,
) {
  return new Promise<Reply>((resolve, reject) => {
    const req = send((res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          json: parse(Buffer.concat(chunks).toString()),
          headers: res.headers,
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

const agents = new Map<string, Agent>();
/** One HTTP request from the loopback source address `from` (127.0.0.x), over a kept-alive connection. */
function from(
  address: string,
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<Reply> {
  let agent = agents.get(address);
  if (!agent) {
    agent = new Agent({ keepAlive: true, maxSockets: 8, localAddress: address });
    agents.set(address, agent);
  }
  const url = new URL(path, server.url);
  const options = {
    host: url.hostname,
    port: url.port,
    path: url.pathname + url.search,
    method,
    headers,
    agent,
  };
  return exchange((onResponse) => request(options, onResponse), body);
}
afterAll(() => {
  for (const a of agents.values()) a.destroy();
});

function mux(body: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  const options = {
    host: '127.0.0.1',
    port: muxUrl.port,
    path: '/',
    method: 'POST',
    ca,
    headers: { 'content-type': 'text/plain', ...headers },
  };
  return exchange((onResponse) => httpsRequest(options, onResponse), body);
}

const cmcd = (body: string | Buffer, headers: Record<string, string> = {}) =>
  from('127.0.0.1', 'POST', `/v1/cmcd/${envKey()}`, body, { 'content-type': 'application/cmcd', ...headers });

function muxEvent(full: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(full)) out[minifyKey(k)] = v;
  return out;
}
const muxBase = (viewId: string, extra: Record<string, unknown> = {}) =>
  muxEvent({
    env_key: envKey(),
    view_id: viewId,
    view_sequence_number: 1,
    viewer_time: Date.now(),
    event: 'viewstart',
    ...extra,
  });

function refusal(res: Reply, status: number, code?: string): ErrorEnvelope['error'] {
  expect(res.status, JSON.stringify(res.json).slice(0, 400)).toBe(status);
  const err = (res.json as ErrorEnvelope).error;
  if (code) expect(err.code).toBe(code);
  expect(err.messages.length).toBeGreaterThan(0);
  return err;
}

async function storedView(id: string, environmentId?: string): Promise<Record<string, unknown> | null> {
  const q = environmentId ? `?environment_id=${environmentId}` : '';
  const res = await call(server, 'GET', `/data/v1/video-views/${encodeURIComponent(id)}${q}`);
  return res.status === 200 ? (res.json as { data: Record<string, unknown> }).data : null;
}

describe('field bounds', () => {
  it('native: 1e308 and over-a-day durations are refused, each field named', async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['samples[0].liveLatencyMs', { sample: { liveLatencyMs: 1e308 } }, 'liveLatencyMs'],
      ['samples[0].requestTtfbTotalMs', { sample: { requestTtfbTotalMs: 1e308 } }, ''],
      ['samples[0].requestTransferTotalMs', { sample: { requestTransferTotalMs: 86_400_001 } }, ''],
      ['samples[0].videoTimeStartMs', { sample: { videoTimeStartMs: 1e308 } }, ''],
      ['samples[0].videoTimeEndMs', { sample: { videoTimeEndMs: 1e300 } }, ''],
      ['samples[0].durationMs', { sample: { durationMs: 86_400_001 } }, ''],
      ['samples[0].videoStartupTimeMs', { sample: { videoStartupTimeMs: 1e308 } }, ''],
      ['events[0].playheadMs', { event: { playheadMs: 1e308 } }, ''],
    ];
    for (const [path, c] of cases) {
      const beacon = makeBeacon({
        envKey: envKey(),
        samples: c['sample'] ? [makeSample({ viewId: 'bounds-1', ...(c['sample'] as object) })] : [],
        events: c['event'] ? [makeEvent({ viewId: 'bounds-1', ...(c['event'] as object) })] : [],
      });
      const res = await postBeacon(server.url, JSON.stringify(beacon), { 'content-type': 'text/plain' });
      const err = refusal({ ...res, headers: {} }, 400, 'QOE_ERR_VALIDATION');
      expect(err.fields.map((f) => f.path)).toContain(path);
    }
    // A live stream's playhead months in is a position, not a duration: accepted.
    const months = makeBeacon({
      envKey: envKey(),
      samples: [
        makeSample({
          viewId: 'bounds-2',
          videoTimeStartMs: 90 * 86_400_000,
          videoTimeEndMs: 90 * 86_400_000 + 10_000,
        }),
      ],
    });
    expect(
      (await postBeacon(server.url, JSON.stringify(months), { 'content-type': 'text/plain' })).status,
    ).toBe(202);
  });

  it('Mux and CMCD: the numbers their mappings read are bounded the same way, named', async () => {
    for (const [key, value] of [
      ['player_playhead_time', 1e308],
      ['page_load_time', 1e308],
      ['player_startup_time', 86_400_001],
      ['video_source_bitrate', '1e308'],
    ] as const) {
      const err = refusal(
        await mux(JSON.stringify({ events: [muxBase('mux-bounds', { [key]: value })] })),
        400,
      );
      expect(err.fields[0]!.path).toBe(`events[0].${minifyKey(key)}`);
      expect(err.fields[0]!.problem).toContain(key);
    }
    for (const key of ['ltc', 'ttfb', 'msd', 'pt']) {
      const err = refusal(
        await cmcd(`e=ps,sta=p,sid="cmcd-bounds",sn=0,ts=${Date.now()},${key}=999999999999999\n`),
        400,
      );
      expect(err.fields.map((f) => f.path)).toContain(`line 1.${key}`);
    }
  });
});

describe('device clocks', () => {
  /** A 10 s view sent as one beacon: `deviceNow` is the device's clock, `sentAt` what the beacon says. */
  async function clockView(viewId: string, deviceNow: number, sentAt: number) {
    const t0 = deviceNow - 10_000;
    const beacon = makeBeacon({
      envKey: envKey(),
      sentAt,
      events: [
        makeEvent({ viewId, sequenceNumber: 0, type: 'playrequest', state: 'startup', viewerTime: t0 }),
        makeEvent({ viewId, sequenceNumber: 3, type: 'viewend', state: 'playing', viewerTime: t0 + 10_000 }),
      ],
      samples: [
        makeSample({
          viewId,
          sequenceNumber: 1,
          state: 'startup',
          timestamp: t0,
          durationMs: 500,
          viewerTime: t0 + 500,
        }),
        makeSample({
          viewId,
          sequenceNumber: 2,
          state: 'playing',
          timestamp: t0 + 500,
          durationMs: 9500,
          viewerTime: t0 + 10_000,
        }),
      ],
    });
    const before = Date.now();
    expect(
      (await postBeacon(server.url, JSON.stringify(beacon), { 'content-type': 'text/plain' })).status,
    ).toBe(202);
    const after = Date.now();
    let v: Record<string, unknown> | null = null;
    await waitFor(async () => {
      v = await storedView(viewId);
      return v?.['status'] === 'completed';
    }, `view ${viewId}`);
    const start = Date.parse(String(v!['view_start']));
    const end = Date.parse(String(v!['view_end']));
    return { start, end, before, after, corrected: v!['clock_corrected'] };
  }

  it('timestamp 0 does not give a view in 1970: within the slack before its receipt, flagged', async () => {
    const r = await clockView('clock-1970', 10_000, Date.now());
    expect(r.start).toBeGreaterThanOrEqual(r.before - 300_000);
    expect(r.end).toBeLessThanOrEqual(r.after);
    expect(r.corrected).toBe(true);
  });

  it('sentAt 0 does not date a view in 2083: nothing after the server’s now, flagged', async () => {
    const r = await clockView('clock-2083', Date.now(), 0);
    expect(r.start).toBeGreaterThanOrEqual(r.before - 300_000);
    expect(r.end).toBeLessThanOrEqual(r.after);
    expect(r.corrected).toBe(true);
  });

  it('a clock a day slow is corrected by its offset, the view where it happened, flagged', async () => {
    const day = 86_400_000;
    const r = await clockView('clock-slow', Date.now() - day, Date.now() - day);
    expect(r.start).toBeGreaterThanOrEqual(r.before - 11_000);
    expect(r.start).toBeLessThanOrEqual(r.after - 9_000);
    expect(r.end - r.start).toBe(10_000);
    expect(r.corrected).toBe(true);
  });

  it('an honest clock is not flagged', async () => {
    const r = await clockView('clock-fine', Date.now(), Date.now());
    expect(r.corrected).toBe(false);
  });
});

describe('token floods', () => {
  it('10 000 bogus stats tokens from one address: 429 past the limit; valid tokens from another address all answered', async () => {
    const key = await createSigningKey(server);
    const stream = await createLiveStream(server);
    const valid = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: key.id })
      .setSubject(stream.id)
      .setAudience('live_stream_id')
      .setExpirationTime(Math.floor(Date.now() / 1000) + 3600)
      .sign(createPrivateKey(key.privateKeyPem));
    // Well-formed, naming the real key, wrongly signed: each one would cost a full RS256 verification.
    const [h, p] = valid.split('.');
    const bogus = (i: number) => `${h}.${p}.${Buffer.from(`forged-${i}`).toString('base64url')}`;

    const statuses = new Map<number, number>();
    const validStatuses = new Map<number, number>();
    let retryAfter: string | undefined;
    let sent = 0;
    const flood = async () => {
      while (sent < 10_000) {
        const i = sent++;
        const res = await from(
          '127.0.0.2',
          'GET',
          `/live-stream-health?token=${encodeURIComponent(bogus(i))}`,
        );
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 429) {
          retryAfter ??= String(res.headers['retry-after']);
          expect((res.json as ErrorEnvelope).error.code).toBe('QOE_ERR_RATE_LIMITED');
        }
      }
    };
    let flooding = true;
    const legit = async () => {
      while (flooding) {
        const res = await from('127.0.0.3', 'GET', `/live-stream-health?token=${encodeURIComponent(valid)}`);
        validStatuses.set(res.status, (validStatuses.get(res.status) ?? 0) + 1);
      }
    };
    const legitDone = legit();
    await Promise.all(Array.from({ length: 8 }, flood));
    flooding = false;
    await legitDone;

    expect(statuses.get(401)).toBe(MAX_AUTH_FAILURES);
    expect(statuses.get(429)).toBe(10_000 - MAX_AUTH_FAILURES);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    // The other address: every answer a 200 with the stream's health.
    expect([...validStatuses.keys()]).toEqual([200]);
    expect(validStatuses.get(200)).toBeGreaterThan(0);
  });

  it('wrong access tokens on the APIs: limited per address too; the admin elsewhere unaffected', async () => {
    const wrong = `Basic ${Buffer.from('no-such-token:secret').toString('base64')}`;
    const codes: number[] = [];
    for (let i = 0; i < MAX_AUTH_FAILURES + 10; i++)
      codes.push(
        (await from('127.0.0.4', 'GET', '/data/v1/video-views', undefined, { authorization: wrong })).status,
      );
    expect(codes.filter((c) => c === 401)).toHaveLength(MAX_AUTH_FAILURES);
    expect(codes.slice(MAX_AUTH_FAILURES).every((c) => c === 429)).toBe(true);
    const admin = await from('127.0.0.5', 'GET', '/data/v1/video-views', undefined, {
      authorization: server.adminAuth(),
    });
    expect(admin.status).toBe(200);
  });
});

/** VmRSS of the server process, MiB. */
function rssMiB(): number {
  const status = readFileSync(`/proc/${server.child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

describe('fan-out of new view ids', () => {
  it('150 gzip beacons of 1 000 new views: refused past the caps before their 202, memory bounded, every accepted view stored', async () => {
    const env = await call(server, 'POST', '/system/v1/environments', server.adminAuth(), {
      name: 'fan-out',
    });
    const { id: envId, key } = (env.json as { data: { id: string; key: string } }).data;
    const accepted: string[][] = [];
    const refused: string[][] = [];
    const messages = new Set<string>();
    let peakRss = rssMiB();
    let next = 0;
    const sender = async (address: string) => {
      while (next < 150) {
        const b = next++;
        const ids = Array.from({ length: 1000 }, (_, i) => `fan-${b}-${i}`);
        const beacon = makeBeacon({
          envKey: key,
          events: ids.map((viewId) =>
            makeEvent({ viewId, sequenceNumber: 0, type: 'playrequest', state: 'startup' }),
          ),
        });
        const res = await from(address, 'POST', '/v1/beacon', gzipSync(JSON.stringify(beacon)), {
          'content-type': 'text/plain',
          'content-encoding': 'gzip',
        });
        if (res.status === 202) accepted.push(ids);
        else {
          const err = refusal(res, 429, 'QOE_ERR_RATE_LIMITED');
          expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
          for (const m of err.messages) messages.add(m.replace(/\d+/g, 'N'));
          refused.push(ids);
        }
        peakRss = Math.max(peakRss, rssMiB());
      }
    };
    await Promise.all(['127.0.0.6', '127.0.0.7', '127.0.0.8'].map(sender));
    const views = accepted.length * 1000;
    expect(accepted.length + refused.length).toBe(150);
    // 20 beacons fit the per-key cap exactly; every later one is refused, naming it.
    expect(views).toBe(CAPS.maxInProgressPerEnv);
    expect([...messages]).toEqual([
      'This environment has N views in progress; N more would pass intake.views.maxInProgressPerEnv (N)',
    ]);
    expect(await readMetric(server, `openqoe_intake_env_views_in_progress{env_id="${envId}"}`)).toBe(views);

    // Every accepted view stored, none of a refused beacon.
    await waitFor(async () => {
      const res = await call(server, 'GET', `/data/v1/video-views?environment_id=${envId}&limit=1`);
      peakRss = Math.max(peakRss, rssMiB());
      return (res.json as { total_row_count: number }).total_row_count === views;
    }, `${views} views stored`);
    for (const ids of refused.slice(0, 3)) expect(await storedView(ids[0]!, envId)).toBeNull();
    expect(await storedView(accepted[0]![0]!, envId)).not.toBeNull();
    console.log(
      `fan-out: ${views} views accepted, ${refused.length} beacons refused, peak RSS ${peakRss.toFixed(0)} MiB`,
    );
    expect(peakRss).toBeLessThan(RSS_BOUND_MIB);
  });
});

describe('the hostile battery on the Mux and CMCD intakes', () => {
  const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;

  it('Mux: deep nesting, a gzip bomb, huge arrays, unknown keys, wrong types: 4xx naming the problem', async () => {
    refusal(await mux(`{"events": ${deep(100_000)}}`), 400);
    refusal(await mux(`{"events": [${'{'.repeat(50_000)}`), 400, 'QOE_ERR_INVALID_JSON');
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, ' '));
    refusal(await mux(bomb, { 'content-encoding': 'gzip' }), 413, 'QOE_ERR_DECOMPRESSED_TOO_LARGE');
    const many = JSON.stringify({ events: Array.from({ length: 100_000 }, () => 0) });
    expect(refusal(await mux(many), 400).fields[0]!.path).toBe('events');
    const keys: Record<string, unknown> = muxBase('mux-keys');
    for (let i = 0; i < 5000; i++) keys[`zz_unknown_${i}`] = i;
    expect(refusal(await mux(JSON.stringify({ events: [keys] })), 400).fields[0]!.problem).toMatch(
      /at most \d+ keys/,
    );
    const wrong = refusal(
      await mux(JSON.stringify({ events: [{ ...muxBase('mux-types'), [minifyKey('view_id')]: 12345 }] })),
      400,
    );
    expect(wrong.fields[0]!.path).toBe(`events[0].${minifyKey('view_id')}`);
    const nested = refusal(
      await mux(
        JSON.stringify({ events: [{ ...muxBase('mux-types'), [minifyKey('viewer_time')]: [1, 2] }] }),
      ),
      400,
    );
    expect(nested.fields[0]!.problem).toContain('viewer_time');
    refusal(await mux(JSON.stringify({ events: 'all of them' })), 400);
  });

  it('CMCD: deep nesting, a gzip bomb, huge bodies, unknown keys, wrong types: 4xx naming the problem', async () => {
    refusal(await cmcd(`sid="${deep(50_000)}",sn=0`), 400);
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 'a'));
    refusal(await cmcd(bomb, { 'content-encoding': 'gzip' }), 413, 'QOE_ERR_DECOMPRESSED_TOO_LARGE');
    const lines = Array.from({ length: 200_000 }, (_, i) => `sid="many",sn=${i}`).join('\n');
    refusal(await cmcd(lines), 413);
    const reports = Array.from({ length: 20_000 }, (_, i) => `sid="many",sn=${i}`).join('\n');
    expect(refusal(await cmcd(reports), 400).fields[0]!.path).toBe('body');
    const wrong = refusal(await cmcd('e=ps,sta=p,sid="x",sn="zero",ts=1700000000000\n'), 400);
    expect(wrong.fields[0]!.path).toBe('line 1.sn');
    const typed = refusal(await cmcd(`e=ps,sta=p,sid="x",sn=0,ts=${Date.now()},ltc="soon"\n`), 400);
    expect(typed.fields[0]!.path).toBe('line 1.ltc');
    // Unknown keys are CMCD's custom keys: kept, not refused; thousands of them still cost one bounded report.
    const custom = Array.from({ length: 2000 }, (_, i) => `com.example-k${i}=${i}`).join(',');
    expect((await cmcd(`e=ps,sta=p,sid="custom",sn=0,ts=${Date.now()},${custom}\n`)).status).toBeLessThan(
      500,
    );
  });

  it('the server is alive and serving after all of it', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(server.child.exitCode).toBeNull();
    const ok = makeBeacon({ envKey: envKey(), samples: [makeSample({ viewId: 'after-all' })] });
    expect((await postBeacon(server.url, JSON.stringify(ok), { 'content-type': 'text/plain' })).status).toBe(
      202,
    );
  });
});
