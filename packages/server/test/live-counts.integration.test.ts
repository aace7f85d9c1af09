/**
 * Live viewer counts: views sent as native beacons through the real intake
 * (POST /v1/beacon) of the real server CLI, read back from `/counts` with
 * signed tokens. The expected numbers are counted by hand from the views
 * the test sends: which are playing, of which viewer, with which ids.
 */
import { createPrivateKey } from 'node:crypto';
import { makeBeacon, makeEvent, makeSample, type Sample } from '@openqoe/schema';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CreatedKey, call, createSigningKey } from './helpers/live.js';
import {
  postBeacon,
  removeDir,
  type ServerProcess,
  startServer,
  TEST_CONFIG,
  waitFor,
} from './helpers/server-process.js';

interface Count {
  views: number;
  viewers: number;
}

describe('live viewer counts from beacons', () => {
  let server: ServerProcess;
  let key: CreatedKey;
  let envKey: string;

  const send = async (key: string, samples: Sample[] = [], events: ReturnType<typeof makeEvent>[] = []) => {
    const res = await postBeacon(server.url, JSON.stringify(makeBeacon({ envKey: key, samples, events })));
    expect(res.status).toBe(202);
  };
  const view = (viewId: string, o: Partial<Sample>) =>
    makeSample({ viewId, sequenceNumber: 0, viewerTime: Date.now(), state: 'playing', ...o });
  const tokenFor = (aud: string, sub: string) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: key.id })
      .setSubject(sub)
      .setAudience(aud)
      .setExpirationTime('10m')
      .sign(createPrivateKey(key.privateKeyPem));
  const count = async (aud: string, sub: string): Promise<Count & { updated_at: string }> => {
    const res = await fetch(`${server.url}/counts?token=${await tokenFor(aud, sub)}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: (Count & { updated_at: string })[] };
    expect(body.data).toHaveLength(1);
    return body.data[0]!;
  };
  /** Polls until every id shows the expected numbers (the pipeline applies beacons asynchronously). */
  const expectCounts = async (expected: [aud: string, sub: string, c: Count][]) => {
    let last = '';
    await waitFor(
      async () => {
        const got = await Promise.all(expected.map(async ([aud, sub]) => count(aud, sub)));
        last = JSON.stringify(got);
        return got.every(
          (g, i) => g.views === expected[i]![2].views && g.viewers === expected[i]![2].viewers,
        );
      },
      `counts ${JSON.stringify(expected)}`,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last answer ${last}`);
    });
  };

  beforeAll(async () => {
    server = await startServer({
      config: { ...TEST_CONFIG, live: { rtmp: { enabled: false }, counts: { refreshMs: 200 } } },
    });
    envKey = server.bootstrap().environment.key;
    key = await createSigningKey(server);
  });

  afterAll(async () => {
    await server?.kill();
    if (server) removeDir(server.dataDir);
  });

  it('counts views being watched and distinct viewers per video, live stream, asset and playback id', async () => {
    const other = await call(server, 'POST', '/system/v1/environments', server.adminAuth(), {
      name: 'other',
    });
    const otherKey = (other.json as { data: { key: string } }).data.key;
    const live = { liveStreamId: 'ls-1', streamType: 'live' as const };
    await send(envKey, [view('v1', { videoId: 'vid-A', viewerId: 'viewer-1', ...live })]);
    await send(envKey, [view('v2', { videoId: 'vid-A', viewerId: 'viewer-2', ...live })]);
    // The same browser in a second tab: a third view, not a third viewer.
    await send(envKey, [view('v3', { videoId: 'vid-A', viewerId: 'viewer-1' })]);
    // Two devices of one signed-in user: viewer_user_id decides.
    await send(envKey, [
      view('v4', {
        videoId: 'vid-B',
        viewerId: 'viewer-3',
        viewerUserId: 'user-9',
        assetId: 'asset-1',
        playbackId: 'pb-1',
      }),
    ]);
    await send(envKey, [view('v5', { videoId: 'vid-B', viewerId: 'viewer-4', viewerUserId: 'user-9' })]);
    // A view paused from its first report is not watching.
    await send(envKey, [
      view('v6', { videoId: 'vid-A', viewerId: 'viewer-5', state: 'paused', playedMs: 0, pausedMs: 10_000 }),
    ]);
    // The same ids in another environment are not this key's data.
    await send(otherKey, [view('x1', { videoId: 'vid-A', viewerId: 'viewer-9', ...live })]);

    await expectCounts([
      ['video_id', 'vid-A', { views: 3, viewers: 2 }],
      ['live_stream_id', 'ls-1', { views: 2, viewers: 2 }],
      ['video_id', 'vid-B', { views: 2, viewers: 1 }],
      ['asset_id', 'asset-1', { views: 1, viewers: 1 }],
      ['playback_id', 'pb-1', { views: 1, viewers: 1 }],
      ['video_id', 'vid-none', { views: 0, viewers: 0 }],
    ]);
    const c = await count('video_id', 'vid-A');
    expect(Math.abs(Date.parse(c.updated_at) - Date.now())).toBeLessThan(60_000);
  });

  it('drops views that pause or end, and counts them again when they resume', async () => {
    const t = Date.now();
    await send(envKey, [
      view('v2', {
        sequenceNumber: 1,
        videoId: 'vid-A',
        viewerId: 'viewer-2',
        liveStreamId: 'ls-1',
        state: 'paused',
        viewerTime: t,
        playedMs: 0,
        pausedMs: 10_000,
      }),
    ]);
    await send(
      envKey,
      [],
      [makeEvent({ viewId: 'v1', sequenceNumber: 1, type: 'viewend', state: 'ended', viewerTime: t })],
    );
    await expectCounts([
      ['video_id', 'vid-A', { views: 1, viewers: 1 }],
      ['live_stream_id', 'ls-1', { views: 0, viewers: 0 }],
    ]);
    await send(envKey, [
      view('v2', {
        sequenceNumber: 2,
        videoId: 'vid-A',
        viewerId: 'viewer-2',
        liveStreamId: 'ls-1',
        viewerTime: t + 10_000,
      }),
    ]);
    await expectCounts([
      ['video_id', 'vid-A', { views: 2, viewers: 2 }],
      ['live_stream_id', 'ls-1', { views: 1, viewers: 1 }],
    ]);
  });
});
