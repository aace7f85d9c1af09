/**
 * hls.js in real Chromium against ffmpeg HLS (TS and fMP4, 3 renditions),
 * results read back through the query API.
 */
import { describe, expect, it } from 'vitest';
import { e2eSuite, withinTolerance } from './harness.js';
import { CDN_HEADER_VALUE, FPS, frameGaps, RENDITIONS, startupFromFrames } from './kit/index.js';

const e = e2eSuite();
const SCRIPTS = ['/lib/hls.js', '/collector/openqoe.iife.js', '/collector/openqoe-hlsjs.iife.js'];
/** Buffer-ahead capped at one segment so a held segment cannot be absorbed. */
const setup = (src: string, videoId: string, hlsConfig = '') => `
const video = document.getElementById('v');
watchFrames(video);
const hls = new Hls({ maxBufferLength: 2, maxMaxBufferLength: 2, backBufferLength: 0, ${hlsConfig} });
window.hls = hls;
window.handle = openqoe.monitor(hls, ${e.collectorOptions(`data: { videoId: '${videoId}', videoTitle: 'hls.js ${videoId}', assetId: 'asset-1', playbackId: 'pb-1' }`)});
hls.loadSource('${src}');
hls.attachMedia(video);
markPlay();
video.play().catch(() => {});
`;

describe('hls.js adapter in Chromium', () => {
  it('normal play with a scripted stall: rebuffer within max(100 ms, 5 %) of the frame gap, count exact; unload sends the last interval', async () => {
    const HOLD_MS = 4000;
    const hold = e.media.rule({ match: /hls-ts\/v\d\/seg_00003\.ts$/, holdMs: HOLD_MS, times: 1 });
    const page = await e.open('hls-stall', SCRIPTS, setup('/media/hls-ts/master.m3u8', 'hls-stall'));
    const viewId = await e.viewId(page);
    await e.playedTo(page, 9.5);
    const truth = await e.truth(page);
    const view = await e.leave(page, viewId);
    hold.remove();

    const gaps = frameGaps(truth, FPS);
    console.log(JSON.stringify({ gaps, hits: hold.hits, rebuffer: view.rebuffer_duration_ms, startup: view.video_startup_time_ms, truthStartup: startupFromFrames(truth), rc: view.rendition_changes, br: view.weighted_average_bitrate_bps, watch: view.watch_time_ms, tl: view.timeline.map((t) => `${t.kind === 'sample' ? t.state + ':' + t.duration_ms : t.type}`).join(' ') }));
    expect(gaps).toHaveLength(1);
    const gap = gaps[0]!;
    const heldMs = hold.hits[0]!.endMs - hold.hits[0]!.startMs;
    expect(heldMs).toBeGreaterThanOrEqual(HOLD_MS - 5);
    // The stall cannot outlast the server's hold (the buffer ahead absorbs part of it).
    expect(gap).toBeLessThanOrEqual(heldMs + 100);
    expect(view.rebuffer_count).toBe(1);
    expect(withinTolerance(view.rebuffer_duration_ms as number, gap), `${view.rebuffer_duration_ms} vs ${gap}`).toBe(true);
    expect(Math.abs((view.video_startup_time_ms as number) - startupFromFrames(truth))).toBeLessThanOrEqual(100);

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
    const last = view.timeline.at(-1)!;
    expect(last.type).toBe('viewend');
    const playedMs = view.timeline.filter((t) => t.kind === 'sample' && t.state === 'playing').reduce((a, t) => a + t.duration_ms!, 0);
    const lastFrame = truth.frames.at(-1)!;
    expect(playedMs).toBeGreaterThanOrEqual((lastFrame[1] * 1000 - gap) * 0.9);
  });
});
