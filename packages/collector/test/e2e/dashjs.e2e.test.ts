/** dash.js (`dashjs`) in real Chromium against ffmpeg DASH (3 renditions + audio), read back through the query API. */
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
const SCRIPTS = ['/lib/dash.js', '/collector/openqoe.iife.js', '/collector/openqoe-dashjs.iife.js'];
/** Buffer-ahead capped at one segment so a held segment cannot be absorbed. */
const setup = (videoId: string, playNow = false) => `
const video = document.getElementById('v');
watchFrames(video);
const player = dashjs.MediaPlayer().create();
player.updateSettings({ streaming: { buffer: { bufferTimeDefault: 2, bufferTimeAtTopQuality: 2, bufferTimeAtTopQualityLongForm: 2 } } });
window.handle = openqoe.monitor(player, ${e.collectorOptions(`data: { videoId: '${videoId}' }`)});
// The page asks to play once the player has attached its source (a play() before that is aborted by the load).
player.on(dashjs.MediaPlayer.events.STREAM_INITIALIZED, () => {
  markPlay();
  video.play().catch(() => {});
});
player.initialize(video, '/media/dash/manifest.mpd', false);
${playNow ? 'video.play().catch(() => {});' : ''}
`;

describe('dash.js adapter in Chromium', () => {
  it('completion: the 12 s clip watched to 6 s reads 50 % within 2 points', async () => {
    const r = await completionRun(e, {
      name: 'dash-completion',
      scripts: SCRIPTS,
      setup: setup('dash-completion'),
      atS: 6,
    });
    expectCompletion(r, 50);
  });

  it('normal play with a scripted stall: rebuffer within max(100 ms, 5 %) of the frame gap, one rebuffer per frame gap', async () => {
    const r = await stallRun(e, {
      name: 'dash-stall',
      scripts: SCRIPTS,
      setup: setup('dash-stall'),
      // Segments are numbered from 1: 00004 holds 6–8 s.
      // Video and audio: with audio still flowing Chromium lets video underflow for up to 3 s without `waiting`.
      match: /dash\/seg-\d-00004\.m4s$/,
      holdMs: 5000,
      playToS: 9.5,
    });
    expectStallMeasured(r);
    expect(r.view).toMatchObject({
      player_software: 'dash.js',
      stream_format: 'dash',
      stream_type: 'vod',
      video_id: 'dash-stall',
    });
    expect(r.view.player_version).toMatch(/^5\./);
    expect(r.view.request_count as number).toBeGreaterThanOrEqual(5);
    expect(r.view.weighted_average_bitrate_bps as number).toBeGreaterThan(0);
    expect(r.view.cdn_host).toBe(CDN_HEADER_VALUE);
  });

  it('a manifest answering 404 is a fatal error: playback failure with the dash.js code', async () => {
    const fail = e.media.rule({ match: /dash\/manifest\.mpd$/, status: 404 });
    const page = await e.open(
      'dash-fatal',
      SCRIPTS,
      `
const video = document.getElementById('v');
const player = dashjs.MediaPlayer().create();
player.on(dashjs.MediaPlayer.events.ERROR, (ev) => { window.fatalCode = ev.error.code; });
player.initialize(video, '/media/dash/manifest.mpd', false);
window.handle = openqoe.monitor(player, ${e.collectorOptions("data: { videoId: 'dash-fatal' }")});
video.play().catch(() => {});
`,
    );
    try {
      await waitFor(
        () => page.evaluate(() => (window as unknown as { fatalCode?: number }).fatalCode !== undefined),
        'the dash.js error',
      );
    } finally {
      fail.remove();
    }
    const code = await page.evaluate(() => (window as unknown as { fatalCode: number }).fatalCode);
    const view = await e.leave(page, await e.viewId(page));
    expect(view).toMatchObject({
      outcome: 'failure',
      playback_failure: true,
      video_startup_failure: true,
      error_code: String(code),
    });
  });

  it('a seek is a seek, not a rebuffer', async () => {
    const view = await seekRun(e, 'dash-seek', SCRIPTS, setup('dash-seek'));
    expect(view).toMatchObject({ outcome: 'success', rebuffer_count: 0, seek_count: 1 });
  });

  it('closing the page during startup is an exit before video start', async () => {
    expectEbvs(
      await ebvsRun(e, {
        name: 'dash-ebvs',
        scripts: SCRIPTS,
        setup: setup('dash-ebvs', true),
        match: /dash\/seg-\d-00001\.m4s$/,
      }),
    );
  });

  it('a rendition switch: segments slowed below the rendition playing make dash.js switch down', async () => {
    const view = await throttledRun(e, {
      name: 'dash-switch',
      scripts: SCRIPTS,
      setup: setup('dash-switch'),
      match: /dash\/seg-\d-\d+\.m4s$/,
      bytesPerSecond: 60_000,
      fastUntilS: 3,
      playToS: 9,
    });
    expectSwitchedDown(view);
  });
});
