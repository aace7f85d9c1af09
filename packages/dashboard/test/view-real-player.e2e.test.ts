/**
 * A real player's stall on the view page: hls.js with the collector plays
 * ffmpeg HLS in Chromium, the media server holds one segment (buffer-ahead
 * capped, so the player must stall), the page leaves and the view is
 * stored; then the dashboard's view page must show one rebuffer whose
 * start and length match the page's own presented frames
 * (requestVideoFrameCallback): the gap in frames, measured from the page's
 * own play-request mark. Tolerances: max(100 ms, 5 %) for the length, as the
 * collector's own tests; 250 ms for the start (the player reports `waiting`
 * within a few frames of the last one shown).
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildCollector,
  ensureMedia,
  FPS,
  frameGaps,
  type MediaServer,
  playerPage,
  serveLibraries,
  startMediaServer,
  type Truth,
} from '../../collector/test/e2e/kit/index.js';
import { slowTests } from '../../server/test/helpers/slow-tests.js';
import {
  launchChromium,
  openPage,
  type ServerProcess,
  screenshot,
  signIn,
  startDashboardServer,
  stopServer,
  waitFor,
} from './kit.js';

slowTests(180_000);

const HOLD_MS = 4000;

describe('the view page shows a real player’s stall where the page saw it', () => {
  let server: ServerProcess;
  let media: MediaServer;
  let browser: Browser;

  beforeAll(async () => {
    buildCollector();
    const dir = ensureMedia();
    [server, media, browser] = await Promise.all([
      startDashboardServer(),
      startMediaServer(dir),
      launchChromium(),
    ]);
    serveLibraries(media);
  });

  afterAll(async () => {
    await browser?.close();
    await media?.close();
    await stopServer(server);
  });

  it('one rebuffer at the frame gap’s time, for the frame gap’s length', async () => {
    const options = `{ beaconUrl: ${JSON.stringify(`${server.url}/v1/beacon`)}, envKey: ${JSON.stringify(
      server.bootstrap().environment.key,
    )}, heartbeatMs: 2000, flushIntervalMs: 1000, data: { videoTitle: 'Held segment' } }`;
    media.page(
      '/stall.html',
      playerPage(
        ['/lib/hls.js', '/collector/openqoe.iife.js', '/collector/openqoe-hlsjs.iife.js'],
        `
const video = document.getElementById('v');
watchFrames(video);
const hls = new Hls({ maxBufferLength: 2, maxMaxBufferLength: 2, backBufferLength: 0 });
window.handle = openqoe.monitor(hls, ${options});
hls.on(Hls.Events.MANIFEST_PARSED, () => { markPlay(); video.play().catch(() => {}); });
hls.loadSource('/media/hls-ts/master.m3u8');
hls.attachMedia(video);
`,
      ),
    );
    const hold = media.rule({ match: /hls-ts\/v\d\/seg_00003\.ts$/, holdMs: HOLD_MS, times: 1 });
    const { page: player } = await openPage(browser);
    await player.goto(`${media.url}/stall.html`);
    const truth = () => player.evaluate('window.truth') as Promise<Truth>;
    await waitFor(
      async () => ((await truth()).frames.at(-1)?.[1] ?? 0) >= 9.5,
      'the page to play to 9.5 s',
      40_000,
    );
    const t = await truth();
    const viewId = (await player.evaluate('window.handle.viewId')) as string;
    await player.close({ runBeforeUnload: true });
    hold.remove();

    // The page's own truth: the frame gap that ends after the held segment was released.
    const holdEndMs = Math.max(...hold.hits.map((h) => h.endMs));
    const gaps = frameGaps(t, FPS).filter((g) => g.toMs >= holdEndMs && g.fromMs <= holdEndMs + 1000);
    expect(gaps).toHaveLength(1);
    const gap = gaps[0]!;
    const gapStartMs = gap.fromMs + 1000 / FPS - t.playRequestedAt;

    await waitFor(
      async () => {
        const res = await fetch(`${server.url}/data/v1/video-views/${viewId}`, {
          headers: { authorization: server.adminAuth() },
        });
        return res.ok && ((await res.json()) as { data: { status: string } }).data.status !== 'active';
      },
      'the view stored',
      30_000,
    );

    const { page } = await openPage(browser);
    await signIn(page, server, `/ui/views/${viewId}`);
    const rebuffer = page.locator('tr[data-kind=rebuffer]');
    expect(page.url()).toBe(`${server.url}/ui/views/${viewId}`);
    await rebuffer.first().waitFor();
    expect(await rebuffer.count()).toBe(1);
    const startMs = Number(await rebuffer.getAttribute('data-start-ms'));
    const durationMs = Number(await rebuffer.getAttribute('data-duration-ms'));
    expect(
      Math.abs(durationMs - gap.stallMs),
      `shown ${durationMs} ms vs frame gap ${gap.stallMs} ms`,
    ).toBeLessThanOrEqual(Math.max(100, 0.05 * gap.stallMs));
    expect(
      Math.abs(startMs - gapStartMs),
      `shown at ${startMs} ms vs frames at ${gapStartMs} ms`,
    ).toBeLessThanOrEqual(250);
    expect(await page.getByTestId('metric-rebuffer_count').locator('.value').textContent()).toBe('1');
    // The swim lane draws it: one rebuffering bar.
    expect(
      await page.locator('[data-testid=swim-lane] rect[data-state=rebuffering]').count(),
    ).toBeGreaterThanOrEqual(1);
    // The rendition's bitrate on the same axis (a horizontal line has no height: attached, not visible).
    await page.locator('[data-testid=bitrate] line.bitrate').first().waitFor({ state: 'attached' });
    await screenshot(page, 'view-real-player');
  });
});
