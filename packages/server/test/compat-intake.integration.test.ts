/**
 * The drop-in intakes over real sockets to the real CLI: the Mux protocol on
 * its TLS listener (the self-signed certificate it generated is the trust
 * anchor) and CMCD on the main listener. Hand-made traffic with hand-computed
 * metrics: delta merging and sequence order (a beacon whose events arrive
 * before the earlier ones), gzip on /android, request-mode CMCD; then bad
 * input, each refused with the field named (or, for a delta of an unknown
 * view, recorded), and the server still serving.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { ErrorEnvelope } from '@openqoe/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { minifyKey } from '../src/intake/mux/mux-keys.js';
import { track } from './helpers/processes.js';
import {
  CLI,
  muxListenerOf,
  readMetric,
  removeDir,
  type ServerProcess,
  startServer,
  TEST_CONFIG,
  waitFor,
} from './helpers/server-process.js';

let server: ServerProcess;
let muxUrl: URL;
let ca: string;

beforeAll(async () => {
  server = await startServer({
    config: {
      ...TEST_CONFIG,
      compat: { mux: { enabled: true, port: 0, envKeys: { 'mux-env-key': 'placeholder' } } },
      views: { idleCompleteMs: 2000, gapTimeoutMs: 1000, tickIntervalMs: 200 },
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
}

/** One HTTPS request to the Mux-protocol listener, trusting only its own certificate. */
function mux(path: string, body: string | Buffer, headers: Record<string, string> = {}, method = 'POST') {
  return new Promise<Reply>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: muxUrl.port,
        path,
        method,
        ca,
        headers: { 'content-type': 'text/plain', ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let json: unknown = text;
          try {
            json = JSON.parse(text);
          } catch {}
          resolve({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on('error', reject);
    if (method !== 'GET') req.end(body);
    else req.end();
  });
}

async function cmcd(
  envKey: string,
  body: string,
  headers: Record<string, string> = {},
  query = '',
): Promise<Reply> {
  const res = await fetch(`${server.url}/v1/cmcd/${envKey}${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/cmcd', ...headers },
    body,
  });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, json };
}

async function view(id: string): Promise<Record<string, unknown> | null> {
  const res = await fetch(`${server.url}/data/v1/video-views/${encodeURIComponent(id)}`, {
    headers: { authorization: server.adminAuth() },
  });
  if (res.status === 404) return null;
  return ((await res.json()) as { data: Record<string, unknown> }).data;
}

async function completedView(id: string): Promise<Record<string, unknown>> {
  let v: Record<string, unknown> | null = null;
  await waitFor(async () => {
    v = await view(id);
    return v !== null && v['status'] === 'completed';
  }, `view ${id}`);
  return v!;
}

/** A Mux event, written with full keys and sent minified as the SDK does. */
function muxEvent(full: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(full)) out[minifyKey(k)] = v;
  return out;
}

function refusal(res: Reply, status: number, code: string): ErrorEnvelope['error'] {
  expect(res.status, JSON.stringify(res.json).slice(0, 400)).toBe(status);
  const err = (res.json as ErrorEnvelope).error;
  expect(err.code).toBe(code);
  expect(err.messages.length).toBeGreaterThan(0);
  return err;
}

const envKey = () => server.bootstrap().environment.key;

describe('Mux-protocol intake', () => {
  it('GET / answers 200 (the custom-domain health check)', async () => {
    expect((await mux('/', '', {}, 'GET')).status).toBe(200);
  });

  it('merges deltas in sequence order: metrics from hand-made events, dimensions kept from the snapshot', async () => {
    const t0 = Date.now() - 20_000;
    const always = (seq: number, event: string, at: number, playhead = 0) => ({
      env_key: envKey(),
      view_id: 'mux-hand-1',
      view_sequence_number: seq,
      player_sequence_number: seq,
      viewer_time: t0 + at,
      player_playhead_time: playhead,
      event,
      player_instance_id: 'p-1',
    });
    const snapshot = {
      video_title: 'Hand made',
      video_id: 'v-hand',
      player_name: 'hand player',
      custom_1: 'one',
      video_source_url: 'https://cdn.example/x/master.m3u8',
      viewer_os_family: 'Linux',
      some_future_key: 'kept raw',
      video_source_duration: 12_800,
    };
    const events = [
      muxEvent({ ...always(1, 'viewstart', 0), ...snapshot }),
      muxEvent({ ...always(2, 'play', 100) }),
      muxEvent({ ...always(3, 'playing', 900) }),
      muxEvent({ ...always(4, 'rebufferstart', 5_000, 4100) }),
      muxEvent({ ...always(5, 'rebufferend', 6_500, 4100), custom_1: 'two' }),
      muxEvent({ ...always(6, 'pause', 8_000, 5600) }),
      muxEvent({ ...always(7, 'play', 9_000, 5600) }),
      muxEvent({ ...always(8, 'playing', 9_200, 5600) }),
      muxEvent({ ...always(9, 'viewend', 10_000, 6400) }),
    ];
    // The later half first (a retried batch overtaken by the next one): held until the gap fills.
    const late = await mux(
      '/',
      JSON.stringify({ metadata: { transmission_timestamp: t0 + 10_000 }, events: events.slice(4) }),
    );
    expect(late.status).toBe(200);
    const early = await mux(
      '/android',
      gzipSync(
        JSON.stringify({ metadata: { transmission_timestamp: t0 + 4_000 }, events: events.slice(0, 4) }),
      ),
      { 'content-encoding': 'gzip' },
    );
    expect(early.status).toBe(200);
    const v = await completedView('mux-hand-1');
    expect(v).toMatchObject({
      outcome: 'success',
      completion_reason: 'explicit_end',
      // The play was asked for at viewstart (0; mux-embed sends viewstart on the first play,
      // before stamping its `play`) → playing at 900
      video_startup_time_ms: 900,
      rebuffer_count: 1,
      rebuffer_duration_ms: 1500,
      // 800 startup + 4100 + 1500 + 1500 playing (6500 → 8000) + 800 (9200 → 10000); the paused second is not watch time
      watch_time_ms: 800 + 4100 + 1500 + 1500 + 800,
      video_title: 'Hand made',
      video_id: 'v-hand',
      player_name: 'hand player',
      custom_data_1: 'two',
      stream_format: 'hls',
      // The furthest playhead reached playing (6400 at viewend) over video_source_duration.
      video_duration_ms: 12_800,
      completion_percentage: 50,
    });
  });
});

describe('CMCD intake', () => {
  it('event-mode reports: startup from s → p, one rebuffer from r → p, quit ends the view', async () => {
    const t0 = Date.now() - 20_000;
    const sid = 'cmcd-hand-1';
    const line = (sn: number, at: number, extra: string) =>
      `${extra},sid="${sid}",cid="c-1",sf=h,st=v,v=2,sn=${sn},ts=${t0 + at}`;
    const body = [
      line(0, 0, 'e=ps,sta=s'),
      line(1, 600, 'e=ps,sta=p'),
      line(2, 1000, `e=rr,sta=p,rc=200,ttfb=40,url="https://edge.example/seg1.ts"`),
      line(3, 3000, 'e=ps,sta=r'),
      line(4, 4200, 'e=ps,sta=p'),
      line(5, 6000, 'e=bc,sta=p,br=(1500)'),
      line(6, 9000, 'e=ps,sta=q'),
    ].join('\n');
    const res = await cmcd(envKey(), `${body}\n`);
    expect(res).toEqual({ status: 200, json: { reports: 7 } });
    const v = await completedView(sid);
    expect(v).toMatchObject({
      outcome: 'success',
      video_startup_time_ms: 600,
      rebuffer_count: 1,
      rebuffer_duration_ms: 1200,
      video_id: 'c-1',
      stream_format: 'hls',
      stream_type: 'vod',
      cdn_host: 'edge.example',
      request_count: 1,
      request_ttfb_ms: 40,
      sdk_name: 'cmcd',
    });
  });

  it('a wall-clock ttfb (as dash.js 5.2 sends): the key is dropped and named, the request kept, the mean TTFB over timed requests', async () => {
    const t0 = Date.now() - 20_000;
    const sid = 'cmcd-wall-ttfb';
    const line = (sn: number, at: number, extra: string) =>
      `${extra},sid="${sid}",sf=d,st=v,v=2,sn=${sn},ts=${t0 + at}`;
    const url = 'url="https://edge.example/seg.m4s"';
    const before = await readMetric(server, 'openqoe_intake_keys_ignored_total{source="cmcd",key="ttfb"}');
    const body = [
      line(0, 0, 'e=ps,sta=s'),
      line(1, 600, 'e=ps,sta=p'),
      line(2, 1000, `e=rr,sta=p,rc=200,ttfb=40,ttlb=90,${url}`),
      // The page's time origin plus the real TTFB: after the report's own time to last byte.
      line(3, 1500, `e=rr,sta=p,rc=200,ttfb=${t0 + 1500 - 611},ttlb=180,${url}`),
      // No time to last byte: a time of day before the report's ts, never a duration.
      line(4, 2000, `e=rr,sta=p,rc=200,ttfb=${t0 - 5000},${url}`),
      // No ttfb at all (the target does not list it): a request with no TTFB.
      line(5, 2500, `e=rr,sta=p,rc=200,ttlb=70,${url}`),
      line(6, 4000, 'e=ps,sta=q'),
    ].join('\n');
    const res = await cmcd(envKey(), `${body}\n`);
    expect(res.status).toBe(200);
    const answer = res.json as {
      reports: number;
      ignored_count: number;
      ignored: { path: string; problem: string }[];
    };
    expect(answer.reports).toBe(7);
    expect(answer.ignored_count).toBe(2);
    expect(answer.ignored.map((f) => f.path)).toEqual(['line 4.ttfb', 'line 5.ttfb']);
    expect(answer.ignored[0]!.problem).toMatch(/time of day, not a duration.*ignored/);
    const v = await completedView(sid);
    // Four requests; the mean TTFB is the one timed request's, not 40 ÷ 4.
    expect(v).toMatchObject({ request_count: 4, request_ttfb_ms: 40, cdn_host: 'edge.example' });
    expect(
      (await readMetric(server, 'openqoe_intake_keys_ignored_total{source="cmcd",key="ttfb"}')) - before,
    ).toBe(2);
    // A ttfb past any time of day is still refused by name.
    const refused = await cmcd(
      envKey(),
      `${line(0, 0, `e=rr,rc=200,ttfb=${Date.now() + 86_400_000 * 400}`)}\n`,
    );
    expect(refused.status).toBe(400);
  });

  it('request mode: the CMCD= query and CMCD-* headers are decoded too (text/cmcd accepted)', async () => {
    const q = `?CMCD=${encodeURIComponent('sid="cmcd-req-1",sn=0,sta=s,ts=' + (Date.now() - 5000))}`;
    expect((await cmcd(envKey(), '', {}, q)).status).toBe(200);
    const h = await cmcd(envKey(), '', {
      'content-type': 'text/cmcd',
      'CMCD-Session': 'sid="cmcd-req-1",cid="req"',
      'CMCD-Request': 'sn=1',
      'CMCD-Status': `sta=p`,
    });
    expect(h.status).toBe(200);
    await waitFor(async () => (await view('cmcd-req-1')) !== null, 'the request-mode view');
  });
});

describe('per-view Mux state after kill -9', () => {
  it('is rebuilt from the log: deltas sent after a restart merge with the snapshot sent before it', async () => {
    const config = {
      ...TEST_CONFIG,
      compat: { mux: { enabled: true, port: 0 } },
      views: { idleCompleteMs: 2000, tickIntervalMs: 200 },
    };
    let s = await startServer({ config });
    const dataDir = s.dataDir;
    const key = s.bootstrap().environment.key;
    const t0 = Date.now() - 20_000;
    const ev = (seq: number, event: string, at: number, extra: Record<string, unknown> = {}) =>
      muxEvent({
        env_key: key,
        view_id: 'mux-restart-1',
        view_sequence_number: seq,
        viewer_time: t0 + at,
        event,
        ...extra,
      });
    const post = async (server: ServerProcess, events: Record<string, unknown>[]) => {
      const port = /Mux-protocol intake: https:\/\/[^:]+:(\d+)/.exec(server.output())![1]!;
      const tlsCa = readFileSync(join(server.dataDir, 'compat-tls', 'self-signed-cert.pem'), 'utf8');
      return new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            path: '/',
            method: 'POST',
            ca: tlsCa,
            headers: { 'content-type': 'text/plain' },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end(JSON.stringify({ events }));
      });
    };
    try {
      expect(
        await post(s, [
          ev(1, 'viewstart', 0, { video_title: 'Survives a restart', custom_2: 'kept' }),
          ev(2, 'play', 100),
          ev(3, 'playing', 700),
          ev(4, 'rebufferstart', 3000),
        ]),
      ).toBe(200);
      await s.kill('SIGKILL');
      s = await startServer({ dataDir, config });
      expect(await post(s, [ev(5, 'rebufferend', 3900), ev(6, 'viewend', 6000)])).toBe(200);
      let v: Record<string, unknown> | undefined;
      await waitFor(async () => {
        const res = await fetch(`${s.url}/data/v1/video-views/mux-restart-1`, {
          headers: { authorization: s.adminAuth() },
        });
        if (res.status !== 200) return false;
        v = ((await res.json()) as { data: Record<string, unknown> }).data;
        // Idle after the restart, it was stored once already; the view end completes it again.
        return v['completion_reason'] === 'explicit_end';
      }, 'the restarted view');
      expect(v).toMatchObject({
        video_title: 'Survives a restart',
        custom_data_2: 'kept',
        // viewstart (the play request) at 0 → playing at 700
        video_startup_time_ms: 700,
        rebuffer_count: 1,
        rebuffer_duration_ms: 900,
        completion_reason: 'explicit_end',
      });
    } finally {
      await s.kill();
      removeDir(dataDir);
    }
  });
});

describe('openqoe import-cmcd', () => {
  it('imports CDN log lines with CMCD= query parameters (v1 lines numbered in file order), with progress; twice counts once', async () => {
    const t0 = Date.now() - 30_000;
    const url = (cmcd: string) =>
      `127.0.0.1 - - [21/Nov/2026:12:00:00 +0000] "GET /v/seg_1.ts?x=1&CMCD=${encodeURIComponent(cmcd)} HTTP/1.1" 200 5120`;
    const log = join(server.dataDir, 'cdn.log');
    writeFileSync(
      log,
      [
        url(`sid="imp-1",cid="imported",sf=h,st=v,su,ts=${t0}`),
        'a line with no CMCD at all',
        url(`sid="imp-1",cid="imported",sf=h,st=v,su,ts=${t0 + 700}`),
        url(`sid="imp-1",cid="imported",sf=h,st=v,ts=${t0 + 900}`),
        url(`sid="imp-1",cid="imported",sf=h,st=v,ts=${t0 + 5000}`),
      ].join('\n'),
    );
    const run = () =>
      new Promise<{ code: number; stderr: string }>((resolve) => {
        track(
          execFile(
            process.execPath,
            [CLI, 'import-cmcd', log, '--url', server.url, '--env-key', envKey()],
            (err, _stdout, stderr) =>
              resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
          ),
          'openqoe import-cmcd',
        );
      });
    const first = await run();
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('4 reports imported, 1 lines without CMCD');
    const again = await run();
    expect(again.code).toBe(0);
    const v = await completedView('imp-1');
    // Startup requests from t0 to t0+900 (the first request without `su`), playing until the last one.
    expect(v).toMatchObject({ video_id: 'imported', video_startup_time_ms: 900, watch_time_ms: 5000 });
    const missing = await new Promise<{ code: number; stderr: string }>((resolve) =>
      track(
        execFile(
          process.execPath,
          [CLI, 'import-cmcd', '/no/such/file', '--env-key', 'k'],
          (err, _o, stderr) => resolve({ code: (err as { code?: number } | null)?.code ?? 0, stderr }),
        ),
        'openqoe import-cmcd',
      ),
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read /no/such/file');
  });
});

describe('bad input is refused with the field named, or recorded, never a crash', () => {
  it('Mux: bad JSON, wrong types, absurd sequence numbers, huge bodies, unknown keys', async () => {
    const base = (seq: unknown) =>
      muxEvent({
        env_key: envKey(),
        view_id: 'bad-1',
        view_sequence_number: seq,
        viewer_time: Date.now(),
        event: 'hb',
      });
    refusal(await mux('/', '{"events": [ {'), 400, 'QOE_ERR_INVALID_JSON');
    refusal(await mux('/', '[1,2]'), 400, 'QOE_ERR_VALIDATION');

    let err = refusal(await mux('/', JSON.stringify({ events: [base('three')] })), 400, 'QOE_ERR_VALIDATION');
    expect(err.fields).toEqual([
      {
        path: 'events[0].xsqno',
        problem: expect.stringContaining('view_sequence_number must be an integer'),
      },
    ]);
    err = refusal(await mux('/', JSON.stringify({ events: [base(1e15)] })), 400, 'QOE_ERR_VALIDATION');
    expect(err.fields[0]!.path).toBe('events[0].xsqno');
    err = refusal(await mux('/', JSON.stringify({ events: [base(0)] })), 400, 'QOE_ERR_VALIDATION');
    expect(err.fields[0]!.path).toBe('events[0].xsqno');
    err = refusal(
      await mux('/', JSON.stringify({ events: [{ ...base(1), xid: 42, uti: 'yesterday' }, 'not an event'] })),
      400,
      'QOE_ERR_VALIDATION',
    );
    expect(err.fields.map((f) => f.path)).toEqual(['events[0].xid', 'events[0].uti', 'events[1]']);
    err = refusal(
      await mux('/', JSON.stringify({ events: [{ ...base(1), ake: 'nobody' }] })),
      401,
      'QOE_ERR_UNKNOWN_ENV_KEY',
    );
    expect(err.messages[0]).toContain('nobody');
    // A configured mapping to a key that does not exist says so.
    err = refusal(
      await mux('/', JSON.stringify({ events: [{ ...base(1), ake: 'mux-env-key' }] })),
      401,
      'QOE_ERR_UNKNOWN_ENV_KEY',
    );
    expect(err.messages[0]).toContain('maps to');

    refusal(await mux('/', Buffer.alloc(2 * 1024 * 1024, 'x')), 413, 'QOE_ERR_PAYLOAD_TOO_LARGE');
    // 1 MiB of gzip that inflates past the 4 MiB limit.
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, ' '));
    refusal(await mux('/', bomb, { 'content-encoding': 'gzip' }), 413, 'QOE_ERR_DECOMPRESSED_TOO_LARGE');
    refusal(await mux('/', '{}', { 'content-type': 'image/png' }), 415, 'QOE_ERR_UNSUPPORTED_MEDIA_TYPE');

    expect(
      await readMetric(server, 'openqoe_intake_beacons_total{source="mux",outcome="QOE_ERR_VALIDATION"}'),
    ).toBeGreaterThanOrEqual(5);
  });

  it('Mux: a delta for a view never seen is recorded (applied after the gap wait), not refused', async () => {
    const res = await mux(
      '/',
      JSON.stringify({
        events: [
          muxEvent({
            env_key: envKey(),
            view_id: 'orphan-1',
            view_sequence_number: 40,
            viewer_time: Date.now() - 3000,
            event: 'playing',
            player_playhead_time: 1000,
          }),
          muxEvent({
            env_key: envKey(),
            view_id: 'orphan-1',
            view_sequence_number: 41,
            viewer_time: Date.now() - 1000,
            event: 'viewend',
            player_playhead_time: 3000,
          }),
        ],
      }),
    );
    expect(res.status).toBe(200);
    const v = await completedView('orphan-1');
    // Playing from its first event on; startup is unknown (no play seen), nothing is invented.
    expect(v).toMatchObject({ outcome: 'success', video_startup_time_ms: null, rebuffer_count: 0 });
    // The reason is in the server's log.
    expect(server.output()).toContain(
      'mux view orphan-1: the first data received starts at view_sequence_number 40',
    );
  });

  it('Mux: a view whose first events never arrived has no startup time, not one made of its first stall', async () => {
    const t0 = Date.now() - 10_000;
    const ev = (seq: number, event: string, at: number) =>
      muxEvent({
        env_key: envKey(),
        view_id: 'mux-late-join',
        view_sequence_number: seq,
        viewer_time: t0 + at,
        event,
        player_playhead_time: at > 1000 ? 2000 : 0,
      });
    const res = await mux(
      '/',
      JSON.stringify({
        events: [ev(5, 'rebufferstart', 1000), ev(6, 'rebufferend', 6000), ev(7, 'viewend', 8000)],
      }),
    );
    expect(res.status).toBe(200);
    const v = await completedView('mux-late-join');
    // No play request was seen: the 5 s wait is not a startup (it was 5000 before), and not a
    // stall either, since playback was not known to have begun.
    expect(v).toMatchObject({ video_startup_time_ms: null, rebuffer_count: 0 });
  });

  it('CMCD: a line that does not decode, a report without sn, an event without ts; never 410', async () => {
    let err = refusal(
      await cmcd(envKey(), 'e=ps,sta=p,sid="a",sn=0,ts=1700000000000\n"unterminated\n'),
      400,
      'QOE_ERR_VALIDATION',
    );
    expect(err.fields[0]).toMatchObject({
      path: 'line 2',
      problem: expect.stringContaining('is not a CMCD dictionary'),
    });
    err = refusal(await cmcd(envKey(), 'e=ps,sta=p,sid="a",ts=1700000000000\n'), 400, 'QOE_ERR_VALIDATION');
    expect(err.fields[0]).toMatchObject({
      path: 'line 1.sn',
      problem: expect.stringContaining('is required'),
    });
    err = refusal(await cmcd(envKey(), 'e=ps,sta=p,sid="a",sn=-4\n'), 400, 'QOE_ERR_VALIDATION');
    expect(err.fields.map((f) => f.path)).toEqual(['line 1.sn', 'line 1.ts']);
    refusal(await cmcd(envKey(), ''), 400, 'QOE_ERR_VALIDATION');
    refusal(
      await cmcd(envKey(), 'sid="a",sn=1', { 'content-type': 'application/json' }),
      415,
      'QOE_ERR_UNSUPPORTED_MEDIA_TYPE',
    );
    const unknown = refusal(await cmcd('no-such-env', 'sid="a",sn=1'), 401, 'QOE_ERR_UNKNOWN_ENV_KEY');
    expect(unknown.messages[0]).toContain('no-such-env');
    refusal(await cmcd(envKey(), 'x'.repeat(2 * 1024 * 1024)), 413, 'QOE_ERR_PAYLOAD_TOO_LARGE');
  });

  it('the server is still serving after all of it', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await mux('/', '', {}, 'GET')).status).toBe(200);
    expect(server.child.exitCode).toBeNull();
  });
});
