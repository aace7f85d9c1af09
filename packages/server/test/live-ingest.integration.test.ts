/**
 * Live ingest health with real ffmpeg RTMP pushes to the real server CLI.
 * The test chooses the push rate, so it knows the drift to expect:
 * pushing at rate r for T seconds sends r·T of media, a drift of (1 − r)·T.
 * With a drift growing at slope s = 1 − r, the session average after T s is
 * s·T/2 and, once T exceeds the rolling window W, the deviation of the
 * latest drift from the window's average is s·W/2 whatever T is.
 * Tolerances (max(100 ms, 5 %)) apply after a 5 s warm-up. The pattern is
 * encoded once and pushed with `-c copy`, so a busy machine slows neither
 * the encoder nor the pace of the push.
 */
import { createPrivateKey } from 'node:crypto';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  createLiveStream,
  createSigningKey,
  encodeTestPattern,
  type LiveStreamOut,
  type Push,
  pushFile,
  rtmpBase,
} from './helpers/live.js';
import {
  removeDir,
  type ServerProcess,
  startServer,
  TEST_CONFIG,
  tempDataDir,
  waitFor,
} from './helpers/server-process.js';

const ROLLING_WINDOW_MS = 10_000;
const IDLE_UNKNOWN_MS = 3000;
const WARM_UP_MS = 5000;

interface IngestHealth {
  updated_at: string;
  stream_drift_session_avg: number;
  stream_drift_deviation_from_rolling_avg: number;
  status: string;
}

