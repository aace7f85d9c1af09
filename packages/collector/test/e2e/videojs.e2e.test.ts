/** video.js 8 (VHS) in real Chromium against ffmpeg HLS, read back through the query API. */
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

const e = e2eSuite();
const SCRIPTS = ['/lib/video.js', '/collector/openqoe.iife.js', '/collector/openqoe-videojs.iife.js'];
/** VHS's buffer goal capped at one segment so a held segment cannot be absorbed. */
const setup = (videoId: string, options = '', playNow = false, vhs = '') => `
videojs.Vhs.GOAL_BUFFER_LENGTH = 2;
videojs.Vhs.MAX_GOAL_BUFFER_LENGTH = 2;
const player = videojs('v', { html5: { vhs: { overrideNative: true, ${vhs} } }, muted: true });
const video = player.tech({ IWillNotUseThisInPlugins: true }).el();
watchFrames(video);
window.handle = openqoe.monitor(player, ${e.collectorOptions(`data: { videoId: '${videoId}' }, ${options}`)});
player.src({ src: '/media/hls-ts/master.m3u8', type: 'application/x-mpegURL' });
// The page asks to play once VHS has attached its source (a play() before that is aborted by the load).
player.one('loadedmetadata', () => {
  markPlay();
  player.play();
});
${playNow ? 'player.play();' : ''}
`;

describe('video.js adapter in Chromium', () => {
  it('completion: the 12 s clip watched to 6 s reads 50 % within 2 points', async () => {
    const r = await completionRun(e, {
      name: 'videojs-completion',
      scripts: SCRIPTS,
      setup: setup('videojs-completion'),
      atS: 6,
    });
    expectCompletion(r, 50);
  });

  it('normal play with a scripted stall: rebuffer within max(100 ms, 5 %) of the frame gap, one rebuffer per frame gap', async () => {
    const r = await stallRun(e, {
      name: 'videojs-stall',
      scripts: SCRIPTS,
      setup: setup('videojs-stall'),
      match: /hls-ts\/v\d\/seg_00003\.ts$/,
      holdMs: 4000,
      playToS: 9.5,
    });
    expectStallMeasured(r);
    expect(r.view).toMatchObject({
      player_software: 'video.js',
      stream_format: 'hls',
      video_id: 'videojs-stall',
    });
    expect(r.view.player_version).toMatch(/^8\./);
    expect(r.view.weighted_average_bitrate_bps as number).toBeGreaterThan(0);
  });

  it('segments that keep failing never make video.js fatal: the rebuffer timeout turns the stall into QOE_REBUFFER_TIMEOUT', async () => {
    // From 4 s on every segment of every rendition answers 500: video.js cycles renditions and stalls for ever.
    const fail = e.media.rule({ match: /hls-ts\/v\d\/seg_0000[2-5]\.ts$/, status: 500 });
    const page = await e.open('videojs-stuck', SCRIPTS, setup('videojs-stuck', 'rebufferTimeoutMs: 4000'));
    const viewId = await e.viewId(page);
    try {
      // The collector sends the fatal error at once; the view ends when the page goes.
      await new Promise((r) => setTimeout(r, 12_000));
    } finally {
      fail.remove();
    }
    const vjsError = await page.evaluate(() =>
      (window as unknown as { videojs: (id: string) => { error(): unknown } }).videojs('v').error(),
    );
    const view = await e.leave(page, viewId);
    expect(vjsError, 'video.js itself never reported an error').toBeNull();
    expect(view).toMatchObject({
      outcome: 'failure',
      playback_failure: true,
      video_startup_failure: false,
      error_code: 'QOE_REBUFFER_TIMEOUT',
    });
    expect(view.rebuffer_duration_ms as number).toBeGreaterThanOrEqual(3900);
  });

  it('a seek is a seek, not a rebuffer', async () => {
    const view = await seekRun(e, 'videojs-seek', SCRIPTS, setup('videojs-seek'));
    expect(view).toMatchObject({ outcome: 'success', rebuffer_count: 0, seek_count: 1 });
  });

  it('closing the page during startup is an exit before video start', async () => {
    expectEbvs(
      await ebvsRun(e, {
        name: 'videojs-ebvs',
        scripts: SCRIPTS,
        setup: setup('videojs-ebvs', '', true),
        match: /hls-ts\/v\d\/seg_00000\.ts$/,
      }),
    );
  });

  it('a throttled CDN after a start above the lowest rendition: VHS switches down, every switch on a rendition the media has', async () => {
    // Left alone VHS starts on the lowest rendition (low initial playlist, capped by the player's size) and
    // has nowhere to go down; a high start estimate without those limits starts it higher.
    const view = await throttledRun(e, {
      name: 'videojs-switch',
      scripts: SCRIPTS,
      setup: setup(
        'videojs-switch',
        '',
        false,
        'bandwidth: 100000000, enableLowInitialPlaylist: false, limitRenditionByPlayerDimensions: false',
      ),
      match: /hls-ts\/v\d\/seg_\d+\.ts$/,
      bytesPerSecond: 60_000,
      fastUntilS: 3,
      playToS: 9,
    });
    expectSwitchedDown(view);
  });
});
