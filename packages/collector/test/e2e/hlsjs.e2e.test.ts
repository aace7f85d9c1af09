/**
 * hls.js in real Chromium against ffmpeg HLS (TS and fMP4, 3 renditions),
 * results read back through the query API.
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
import { CDN_HEADER_VALUE, CLIP_SECONDS, RENDITIONS, SEGMENT_SECONDS, waitFor } from './kit/index.js';

const e = e2eSuite();
const SCRIPTS = ['/lib/hls.js', '/collector/openqoe.iife.js', '/collector/openqoe-hlsjs.iife.js'];
/** Buffer-ahead capped at one segment so a held segment cannot be absorbed. */
const setup = (src: string, videoId: string, hlsConfig = '', playEvent = 'MANIFEST_PARSED') => `
const video = document.getElementById('v');
watchFrames(video);
const hls = new Hls({ maxBufferLength: 2, maxMaxBufferLength: 2, backBufferLength: 0, ${hlsConfig} });
window.hls = hls;
hls.on(Hls.Events.ERROR, (_e, d) => { if (d.fatal) window.fatal = true; });
window.handle = openqoe.monitor(hls, ${e.collectorOptions(`data: { videoId: '${videoId}', videoTitle: 'hls.js ${videoId}', assetId: 'asset-1', playbackId: 'pb-1' }`)});
// The page asks to play once hls.js has attached its source (a play() before that can be aborted by the load).
hls.on(Hls.Events.${playEvent}, () => {
  markPlay();
  video.play().catch(() => {});
});
hls.loadSource('${src}');
hls.attachMedia(video);
`;