const tolerance = (expected: number) => Math.max(100, Math.abs(expected) * 0.05);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('live ingest health over RTMP (ffmpeg)', () => {
  let server: ServerProcess;
  let stream: LiveStreamOut;
  let token: string;
  let mediaDir: string;
  let media: string;
  const pushes: Push[] = [];

  const health = async (): Promise<IngestHealth> => {
    const res = await fetch(`${server.url}/live-stream-health?token=${token}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { ingest_health: IngestHealth }[] };
    expect(body.data).toHaveLength(1);
    return body.data[0]!.ingest_health;
  };
  const streamStatus = async () =>
    ((await call(server, 'GET', `/video/v1/live-streams/${stream.id}`)).json as { data: LiveStreamOut }).data
      .status;
  /**
   * Starts a push and returns the wall time the stream turned active, seen by
   * polling every 20 ms: the first video packet follows the publish at once,
   * so this is its arrival within a poll or two.
   */
  const startPush = async (rate: number): Promise<{ push: Push; activeAtMs: number }> => {
    const push = pushFile(media, `${rtmpBase(server)}/${stream.stream_key}`, rate);
    pushes.push(push);
    const deadline = Date.now() + 15_000;
    while ((await streamStatus()) !== 'active') {
      if (Date.now() > deadline) throw new Error(`the push did not start: ${push.stderr()}`);
      await sleep(20);
    }
    return { push, activeAtMs: Date.now() };
  };

  beforeAll(async () => {
    mediaDir = tempDataDir('openqoe-live-media-');
    media = join(mediaDir, 'pattern.flv');
    await encodeTestPattern(media, 30);
    server = await startServer({
      config: {
        ...TEST_CONFIG,
        live: {
          rtmp: { port: 0 },
          drift: {
            rollingWindowMs: ROLLING_WINDOW_MS,
            idleUnknownMs: IDLE_UNKNOWN_MS,
            historyIntervalMs: 500,
          },
        },
      },
    });
    stream = await createLiveStream(server);
    const key = await createSigningKey(server);
    token = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: key.id })
      .setSubject(stream.id)
      .setAudience('live_stream_id')
      .setExpirationTime('1h')
      .sign(createPrivateKey(key.privateKeyPem));
  });

  // A failed assertion must not leave a push running into the next test.
  afterEach(async () => {
    for (const p of pushes) await p.stop();
  });

  afterAll(async () => {
    for (const p of pushes) await p.stop();
    await server?.kill();
    if (server) removeDir(server.dataDir);
    if (mediaDir) removeDir(mediaDir);
  });

  it('refuses a push to an unknown stream key and keeps the stream idle', async () => {
    const push = pushFile(media, `${rtmpBase(server)}/not-a-stream-key`, 1);
    pushes.push(push);
    const code = await push.exited;
    expect(code).not.toBe(0);
    expect(push.stderr()).toMatch(/no live stream has this stream key/);
    expect(await streamStatus()).toBe('idle');
    expect((await health()).status).toBe('unknown');
  });

  it('a push slower than real time (-readrate 0.75): drift grows, deviation passes 1 s, status poor', async () => {
    const rate = 0.75;
    const slope = 1 - rate;
    const { push, activeAtMs } = await startPush(rate);
    // After the warm-up: the session average so far.
    await sleep(WARM_UP_MS + 500);
    const h1 = await health();
    // Past a full rolling window, so the deviation has reached its plateau s·W/2.
    await sleep(activeAtMs + ROLLING_WINDOW_MS + 1500 - Date.now());
    const h = await health();
    const spanMs = Date.parse(h.updated_at) - Date.parse(h1.updated_at);
    expect(spanMs).toBeGreaterThan(4000);
    // The mean over the whole session: s·T/2, T from the first packet; it grows at half the drift's slope.
    const expectedAvg = (slope * (Date.parse(h.updated_at) - activeAtMs)) / 2;
    expect(Math.abs(h.stream_drift_session_avg - expectedAvg)).toBeLessThanOrEqual(tolerance(expectedAvg));
    const expectedGrowth = (slope * spanMs) / 2;
    const growth = h.stream_drift_session_avg - h1.stream_drift_session_avg;
    expect(Math.abs(growth - expectedGrowth)).toBeLessThanOrEqual(tolerance(expectedGrowth));
    const expectedDeviation = (slope * ROLLING_WINDOW_MS) / 2;
    expect(Math.abs(h.stream_drift_deviation_from_rolling_avg - expectedDeviation)).toBeLessThanOrEqual(
      tolerance(expectedDeviation),
    );
    expect(h.stream_drift_deviation_from_rolling_avg).toBeGreaterThan(1000);
    expect(h.status).toBe('poor');
    // The encoder is still connected while it is slow.
    expect(await streamStatus()).toBe('active');
    await push.stop();
    await waitFor(async () => (await streamStatus()) === 'idle', 'the stream to turn idle', 10_000);
  });

  it('reconnecting resets the session: a real-time push (-re) is excellent with a session average near 0', async () => {
    const before = await health();
    // The slow session's numbers still stand (the idle period has not passed).
    expect(before.stream_drift_session_avg).toBeGreaterThan(1000);
    const { push } = await startPush(1);
    await sleep(WARM_UP_MS + 2000);
    const h = await health();
    expect(Math.abs(h.stream_drift_session_avg)).toBeLessThanOrEqual(tolerance(0));
    expect(Math.abs(h.stream_drift_deviation_from_rolling_avg)).toBeLessThanOrEqual(tolerance(0));
    expect(h.status).toBe('excellent');
    await push.stop();
  });

  it('when the encoder stops, the status turns unknown after the idle period', async () => {
    const stoppedAtMs = Date.now();
    await waitFor(async () => (await streamStatus()) === 'idle', 'the stream to turn idle', 10_000);
    await waitFor(
      async () => (await health()).status === 'unknown',
      'status unknown',
      IDLE_UNKNOWN_MS + 10_000,
    );
    // Not before the idle period: the last packet came before the encoder was stopped.
    expect(Date.now() - stoppedAtMs).toBeGreaterThanOrEqual(IDLE_UNKNOWN_MS - 100);
    const h = await health();
    expect(h.stream_drift_session_avg).toBe(0);
    expect(h.stream_drift_deviation_from_rolling_avg).toBe(0);
  });

  it('keeps the health history in the store, with the drift of each moment', async () => {
    type Row = { at: string; status: string; connected: boolean; stream_drift_ms: number | null };
    let rows: Row[] = [];
    // The row that records the change to unknown comes with the next history interval.
    await waitFor(async () => {
      const res = await call(server, 'GET', `/video/v1/live-streams/${stream.id}/health?limit=10000`);
      expect(res.status).toBe(200);
      rows = (res.json as { data: Row[] }).data;
      return rows.at(-1)?.status === 'unknown';
    }, 'the history to record unknown');
    const statuses = new Set(rows.map((r) => r.status));
    expect(statuses.has('poor')).toBe(true);
    expect(statuses.has('excellent')).toBe(true);
    expect(rows.at(-1)!.status).toBe('unknown');
    expect(rows.at(-1)!.stream_drift_ms).toBeNull();
    // Oldest first, and the slow session's drift rose at about its slope (≈ 0.25 ms per ms).
    const times = rows.map((r) => Date.parse(r.at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    const poor = rows.filter((r) => r.status === 'poor' && r.stream_drift_ms !== null);
    const first = poor[0]!;
    const last = poor.at(-1)!;
    const slope =
      (last.stream_drift_ms! - first.stream_drift_ms!) / (Date.parse(last.at) - Date.parse(first.at));
    expect(Math.abs(slope - 0.25)).toBeLessThanOrEqual(0.25 * 0.05 + 0.01);
  });

  it('counts publishes by outcome in /metrics', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const value = (outcome: string) =>
      Number(
        new RegExp(`^openqoe_live_publishes_total\\{outcome="${outcome}"\\} (\\S+)$`, 'm').exec(text)?.[1] ??
          0,
      );
    // One refused push, then the slow and the real-time pushes.
    expect(value('unknown_key')).toBe(1);
    expect(value('accepted')).toBe(2);
    expect(/^openqoe_live_streams_publishing 0$/m.test(text)).toBe(true);
    // Most of (11.5 s × 0.75 + 7 s) of 25 fps video went through the trackers.
    expect(Number(/^openqoe_live_video_packets_total (\S+)$/m.exec(text)?.[1])).toBeGreaterThan(
      0.75 * (11.5 * 0.75 + 7) * 25,
    );
  });
});
