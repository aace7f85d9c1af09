/** Shaka Player in real Chromium against ffmpeg DASH, read back through the query API. */
import { describe, expect, it } from 'vitest';
import {
  completionRun,
  e2eSuite,
  ebvsRun,
  expectCompletion,
  expectEbvs,
  expectStallMeasured,
  expectSwitchedDown,
  seekRun,
  stallRun,
  throttledRun,
} from './harness.js';
import { CDN_HEADER_VALUE, waitFor } from './kit/index.js';

const e = e2eSuite();
const SCRIPTS = ['/lib/shaka.js', '/collector/openqoe.iife.js', '/collector/openqoe-shaka.iife.js'];
/** Buffer-ahead capped at one segment so a held segment cannot be absorbed. */
const setup = (videoId: string, playNow = false) => `
const video = document.getElementById('v');
watchFrames(video);
const player = new shaka.Player();
player.configure({ streaming: { bufferingGoal: 2, rebufferingGoal: 1, bufferBehind: 2 } });
window.handle = openqoe.monitor(player, ${e.collectorOptions(`data: { videoId: '${videoId}' }`)});
// The page asks to play once the player has loaded its source (a play() before that is aborted by the load).
player.attach(video).then(() => {
  ${playNow ? 'video.play().catch(() => {});' : ''}
  return player.load('/media/dash/manifest.mpd');
}).then(() => {
  markPlay();
  video.play().catch(() => {});
});
`;

describe('Shaka adapter in Chromium', () => {
  it('completion: the 12 s clip watched to 6 s reads 50 % within 2 points', async () => {
    const r = await completionRun(e, {
      name: 'shaka-completion',
      scripts: SCRIPTS,
      setup: setup('shaka-completion'),
      atS: 6,
    });
    expectCompletion(r, 50);
  });

  it('normal play with a scripted stall: rebuffer within max(100 ms, 5 %) of the frame gap, one rebuffer per frame gap', async () => {
    const r = await stallRun(e, {
      name: 'shaka-stall',
      scripts: SCRIPTS,
      setup: setup('shaka-stall'),
      // Video and audio: with audio still flowing Chromium lets video underflow for up to 3 s without `waiting`.
      match: /dash\/seg-\d-00004\.m4s$/,
      holdMs: 4000,
      playToS: 9.5,
    });
    expectStallMeasured(r);
    expect(r.view).toMatchObject({
      player_software: 'shaka',
      stream_format: 'dash',
      stream_type: 'vod',
      video_id: 'shaka-stall',
      cdn_host: CDN_HEADER_VALUE,
    });
    expect(r.view.player_version).toMatch(/^v?5\./);
    expect(r.view.weighted_average_bitrate_bps as number).toBeGreaterThan(0);
  });

  it('a manifest answering 404 is a critical error: playback failure with the Shaka code', async () => {
    const fail = e.media.rule({ match: /dash\/manifest\.mpd$/, status: 404 });
    const page = await e.open(
      'shaka-fatal',
      SCRIPTS,
      `
const video = document.getElementById('v');
const player = new shaka.Player();
player.configure({ manifest: { retryParameters: { maxAttempts: 1 } } });
player.attach(video).then(() => {
  window.handle = openqoe.monitor(player, ${e.collectorOptions("data: { videoId: 'shaka-fatal' }")});
  video.play().catch(() => {});
  return player.load('/media/dash/manifest.mpd');
}).catch((err) => { window.fatalCode = err.code; });
`,
    );
    try {
      await waitFor(
        () => page.evaluate(() => (window as unknown as { fatalCode?: number }).fatalCode !== undefined),
        'the Shaka error',
      );
    } finally {
      fail.remove();
    }
    const code = await page.evaluate(() => (window as unknown as { fatalCode: number }).fatalCode);
    const view = await e.leave(page, await e.viewId(page));
    expect(view).toMatchObject({ outcome: 'failure', playback_failure: true, error_code: String(code) });
  });

  it('media from another origin without Timing-Allow-Origin: its requests count, their TTFB stays unknown (not 0 ms)', async () => {
    // The page is on 127.0.0.1; localhost is another origin for the browser, the same server here.
    const untimed = `http://localhost:${new URL(e.media.url).port}/media-untimed/dash/manifest.mpd`;
    const r = await completionRun(e, {
      name: 'shaka-untimed',
      scripts: SCRIPTS,
      setup: setup('shaka-untimed').replace("'/media/dash/manifest.mpd'", JSON.stringify(untimed)),
      atS: 4,
    });
    expect(r.view).toMatchObject({ outcome: 'success', player_software: 'shaka', request_failed_count: 0 });
    expect(r.view['request_count'] as number).toBeGreaterThanOrEqual(3);
    expect(r.view['request_ttfb_ms']).toBeNull();
    // The requests' bytes and times are still the player's own.
    expect(r.view['request_throughput_bps'] as number).toBeGreaterThan(0);
  });

  it('a seek is a seek, not a rebuffer', async () => {
    const view = await seekRun(e, 'shaka-seek', SCRIPTS, setup('shaka-seek'));
    expect(view).toMatchObject({ outcome: 'success', rebuffer_count: 0, seek_count: 1 });
  });

  it('closing the page during startup is an exit before video start', async () => {
    expectEbvs(
      await ebvsRun(e, {
        name: 'shaka-ebvs',
        scripts: SCRIPTS,
        setup: setup('shaka-ebvs', true),
        match: /dash\/seg-\d-00001\.m4s$/,
      }),
    );
  });

  it('a rendition switch: segments slowed below the rendition playing make Shaka switch down', async () => {
    const view = await throttledRun(e, {
      name: 'shaka-switch',
      scripts: SCRIPTS,
      setup: setup('shaka-switch'),
      match: /dash\/seg-\d-\d+\.m4s$/,
      bytesPerSecond: 60_000,
      fastUntilS: 3,
      playToS: 9,
    });
    expectSwitchedDown(view);
  });
});
