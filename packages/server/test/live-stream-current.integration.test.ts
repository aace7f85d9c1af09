/**
 * `GET /video/v1/live-streams/{id}/current` on the real server CLI: a
 * stream's health now and who is watching it, counted from views this test
 * sends through the intake (playing and rebuffering count, paused does not;
 * viewers are distinct viewer ids), with the access-token rules of its
 * neighbours. The status under a real push is covered by the dashboard's
 * live stream test (ffmpeg, throttled).
 */
import { makeBeacon, makeSample, type PlayerState } from '@openqoe/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createLiveStream, type LiveStreamOut } from './helpers/live.js';
import { patience } from './helpers/patience.js';
import {
  postBeacon,
  removeDir,
  type ServerProcess,
  startServer,
  TEST_CONFIG,
} from './helpers/server-process.js';

interface Current {
  id: string;
  environment_id: string;
  status: string;
  connected: boolean;
  updated_at: string;
  stream_drift_ms: number;
  stream_drift_session_avg: number;
  stream_drift_deviation_from_rolling_avg: number;
  views: number;
  viewers: number;
}

describe('live stream current health and viewers (access token)', () => {
  let server: ServerProcess;
  let stream: LiveStreamOut;

  const current = async (id = stream.id, auth: string | null = server.adminAuth()) =>
    call(server, 'GET', `/video/v1/live-streams/${id}/current`, auth);

  beforeAll(async () => {
    server = await startServer({
      config: { ...TEST_CONFIG, live: { rtmp: { port: 0 }, counts: { refreshMs: 0 } } },
    });
    stream = await createLiveStream(server);
  });
  afterAll(async () => {
    await server?.kill();
    if (server) removeDir(server.dataDir);
  });

  it('a stream without an encoder: unknown, not connected, nobody watching', async () => {
    const res = await current();
    expect(res.status).toBe(200);
    const d = (res.json as { data: Current }).data;
    expect(d).toMatchObject({
      id: stream.id,
      environment_id: stream.environment_id,
      status: 'unknown',
      connected: false,
      stream_drift_ms: 0,
      stream_drift_session_avg: 0,
      stream_drift_deviation_from_rolling_avg: 0,
      views: 0,
      viewers: 0,
    });
    expect(Number.isNaN(Date.parse(d.updated_at))).toBe(false);
  });

  it('counts the views watching the stream now and their distinct viewers', async () => {
    const now = Date.now();
    // Four views of the stream: two by one viewer (playing, rebuffering), one by another (playing),
    // one paused (not watching); and one view of something else.
    const views: [string, string, PlayerState, string][] = [
      ['v1', 'alice', 'playing', stream.id],
      ['v2', 'alice', 'rebuffering', stream.id],
      ['v3', 'bob', 'playing', stream.id],
      ['v4', 'carol', 'paused', stream.id],
      ['v5', 'dave', 'playing', 'another-stream'],
    ];
    const beacon = makeBeacon({
      envKey: server.bootstrap().environment.key,
      sentAt: now,
      samples: views.map(([viewId, viewerId, state, liveStreamId]) =>
        makeSample({
          viewId,
          viewerId,
          state,
          liveStreamId,
          streamType: 'live',
          viewerTime: now,
          timestamp: now - 1000,
          durationMs: 1000,
        }),
      ),
    });
    expect((await postBeacon(server.url, JSON.stringify(beacon))).status).toBe(202);
    await expect
      .poll(async () => ((await current()).json as { data: Current }).data.views, {
        timeout: patience(20_000),
      })
      .toBe(3);
    expect(((await current()).json as { data: Current }).data.viewers).toBe(2);
  });

  it('refuses without a token, without the video permission, and for a stream it does not know', async () => {
    expect((await current(stream.id, null)).status).toBe(401);
    const created = await call(server, 'POST', '/system/v1/access-tokens', server.adminAuth(), {
      name: 'reader',
      permissions: ['data:read'],
      all_environments: true,
    });
    expect(created.status).toBe(201);
    const t = (created.json as { data: { id: string; secret: string } }).data;
    const reader = `Basic ${Buffer.from(`${t.id}:${t.secret}`).toString('base64')}`;
    const forbidden = await current(stream.id, reader);
    expect(forbidden.status).toBe(403);
    expect((forbidden.json as { error: { messages: string[] } }).error.messages[0]).toMatch(
      /video permission/,
    );
    const missing = await current('no-such-stream');
    expect(missing.status).toBe(404);
    expect((missing.json as { error: { code: string } }).error.code).toBe('QOE_ERR_NOT_FOUND');
  });
});
