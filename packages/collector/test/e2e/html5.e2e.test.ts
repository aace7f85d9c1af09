/**
 * A plain <video> (progressive MP4/WebM and Chromium's native HLS) in real
 * Chromium, results read back through the query API.
 */
import { describe, expect, it } from 'vitest';
import {
  completionRun,
  e2eSuite,
  ebvsRun,
  expectCompletion,
  expectEbvs,
  expectStallMeasured,
  seekRun,
  stallRun,
} from './harness.js';
import { getView, LONG_CLIP_SECONDS, waitFor, waitForView } from './kit/index.js';

const e = e2eSuite();
const SCRIPTS = ['/collector/openqoe.iife.js'];
const setup = (src: string, videoId: string, play = true) => `
const video = document.getElementById('v');
watchFrames(video);
window.handle = openqoe.monitor(video, ${e.collectorOptions(`data: { videoId: '${videoId}', liveStreamId: 'ls-1' }`)});
video.src = '${src}';
${play ? 'markPlay(); video.play().catch(() => {});' : ''}
`;

describe('HTML5 adapter in Chromium', () => {
  it('native HLS with a scripted stall: rebuffer within max(100 ms, 5 %) of the frame gap, one rebuffer per frame gap', async () => {
    // Chromium's own HLS buffer cannot be capped, so the hold is long enough to outlast what it buffered.
    const r = await stallRun(e, {
      name: 'html5-stall',
      scripts: SCRIPTS,
      setup: setup('/media/hls-fmp4/master.m3u8', 'html5-stall'),
      match: /hls-fmp4\/v\d\/seg_00003\.m4s$/,
      holdMs: 9000,
      playToS: 9,
    });
    expectStallMeasured(r);
    const { view } = r;
    expect(view).toMatchObject({
      outcome: 'success',
      player_software: 'html5',
      stream_format: 'hls',
      video_id: 'html5-stall',
      live_stream_id: 'ls-1',
      stream_type: 'vod',
    });
  });

  it('progressive MP4: a seek is counted as a seek, not a rebuffer; rendition and player sizes arrive', async () => {
    const view = await seekRun(e, 'html5-seek', SCRIPTS, setup('/media/progressive.mp4', 'html5-seek'));
    expect(view).toMatchObject({
      outcome: 'success',
      stream_format: 'progressive',
      rebuffer_count: 0,
      seek_count: 1,
    });
    expect(view.seek_latency_ms as number).toBeGreaterThan(0);
    // 640×360 shown in a 640×360 element: no up- or downscale.
    expect(view.upscale_percentage).toBe(0);
    expect(view.downscale_percentage).toBe(0);
  });

  it("completion: a 30 s clip watched to 15 s reads 50 % within 2 points, and the page's playhead ÷ duration within 1", async () => {
    expect(LONG_CLIP_SECONDS).toBe(30);
    // Played at 2× so the test takes 7.5 s of wall time for 15 s of media.
    const r = await completionRun(e, {
      name: 'html5-completion',
      scripts: SCRIPTS,
      setup: setup('/media/long.mp4', 'html5-completion'),
      atS: 15,
      rate: 2,
    });
    expectCompletion(r, 50);
  });

  it('WebM (VP9/Opus) plays to the end', async () => {
    const page = await e.open('html5-webm', SCRIPTS, setup('/media/progressive.webm', 'html5-webm'));
    const viewId = await e.viewId(page);
    await waitFor(
      () => page.evaluate(() => (document.getElementById('v') as HTMLVideoElement).ended),
      'the end',
      30_000,
    );
    const view = await e.leave(page, viewId);
    expect(view).toMatchObject({ outcome: 'success', rebuffer_count: 0, stream_format: 'progressive' });
    expect(view.timeline.some((t) => t.type === 'ended')).toBe(true);
    expect(view.watch_time_ms as number).toBeGreaterThanOrEqual(11_000);
  });

  it('a missing file is a fatal MediaError: playback failure with its code', async () => {
    const page = await e.open('html5-404', SCRIPTS, setup('/media/missing.mp4', 'html5-404'));
    const viewId = await e.viewId(page);
    const v = await e.leave(page, viewId);
    expect(v).toMatchObject({
      outcome: 'failure',
      playback_failure: true,
      video_startup_failure: true,
      error_code: '4',
    });
  });

  it('closing the page during startup is an exit before video start', async () => {
    expectEbvs(
      await ebvsRun(e, {
        name: 'html5-ebvs',
        scripts: SCRIPTS,
        setup: setup('/media/progressive.mp4', 'html5-ebvs'),
        match: /progressive\.mp4$/,
      }),
    );
  });

  it('update() changes view data mid-view; a new source starts a new view, a bare reload of the same one does not', async () => {
    const page = await e.open('html5-source', SCRIPTS, setup('/media/progressive.mp4', 'html5-source'));
    const first = await e.viewId(page);
    await e.playedTo(page, 1.5);
    await page.evaluate(() => {
      const w = window as unknown as { handle: { update(d: object): void } };
      w.handle.update({ videoTitle: 'renamed mid-view', customData2: 'b' });
      const video = document.getElementById('v') as HTMLVideoElement;
      video.load(); // same source again: a bare loadstart
      video.play();
    });
    await waitFor(
      async () => (await e.truth(page)).frames.length > 0 && (await e.viewId(page)) === first,
      'replay',
    );
    await new Promise((r) => setTimeout(r, 1000));
    expect(await e.viewId(page)).toBe(first);
    await page.evaluate(() => {
      const video = document.getElementById('v') as HTMLVideoElement;
      video.src = '/media/progressive.webm';
      video.play();
    });
    await waitFor(async () => (await e.viewId(page)) !== first, 'a new view id');
    const second = await e.viewId(page);
    await new Promise((r) => setTimeout(r, 1500));
    const last = await e.leave(page, second);
    const ended = await waitForView(e.server, first);
    expect(ended).toMatchObject({ outcome: 'success', completion_reason: 'explicit_end' });
    expect(ended.timeline.at(-1)!.type).toBe('sourcechange');
    expect(ended.timeline.some((t) => t.type === 'customdatachange')).toBe(true);
    expect(last).toMatchObject({ outcome: 'success', stream_format: 'progressive' });
    expect(last.watch_time_ms as number).toBeGreaterThan(500);
  });

  it('a page closed while busy never runs pagehide; its view still ends, from the standby end the browser holds', async () => {
    // Two pages, closed alike while their script is busy: one leaves the browser a standby end
    // (fetchLater), the other cannot. The second shows that pagehide really did not run.
    const noStandby = 'window.fetchLater = undefined;';
    const [withStandby, without] = await Promise.all([
      e.open('html5-busy', SCRIPTS, setup('/media/long.mp4', 'html5-busy')),
      e.open('html5-busy-bare', SCRIPTS, noStandby + setup('/media/long.mp4', 'html5-busy-bare')),
    ]);
    const ids = await Promise.all([withStandby, without].map((p) => e.viewId(p)));
    await Promise.all([withStandby, without].map((p) => e.playedTo(p, 4)));
    // Busy for 10 s from 100 ms on: longer than Chromium waits for a closing page's handlers. A
    // loaded page's timer may fire late, so the page says when it really went busy: a request the
    // media server records as it arrives.
    const busyFromMs = await Promise.all(
      [withStandby, without].map((p, i) =>
        p.evaluate((mark) => {
          const from = Date.now() + 100;
          setTimeout(() => {
            navigator.sendBeacon(mark);
            while (Date.now() - from < 10_000);
          }, 100);
          return from;
        }, `/media/busy-from-${i}`),
      ),
    );
    await new Promise((r) => setTimeout(r, 400));
    const closedAtMs = Date.now();
    await Promise.all([withStandby, without].map((p) => p.close({ runBeforeUnload: true })));
    try {
      const view = await waitForView(e.server, ids[0]!);
      expect(view).toMatchObject({
        outcome: 'success',
        completion_reason: 'explicit_end',
        rebuffer_count: 0,
      });
      expect(view.timeline.at(-1)!.type).toBe('viewend');
      // The standby end is the view as of the last batch before the page went busy (one every ≤ 2 s here).
      const endMs = Date.parse(String(view.view_end));
      const busyAtMs = e.media.requests.find((r) => r.path === '/busy-from-0')?.atMs;
      expect(busyAtMs, 'the page said when it went busy').toBeDefined();
      expect(endMs).toBeLessThanOrEqual(busyAtMs! + 200);
      expect(endMs).toBeGreaterThan(busyFromMs[0]! - 5000);
      expect(view.watch_time_ms as number).toBeGreaterThan(2000);
      // Without it, nothing ends the other view before the server's 60 s idle completion.
      const waitUntil = closedAtMs + 15_000;
      await new Promise((r) => setTimeout(r, Math.max(0, waitUntil - Date.now())));
      expect(await getView(e.server, ids[1]!), 'the view of the page without a standby end').toBeNull();
    } finally {
      await Promise.all(
        [withStandby, without].map((p) =>
          p
            .context()
            .close()
            .catch(() => {}),
        ),
      );
    }
  });
});
