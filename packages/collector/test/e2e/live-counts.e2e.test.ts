/**
 * Live viewer counts from real browser views: three Chromium contexts (three
 * viewers) play with the collector attached, and `/counts` — authenticated
 * with RS256 tokens signed by a key made through the System API — must show
 * exactly the views the test is running, then drop a view when it pauses and
 * when its page closes.
 */
import { createPrivateKey } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CreatedKey, createSigningKey } from '../../../server/test/helpers/live.js';
import { slowTests } from '../../../server/test/helpers/slow-tests.js';
import {
  buildCollector,
  ensureMedia,
  launchChromium,
  type MediaServer,
  newContext,
  playerPage,
  type ServerProcess,
  serveLibraries,
  startMediaServer,
  startOpenqoe,
  stopOpenqoe,
  waitFor,
} from './kit/index.js';

slowTests(180_000);

interface Count {
  views: number;
  viewers: number;
}

describe('live viewer counts from real browser views', () => {
  let browser: Browser;
  let media: MediaServer;
  let server: ServerProcess;
  let key: CreatedKey;

  beforeAll(async () => {
    buildCollector();
    const dir = ensureMedia();
    [browser, media, server] = await Promise.all([
      launchChromium(),
      startMediaServer(dir),
      startOpenqoe({ live: { rtmp: { enabled: false }, counts: { refreshMs: 200 } } }),
    ]);
    serveLibraries(media);
    key = await createSigningKey(server);
  });

  afterAll(async () => {
    await browser?.close();
    await media?.close();
    await stopOpenqoe(server);
  });

  /** A page of its own browser context (its own viewer id), looping the progressive clip. */
  async function play(name: string, videoId: string, liveStreamId: string): Promise<Page> {
    const options = `{ beaconUrl: ${JSON.stringify(`${server.url}/v1/beacon`)}, envKey: ${JSON.stringify(
      server.bootstrap().environment.key,
    )}, heartbeatMs: 1000, flushIntervalMs: 500, data: { videoId: '${videoId}', liveStreamId: '${liveStreamId}' } }`;
    media.page(
      `/${name}.html`,
      playerPage(
        ['/collector/openqoe.iife.js'],
        `const video = document.getElementById('v');
video.loop = true;
window.handle = openqoe.monitor(video, ${options});
video.src = '/media/progressive.mp4';
video.play().catch(() => {});`,
      ),
    );
    const ctx = await newContext(browser);
    const page = await ctx.newPage();
    // A page's context stays open after the page closes (its last requests stay the browser's to send);
    // the browser closes them all after the file.
    await page.goto(`${media.url}/${name}.html`);
    await waitFor(
      () => page.evaluate(() => (document.getElementById('v') as HTMLVideoElement).currentTime > 0.5),
      `${name} playing`,
    );
    return page;
  }

  const token = (aud: string, sub: string) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: key.id })
      .setSubject(sub)
      .setAudience(aud)
      .setExpirationTime('10m')
      .sign(createPrivateKey(key.privateKeyPem));

  async function counts(aud: string, sub: string): Promise<Count> {
    const res = await fetch(`${server.url}/counts?token=${await token(aud, sub)}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: Count[] };
    return { views: body.data[0]!.views, viewers: body.data[0]!.viewers };
  }

  /** Polls with slack (beacons travel every 0.5–1 s) until every id shows exactly the expected numbers. */
  async function expectCounts(expected: [aud: string, sub: string, c: Count][]): Promise<void> {
    let last = '';
    await waitFor(
      async () => {
        const got = await Promise.all(expected.map(([aud, sub]) => counts(aud, sub)));
        last = JSON.stringify(got);
        return got.every(
          (g, i) => g.views === expected[i]![2].views && g.viewers === expected[i]![2].viewers,
        );
      },
      `counts ${JSON.stringify(expected)}`,
      30_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last answer ${last}`);
    });
  }

  it('counts playing views per video and live stream, and drops them on pause and when the page closes', async () => {
    const a = await play('counts-a', 'counts-vid', 'counts-ls');
    const b = await play('counts-b', 'counts-vid', 'counts-ls');
    const c = await play('counts-c', 'counts-other', 'counts-ls-2');
    await expectCounts([
      ['video_id', 'counts-vid', { views: 2, viewers: 2 }],
      ['live_stream_id', 'counts-ls', { views: 2, viewers: 2 }],
      ['video_id', 'counts-other', { views: 1, viewers: 1 }],
      ['video_id', 'nobody-watches', { views: 0, viewers: 0 }],
    ]);

    await b.evaluate(() => (document.getElementById('v') as HTMLVideoElement).pause());
    await expectCounts([
      ['video_id', 'counts-vid', { views: 1, viewers: 1 }],
      ['live_stream_id', 'counts-ls', { views: 1, viewers: 1 }],
      ['video_id', 'counts-other', { views: 1, viewers: 1 }],
    ]);

    // Closing the page ends the view (its last beacon leaves by sendBeacon on pagehide).
    await a.close({ runBeforeUnload: true });
    await expectCounts([
      ['video_id', 'counts-vid', { views: 0, viewers: 0 }],
      ['live_stream_id', 'counts-ls', { views: 0, viewers: 0 }],
      ['video_id', 'counts-other', { views: 1, viewers: 1 }],
    ]);

    // The paused viewer plays again and counts again.
    await b.evaluate(() => (document.getElementById('v') as HTMLVideoElement).play());
    await expectCounts([['video_id', 'counts-vid', { views: 1, viewers: 1 }]]);
    await b.close();
    await c.close();
  });
});
