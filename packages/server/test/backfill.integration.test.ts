/**
 * Backfill mode of the native intake, in the real server: `?backfill=true`
 * needs an access token with `system` for the beacon's environment; with
 * one, the device clock is trusted (a view from 10 days ago is stored on its
 * own day) and the rate limits do not apply. The same beacon without
 * backfill is corrected to the time it arrived.
 */
import { makeBeacon, makeEvent, makeSample, type PlayerEvent, type Sample } from '@openqoe/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Deadline } from './helpers/patience.js';
import {
  postBeacon,
  queryDataDir,
  removeDir,
  type ServerProcess,
  startServer,
  tempDataDir,
} from './helpers/server-process.js';

const DAY_MS = 86_400_000;

const CONFIG = {
  logLevel: 'warn',
  // A per-IP bucket of 2 that never refills: the third ordinary beacon is refused, backfill ones never are.
  intake: { rateLimit: { perIpPerSecond: 0.0001, perIpBurst: 2, perEnvKeyPerSecond: 0 } },
  views: { idleCompleteMs: 500, tickIntervalMs: 50 },
};

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

/** A whole view in one beacon: play request, 1 s startup, 20 s playing, viewend. sentAt = its end. */
function pastView(envKey: string, viewId: string, t0: number): string {
  const s = (seq: number, state: Sample['state'], start: number, ms: number) =>
    makeSample({
      viewId,
      sequenceNumber: seq,
      state,
      timestamp: t0 + start,
      durationMs: ms,
      viewerTime: t0 + start + ms,
    });
  const e = (seq: number, type: PlayerEvent['type'], at: number) =>
    makeEvent({ viewId, sequenceNumber: seq, type, state: 'playing', viewerTime: t0 + at });
  return JSON.stringify(
    makeBeacon({
      envKey,
      sentAt: t0 + 21_000,
      samples: [s(1, 'startup', 0, 1000), s(2, 'playing', 1000, 10_000), s(3, 'playing', 11_000, 10_000)],
      events: [e(0, 'playrequest', 0), e(4, 'viewend', 21_000)],
    }),
  );
}

async function storedViews(server: ServerProcess): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return Number(/^openqoe_pipeline_views_stored_total (\S+)$/m.exec(text)?.[1] ?? 0);
}

describe('POST /v1/beacon?backfill=true', () => {
  const dataDir = tempDataDir('openqoe-backfill-');
  let server: ServerProcess;
  let envKey: string;
  const text = 'text/plain';
  beforeAll(async () => {
    server = await startServer({ dataDir, config: CONFIG });
    envKey = server.bootstrap().environment.key;
  });
  afterAll(async () => {
    await server.kill();
    removeDir(dataDir);
  });

  const createToken = async (permissions: string[], environmentIds: string[] | 'all') => {
    const res = await fetch(`${server.url}/system/v1/access-tokens`, {
      method: 'POST',
      headers: { authorization: server.adminAuth(), 'content-type': 'application/json' },
      body: JSON.stringify({
        name: `t-${permissions.join('-')}`,
        permissions,
        environment_ids: environmentIds === 'all' ? [] : environmentIds,
        all_environments: environmentIds === 'all',
      }),
    });
    expect(res.status).toBe(201);
    const t = ((await res.json()) as { data: { id: string; secret: string } }).data;
    return basic(t.id, t.secret);
  };

  it('refuses without a token (401), with a wrong secret (401), without system (403) or for another environment (403)', async () => {
    const body = pastView(envKey, 'refused', Date.now() - 10 * DAY_MS);
    const noAuth = await postBeacon(server.url, body, { 'content-type': text }, '?backfill=true');
    expect(noAuth.status).toBe(401);
    expect(noAuth.json).toMatchObject({ error: { type: 'unauthorized', code: 'QOE_ERR_UNAUTHORIZED' } });

    const id = server.bootstrap().access_token.id;
    const wrong = await postBeacon(
      server.url,
      body,
      { 'content-type': text, authorization: basic(id, 'not-the-secret') },
      '?backfill=true',
    );
    expect(wrong.status).toBe(401);

    const reader = await createToken(['data:read'], 'all');
    const readOnly = await postBeacon(
      server.url,
      body,
      { 'content-type': text, authorization: reader },
      '?backfill=true',
    );
    expect(readOnly.status).toBe(403);
    expect(readOnly.json).toMatchObject({ error: { type: 'forbidden', code: 'QOE_ERR_FORBIDDEN' } });

    const other = await fetch(`${server.url}/system/v1/environments`, {
      method: 'POST',
      headers: { authorization: server.adminAuth(), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'other' }),
    });
    const otherEnv = ((await other.json()) as { data: { id: string } }).data.id;
    const elsewhere = await createToken(['system'], [otherEnv]);
    const notCovered = await postBeacon(
      server.url,
      body,
      { 'content-type': text, authorization: elsewhere },
      '?backfill=true',
    );
    expect(notCovered.status).toBe(403);
    expect(notCovered.json).toMatchObject({ error: { code: 'QOE_ERR_FORBIDDEN' } });
  });

  it('stores a backfilled view on its own past day, skips the rate limits, and corrects the same view sent normally to now', async () => {
    const t0 = Date.now() - 10 * DAY_MS;
    const admin = { 'content-type': text, authorization: server.adminAuth() };
    // Four times (three are duplicates): more than the per-IP burst of 2, all accepted.
    for (let i = 0; i < 4; i++) {
      expect(
        (await postBeacon(server.url, pastView(envKey, 'backfilled', t0), admin, '?backfill=true')).status,
      ).toBe(202);
    }
    const sentFrom = Date.now();
    const live = await postBeacon(server.url, pastView(envKey, 'corrected', t0), { 'content-type': text });
    const sentTo = Date.now();
    expect(live.status).toBe(202);
    // The ordinary path still has its limit: the bucket of 2 is empty after the next one.
    expect(
      (await postBeacon(server.url, pastView(envKey, 'corrected', t0), { 'content-type': text })).status,
    ).toBe(202);
    const limited = await postBeacon(server.url, pastView(envKey, 'corrected', t0), {
      'content-type': text,
    });
    expect(limited.status).toBe(429);

    const deadline = new Deadline(20_000);
    while ((await storedViews(server)) < 2 && !deadline.expired())
      await new Promise((r) => setTimeout(r, 100));
    expect(await storedViews(server)).toBeGreaterThanOrEqual(2);
    await server.kill('SIGTERM');

    const rows = await queryDataDir(
      dataDir,
      `SELECT view_id, epoch_ms(view_start)::DOUBLE AS start_ms, epoch_ms(view_end)::DOUBLE AS end_ms, watch_time_ms
       FROM views ORDER BY view_id`,
    );
    expect(rows.map((r) => r['view_id'])).toEqual(['backfilled', 'corrected']);
    const [backfilled, corrected] = rows as { start_ms: number; end_ms: number; watch_time_ms: number }[];
    // Backfill: the device's own times, to the millisecond, on the day 10 days ago.
    expect(backfilled).toMatchObject({ start_ms: t0, end_ms: t0 + 21_000, watch_time_ms: 21_000 });
    expect(new Date(backfilled!.start_ms).toISOString().slice(0, 10)).toBe(
      new Date(t0).toISOString().slice(0, 10),
    );
    // Without backfill, sentAt 10 days behind the server clock is a clock offset: the view ends when it arrived.
    expect(corrected!.end_ms).toBeGreaterThanOrEqual(sentFrom);
    expect(corrected!.end_ms).toBeLessThanOrEqual(sentTo);
    expect(corrected!.end_ms - corrected!.start_ms).toBe(21_000);
  });
});