describe('hls.js adapter in Chromium', () => {
  it('completion: the 12 s clip watched to 6 s reads 50 % within 2 points', async () => {
    const r = await completionRun(e, {
      name: 'hls-completion',
      scripts: SCRIPTS,
      setup: setup('/media/hls-ts/master.m3u8', 'hls-completion'),
      atS: 6,
    });
    expectCompletion(r, 50);
  });

  it('normal play with a scripted stall: rebuffer within max(100 ms, 5 %) of the frame gap, one rebuffer per frame gap; unload sends the last interval', async () => {
    const r = await stallRun(e, {
      name: 'hls-stall',
      scripts: SCRIPTS,
      setup: setup('/media/hls-ts/master.m3u8', 'hls-stall'),
      match: /hls-ts\/v\d\/seg_00003\.ts$/,
      holdMs: 4000,
      playToS: 9.5,
    });
    expectStallMeasured(r);
    const { view, truth } = r;
    expect(view).toMatchObject({
      outcome: 'success',
      completion_reason: 'explicit_end',
      video_id: 'hls-stall',
      video_title: 'hls.js hls-stall',
      asset_id: 'asset-1',
      playback_id: 'pb-1',
      player_software: 'hls.js',
      stream_format: 'hls',
      stream_type: 'vod',
      cdn_host: CDN_HEADER_VALUE,
      playback_failure: false,
      exited_before_video_start: false,
    });
    expect(view.player_version).toMatch(/^1\.\d+\.\d+/);
    expect(view.request_count as number).toBeGreaterThanOrEqual(5);
    expect(view.request_ttfb_ms as number).toBeGreaterThan(0);
    expect(view.request_throughput_bps as number).toBeGreaterThan(0);
    expect(view.page_load_time_ms as number).toBeGreaterThan(0);
    expect(view.player_startup_time_ms as number).toBeGreaterThan(0);
    const bitrates = RENDITIONS.map((r) => r.bitrateBps);
    expect(view.weighted_average_bitrate_bps as number).toBeGreaterThan(Math.min(...bitrates) * 0.5);
    // The last playing interval came with the page's unload (sendBeacon).
    const playedMs = view.timeline
      .filter((t) => t.kind === 'sample' && t.state === 'playing')
      .reduce((a, t) => a + t.duration_ms!, 0);
    const lastFrame = truth.frames.at(-1)!;
    expect(playedMs).toBeGreaterThanOrEqual(
      (lastFrame[1] * 1000 - (view.rebuffer_duration_ms as number)) * 0.9,
    );
  });

  it('fMP4: a rendition switch is recorded and a seek is not a rebuffer', async () => {
    const view = await seekRun(
      e,
      'hls-seek',
      SCRIPTS,
      setup('/media/hls-fmp4/master.m3u8', 'hls-seek', 'startLevel: 0'),
    );
    expect(view).toMatchObject({ outcome: 'success', rebuffer_count: 0, seek_count: 1 });
    // Starts on the first rendition (startLevel 0); on a fast local link hls.js switches up.
    expect(view.rendition_changes as number).toBeGreaterThanOrEqual(1);
    expect(view.upshifts as number).toBeGreaterThanOrEqual(1);
    const switches = view.timeline.filter((t) => t.type === 'qualitychange');
    const known = RENDITIONS.map((r) => `${r.width}x${r.height}`);
    for (const q of switches) expect(known).toContain(`${q.video_width}x${q.video_height}`);
  });

  it('a manifest answering 500 is a fatal error: playback failure with the hls.js code', async () => {
    const fail = e.media.rule({ match: /hls-ts\/master\.m3u8$/, status: 500 });
    const page = await e.open(
      'hls-fatal',
      SCRIPTS,
      setup('/media/hls-ts/master.m3u8', 'hls-fatal', '', 'MEDIA_ATTACHED'),
    );
    const viewId = await e.viewId(page);
    try {
      await waitFor(
        () => page.evaluate(() => (window as unknown as { fatal: boolean }).fatal),
        'the fatal error',
      );
    } finally {
      fail.remove();
    }
    const view = await e.leave(page, viewId);
    expect(view).toMatchObject({
      playback_failure: true,
      video_startup_failure: true,
      error_code: 'manifestLoadError',
      exited_before_video_start: false,
    });
    expect(fail.hits.length).toBeGreaterThanOrEqual(1);
  });

  it('closing the page during startup is an exit before video start', async () => {
    expectEbvs(
      await ebvsRun(e, {
        name: 'hls-ebvs',
        scripts: SCRIPTS,
        setup: setup('/media/hls-ts/master.m3u8', 'hls-ebvs'),
        match: /hls-ts\/v\d\/seg_00000\.ts$/,
      }),
    );
  });

  it('live: latency from the program date time matches the page’s own frames', async () => {
    // A live playlist (no ENDLIST) of the 640×360 rendition whose first segment is dated 60 s ago.
    const baseMs = Date.now() - 60_000;
    const segments = Array.from({ length: CLIP_SECONDS / SEGMENT_SECONDS }, (_, i) => i);
    e.media.text('/live.m3u8', 'application/vnd.apple.mpegurl', () =>
      [
        '#EXTM3U',
        '#EXT-X-VERSION:3',
        `#EXT-X-TARGETDURATION:${SEGMENT_SECONDS}`,
        '#EXT-X-MEDIA-SEQUENCE:0',
        ...segments.flatMap((i) => [
          `#EXT-X-PROGRAM-DATE-TIME:${new Date(baseMs + i * SEGMENT_SECONDS * 1000).toISOString()}`,
          `#EXTINF:${SEGMENT_SECONDS}.000000,`,
          `/media/hls-ts/v1/seg_${String(i).padStart(5, '0')}.ts`,
        ]),
        '',
      ].join('\n'),
    );
    const page = await e.open(
      'hls-live',
      SCRIPTS,
      setup('/live.m3u8', 'hls-live', 'maxBufferLength: 4, maxMaxBufferLength: 4'),
    );
    const viewId = await e.viewId(page);
    await waitFor(async () => (await e.truth(page)).frames.length > 0, 'the first frame');
    const firstMedia = (await e.truth(page)).frames[0]![1];
    await e.playedTo(page, firstMedia + 3);
    const truth = await e.truth(page);
    const view = await e.leave(page, viewId);
    // The page's own latency: frame presentation time − (program date time of segment 0 + media time).
    const latencies = truth.frames.map(([shownMs, mediaS]) => shownMs - (baseMs + mediaS * 1000));
    const mean = latencies.reduce((a, b) => a + b, 0) / latencies.length;
    expect(view).toMatchObject({ stream_type: 'live', outcome: 'success' });
    expect(
      Math.abs((view.live_latency_ms as number) - mean),
      `${view.live_latency_ms} vs ${mean}`,
    ).toBeLessThanOrEqual(300);
  });
});
