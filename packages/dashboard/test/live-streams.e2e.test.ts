/**
 * The live streams pages in Chromium while real ffmpeg RTMP pushes reach
 * the real server: a real-time push (-re) shows green (excellent); a push
 * throttled to half real time makes drift grow by 0.5 s per second, its
 * deviation from the 6 s rolling average reaches 0.5 × 6 s ÷ 2 = 1.5 s
 * (> 1 s), and the page turns red (poor). Viewer counts come from views
 * this test sends with the stream's id.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  createLiveStream,
  encodeTestPattern,
  type LiveStreamOut,
  type Push,
  pushFile,
  rtmpBase,
} from '../../server/test/helpers/live.js';
import { tempDataDir } from '../../server/test/helpers/server-process.js';
import {
  launchChromium,
  openPage,
  pollPage,
  removeDir,
  type ServerProcess,
  screenshot,
  signIn,
  startDashboardServer,
  stopServer,
} from './kit.js';
import { ScriptedView, sendViews } from './traffic.js';

const ROLLING_WINDOW_MS = 6000;

describe('live streams pages in Chromium with real RTMP pushes', () => {
  let server: ServerProcess;
  let browser: Browser;
  let page: Page;
  let stream: LiveStreamOut;
  let mediaDir: string;
  let media: string;
  const pushes: Push[] = [];

  const badge = () => page.locator(`tr[data-stream-id="${stream.id}"] [data-testid=health]`);
  const shownStatus = () => badge().getAttribute('data-status');
  const dotColour = () =>
    badge()
      .locator('.dot')
      .evaluate(
        (el) =>
          (
            el.ownerDocument.defaultView as unknown as {
              getComputedStyle(e: unknown): { backgroundColor: string };
            }
          ).getComputedStyle(el).backgroundColor,
      );

  beforeAll(async () => {
    mediaDir = tempDataDir('openqoe-dashboard-live-');
    media = join(mediaDir, 'pattern.flv');
    [server, browser] = await Promise.all([
      startDashboardServer({
        live: {
          rtmp: { port: 0 },
          drift: {
            rollingWindowMs: ROLLING_WINDOW_MS,
            warmUpMs: 2000,
            idleUnknownMs: 3000,
            historyIntervalMs: 500,
          },
          counts: { refreshMs: 0 },
        },
      }),
      launchChromium(),
      encodeTestPattern(media, 40),
    ]);
    stream = await createLiveStream(server);
    ({ page } = await openPage(browser));
    await signIn(page, server, '/ui/live-streams');
  });

  let stopHeartbeat = () => {};
  afterEach(async () => {
    stopHeartbeat();
    for (const p of pushes) await p.stop();
  });

  afterAll(async () => {
    for (const p of pushes) await p.stop();
    await browser?.close();
    await stopServer(server);
    if (mediaDir) removeDir(mediaDir);
  });

  it('a stream without an encoder is grey (unknown)', async () => {
    await page.goto(`${server.url}/ui/live-streams`);
    await pollPage(shownStatus, (s) => s === 'unknown', 'the unknown status');
    expect(await dotColour()).toBe('rgb(110, 118, 129)');
  });

  it('a real-time push is green (excellent)', async () => {
    pushes.push(pushFile(media, `${rtmpBase(server)}/${stream.stream_key}`, 1));
    await pollPage(shownStatus, (s) => s === 'excellent', 'the excellent status', 30_000);
    expect(await dotColour()).toBe('rgb(63, 185, 80)');
    await pushes.at(-1)!.stop();
  });

  it('a push throttled to half real time turns the stream red (poor), with the drift chart and viewers', async () => {
    // Two viewers of the stream (one with two views), one paused view that does not count; they
    // keep sending a 1 s sample every second, as a player's heartbeat would, so their views stay active.
    const watchers = [
      new ScriptedView('lv1', Date.now(), { viewerId: 'ann', liveStreamId: stream.id, streamType: 'live' }),
      new ScriptedView('lv2', Date.now(), { viewerId: 'ann', liveStreamId: stream.id, streamType: 'live' }),
      new ScriptedView('lv3', Date.now(), { viewerId: 'ben', liveStreamId: stream.id, streamType: 'live' }),
      new ScriptedView('lv4', Date.now(), { viewerId: 'cy', liveStreamId: stream.id, streamType: 'live' }),
    ];
    const beat = async () => {
      for (const [i, w] of watchers.entries()) w.seg(i === 3 ? 'paused' : 'playing', 1000);
      await sendViews(server, watchers, watchers[0]!.t);
    };
    await beat();
    const heartbeat = setInterval(() => void beat().catch(() => undefined), 1000);
    stopHeartbeat = () => clearInterval(heartbeat);

    pushes.push(pushFile(media, `${rtmpBase(server)}/${stream.stream_key}`, 0.5));
    await pollPage(shownStatus, (s) => s === 'poor', 'the poor status', 40_000);
    expect(await dotColour()).toBe('rgb(248, 81, 73)');
    // The page agrees with the API's own answer.
    const api = (await call(server, 'GET', `/video/v1/live-streams/${stream.id}/current`)).json as {
      data: { status: string; stream_drift_deviation_from_rolling_avg: number };
    };
    expect(api.data.status).toBe('poor');
    expect(api.data.stream_drift_deviation_from_rolling_avg).toBeGreaterThan(1000);
    expect(await page.locator(`tr[data-stream-id="${stream.id}"] [data-testid=viewers]`).textContent()).toBe(
      '3 views · 2 viewers',
    );
    await screenshot(page, 'live-streams');

    // The stream's own page: red, the deviation past 1 s, the drift chart, 2 viewers.
    await page.locator(`tr[data-stream-id="${stream.id}"] a`).click();
    await page.waitForURL(new RegExp(`/ui/live-streams/${stream.id}$`));
    await pollPage(
      () => page.getByTestId('health').getAttribute('data-status'),
      (s) => s === 'poor',
      'poor on the stream page',
    );
    const deviation = await page.getByTestId('deviation').textContent();
    expect(Number.parseInt(deviation ?? '', 10)).toBeGreaterThan(1000);
    expect(await page.getByTestId('viewers').textContent()).toBe('2');
    await page.getByTestId('drift-chart').locator('canvas').waitFor();
    await screenshot(page, 'live-stream');
  });
});
