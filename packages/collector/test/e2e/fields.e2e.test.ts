/**
 * Every identity, content and request field of a view, end to end: the page
 * sets all view data at init, the media server answers one segment with a
 * 404 and names its CDN in a header, the page keeps its own marks (page
 * load, player ready, dropped frames, element size), and the stored view read
 * through the query API must match them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { e2eSuite } from './harness.js';
import { CDN_HEADER_VALUE, ensureMedia, RENDITIONS, type ViewRow, waitFor } from './kit/index.js';

const e = e2eSuite();

/** Every view-data field a site can set, with values the test can recognise. */
const DATA = {
  videoTitle: 'Field check',
  assetId: 'asset-fields',
  playbackId: 'pb-fields',
  liveStreamId: 'ls-fields',
  cdnProvider: 'test-cdn-provider',
  playerName: 'fields-page-player',
  subPropertyId: 'sub-fields',
  experimentName: 'exp-fields',
  viewerUserId: 'user-fields',
  ...Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`customData${i + 1}`, `cd${i + 1}-value`])),
} as Record<string, string>;

const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`).replace(/(\d+)$/, '_$1');

/**
 * The page's own marks: `initBefore`/`initAfter` around `monitor()` (ms since
 * the time origin), `readyBefore`/`readyAfter` from player-ready listeners
 * registered before and after the collector's, so the collector's own
 * moment lies between them.
 */
interface Marks {
  initBefore: number;
  initAfter: number;
  readyBefore: number;
  readyAfter: number;
}

/** What the page reports after it paused: nothing changes after this. */
interface PageState {
  marks: Marks;
  dropped: number;
  size: [number, number];
  videoSize: [number, number];
}

async function pausedState(page: Page): Promise<PageState> {
  return page.evaluate(async () => {
    const v = document.querySelector('video')!;
    v.pause();
    // Let the pause reach the compositor so the dropped-frame counter is final.
    await new Promise((r) => setTimeout(r, 300));
    const w = window as unknown as { marks: Marks };
    return {
      marks: w.marks,
      dropped: v.getVideoPlaybackQuality().droppedVideoFrames,
      size: [v.clientWidth * devicePixelRatio, v.clientHeight * devicePixelRatio] as [number, number],
      videoSize: [v.videoWidth, v.videoHeight] as [number, number],
    };
  });
}

/** The assertions every player shares: identity, content, request and page timing fields. */
function expectFields(
  view: ViewRow,
  videoId: string,
  s: PageState,
  failed: number | null,
  cdnHost = CDN_HEADER_VALUE,
): void {
  expect(view['video_id']).toBe(videoId);
  for (const [k, v] of Object.entries(DATA)) expect(view[snake(k)], snake(k)).toBe(v);
  expect(view).toMatchObject({
    stream_type: 'vod',
    cdn_host: cdnHost,
    sdk_name: 'openqoe-collector',
    outcome: 'success',
    playback_failure: false,
  });
  expect(view['page_url']).toBe(`${e.media.url}/fields-${videoId}.html`);
  // null: the player exposes no requests (a plain element).
  if (failed !== null) {
    expect(view['request_failed_count'], 'the 404s the media server answered').toBe(failed);
    expect(view.request_count as number).toBeGreaterThan(failed);
    expect(view.request_ttfb_ms as number).toBeGreaterThan(0);
    expect(view.request_throughput_bps as number).toBeGreaterThan(0);
  }
  // The collector counts dropped frames as deltas of the same counter; the page paused before
  // reading it, so the stored sum equals the page's value.
  expect(view.dropped_frames, 'dropped frames vs the page').toBe(s.dropped);
  // Page load: time origin → monitor(); the page marked both sides of the call (±1 ms rounding).
  const m = s.marks;
  const pageLoad = view.page_load_time_ms as number;
  expect(pageLoad).toBeGreaterThanOrEqual(Math.floor(m.initBefore) - 1);
  expect(pageLoad).toBeLessThanOrEqual(Math.ceil(m.initAfter) + 1);
  // Player startup: monitor() → player ready, between the page's listeners around the collector's.
  const playerStartup = view.player_startup_time_ms as number;
  expect(playerStartup).toBeGreaterThanOrEqual(Math.floor(m.readyBefore - m.initAfter) - 1);
  expect(playerStartup).toBeLessThanOrEqual(Math.ceil(m.readyAfter - m.initBefore) + 1);
  expect(pageLoad + playerStartup + (view.video_startup_time_ms as number)).toBe(
    view['aggregate_startup_time_ms'],
  );
}

/** Player size and rendition: the video shown at one rendition in the page's element. */
function expectScale(view: ViewRow, s: PageState, rendition: { width: number; height: number }): void {
  const known = RENDITIONS.map((r) => `${r.width}x${r.height}`);
  expect(known).toContain(`${s.videoSize[0]}x${s.videoSize[1]}`);
  expect(s.videoSize).toEqual([rendition.width, rendition.height]);
  const scale = Math.min(s.size[0] / rendition.width, s.size[1] / rendition.height);
  const up = 100 * Math.max(0, scale - 1);
  const down = 100 * Math.max(0, 1 - scale);
  expect(view['upscale_percentage'] as number).toBeCloseTo(up, 3);
  expect(view['max_upscale_percentage'] as number).toBeCloseTo(up, 3);
  expect(view['downscale_percentage'] as number).toBeCloseTo(down, 3);
  expect(view['max_downscale_percentage'] as number).toBeCloseTo(down, 3);
  for (const t of view.timeline.filter((t) => t.video_width)) {
    expect(`${t.video_width}x${t.video_height}`).toBe(`${rendition.width}x${rendition.height}`);
  }
}

/** Without a pinned rendition: every rendition in the view and on the page is one the media has. */
function expectKnownRenditions(view: ViewRow, s: PageState): void {
  const known = RENDITIONS.map((r) => `${r.width}x${r.height}`);
  expect(known).toContain(`${s.videoSize[0]}x${s.videoSize[1]}`);
  const seen = view.timeline.filter((t) => t.video_width);
  expect(seen.length).toBeGreaterThan(0);
  for (const t of seen) expect(known).toContain(`${t.video_width}x${t.video_height}`);
}

const dataLiteral = (videoId: string) => JSON.stringify({ videoId, ...DATA });

/** Plays to 4 s at normal speed, then 3 s of media at 8× (frames the screen cannot show are dropped). */
async function playAndDrop(page: Page): Promise<void> {
  await e.playedTo(page, 4);
  await page.evaluate(() => {
    document.querySelector('video')!.playbackRate = 8;
  });
  await e.playedTo(page, 7);
  await page.evaluate(() => {
    document.querySelector('video')!.playbackRate = 1;
  });
  await e.playedTo(page, 8);
}

/**
 * Opens the page, answers the first request matching `fail` with a 404, plays
 * (with the 8× stretch), pauses and leaves; checks every field of the view.
 * `setup` gets the page's collector options and sets `window.marks`.
 */
async function fieldsRun(o: {
  videoId: string;
  scripts: string[];
  setup: (options: string) => string;
  fail: RegExp;
  player: string;
  format: string;
  /** The page keeps the top rendition for the whole view (default true). */
  pinned?: boolean;
}): Promise<ViewRow> {
  const top = RENDITIONS.length - 1;
  const fail = e.media.rule({ match: o.fail, status: 404, times: 1 });
  try {
    const page = await e.open(
      `fields-${o.videoId}`,
      o.scripts,
      o.setup(e.collectorOptions(`data: ${dataLiteral(o.videoId)}`)),
    );
    const viewId = await e.viewId(page);
    await playAndDrop(page);
    const state = await pausedState(page);
    const view = await e.leave(page, viewId);
    if (process.env['OPENQOE_E2E_DEBUG']) console.log(JSON.stringify({ state, view }));
    expect(fail.hits.length, 'the media server answered one 404').toBe(1);
    expect(view).toMatchObject({ player_software: o.player, stream_format: o.format });
    expectFields(view, o.videoId, state, 1);
    if (o.pinned === false) expectKnownRenditions(view, state);
    else expectScale(view, state, RENDITIONS[top]!);
    expect(state.dropped, 'the 8× stretch dropped frames').toBeGreaterThan(0);
    return view;
  } finally {
    fail.remove();
  }
}

const TOP = RENDITIONS.length - 1;

describe('every view field end to end', () => {
  it('hls.js: identity, content, CDN, requests with one 404, dropped frames, page timings, sizes', async () => {
    await fieldsRun({
      videoId: 'hls-fields',
      player: 'hls.js',
      format: 'hls',
      scripts: ['/lib/hls.js', '/collector/openqoe.iife.js', '/collector/openqoe-hlsjs.iife.js'],
      // hls.js retries the fragment on the same rendition.
      fail: new RegExp(`hls-ts/v${TOP}/seg_00002\\.ts$`),
      setup: (options) => `
const video = document.getElementById('v');
watchFrames(video);
// Below the top rendition's bitrate ABR may not go (the 8× stretch would otherwise switch down).
const hls = new Hls({ startLevel: ${TOP}, minAutoBitrate: ${RENDITIONS[TOP - 1]!.bitrateBps * 1.5} });
window.marks = {};
hls.on(Hls.Events.MANIFEST_PARSED, () => { window.marks.readyBefore = performance.now(); });
window.marks.initBefore = performance.now();
window.handle = openqoe.monitor(hls, ${options});
window.marks.initAfter = performance.now();
hls.on(Hls.Events.MANIFEST_PARSED, () => {
  window.marks.readyAfter = performance.now();
  markPlay();
  video.play().catch(() => {});
});
hls.loadSource('/media/hls-ts/master.m3u8');
hls.attachMedia(video);
`,
    });
  });

  it('dash.js: identity, content, CDN, requests with one 404, dropped frames, page timings, sizes', async () => {
    await fieldsRun({
      videoId: 'dash-fields',
      player: 'dash.js',
      format: 'dash',
      scripts: ['/lib/dash.js', '/collector/openqoe.iife.js', '/collector/openqoe-dashjs.iife.js'],
      // dash.js retries the segment (its HTTP loader, three attempts for media segments).
      fail: new RegExp(`dash/seg-${TOP}-00002\\.m4s$`),
      setup: (options) => `
const video = document.getElementById('v');
watchFrames(video);
const player = dashjs.MediaPlayer().create();
// The top rendition for the whole view (no ABR, a start estimate above every rendition), so the scale is known.
player.updateSettings({ streaming: { abr: { autoSwitchBitrate: { video: false }, initialBitrate: { video: 100000 } } } });
window.marks = {};
player.on(dashjs.MediaPlayer.events.STREAM_INITIALIZED, () => { window.marks.readyBefore = performance.now(); });
window.marks.initBefore = performance.now();
window.handle = openqoe.monitor(player, ${options});
window.marks.initAfter = performance.now();
player.on(dashjs.MediaPlayer.events.STREAM_INITIALIZED, () => {
  window.marks.readyAfter = performance.now();
  markPlay();
  video.play().catch(() => {});
});
player.initialize(video, '/media/dash/manifest.mpd', false);
`,
    });
  });

  it('video.js: identity, content, CDN, requests with one 404, dropped frames, page timings, sizes', async () => {
    await fieldsRun({
      videoId: 'videojs-fields',
      player: 'video.js',
      format: 'hls',
      scripts: ['/lib/video.js', '/collector/openqoe.iife.js', '/collector/openqoe-videojs.iife.js'],
      // VHS does not retry a failed segment on the same rendition: it sets that rendition aside and loads
      // the segment from another, so the view's rendition is not pinned (and the scale not exact) here.
      fail: /hls-ts\/v\d\/seg_00002\.ts$/,
      pinned: false,
      setup: (options) => `
const player = videojs('v', { html5: { vhs: { overrideNative: true } }, muted: true });
const video = player.tech({ IWillNotUseThisInPlugins: true }).el();
watchFrames(video);
window.marks = {};
player.one('loadedmetadata', () => { window.marks.readyBefore = performance.now(); });
window.marks.initBefore = performance.now();
window.handle = openqoe.monitor(player, ${options});
window.marks.initAfter = performance.now();
player.one('loadedmetadata', () => {
  window.marks.readyAfter = performance.now();
  markPlay();
  player.play();
});
player.src({ src: '/media/hls-ts/master.m3u8', type: 'application/x-mpegURL' });
`,
    });
  });

  it('HTML5 (progressive MP4 in a 320×180 element): identity, content, host, dropped frames, page timings, sizes', async () => {
    const videoId = 'html5-fields';
    const page = await e.open(
      `fields-${videoId}`,
      ['/collector/openqoe.iife.js'],
      `
const video = document.getElementById('v');
// Half the clip's 640×360, so the view must show 50 % downscale.
video.width = 320;
video.height = 180;
watchFrames(video);
window.marks = {};
video.addEventListener('loadedmetadata', () => { window.marks.readyBefore = performance.now(); });
window.marks.initBefore = performance.now();
window.handle = openqoe.monitor(video, ${e.collectorOptions(`data: ${dataLiteral(videoId)}`)});
window.marks.initAfter = performance.now();
video.addEventListener('loadedmetadata', () => { window.marks.readyAfter = performance.now(); });
video.src = '/media/progressive.mp4';
markPlay();
video.play().catch(() => {});
`,
    );
    const viewId = await e.viewId(page);
    await playAndDrop(page);
    const state = await pausedState(page);
    const view = await e.leave(page, viewId);
    if (process.env['OPENQOE_E2E_DEBUG']) console.log(JSON.stringify({ state, view }));
    expect(view).toMatchObject({ player_software: 'html5', stream_format: 'progressive' });
    expect(state.size).toEqual([320, 180]);
    // The element exposes neither requests nor response headers: the host is the source URL's.
    expectFields(view, videoId, state, null, new URL(e.media.url).host);
    expectScale(view, state, RENDITIONS[1]!);
    expect(state.dropped, 'the 8× stretch dropped frames').toBeGreaterThan(0);
  });

  it('Shaka: identity, content, CDN, requests with one 404, dropped frames, page timings, sizes', async () => {
    await fieldsRun({
      videoId: 'shaka-fields',
      player: 'shaka',
      format: 'dash',
      scripts: ['/lib/shaka.js', '/collector/openqoe.iife.js', '/collector/openqoe-shaka.iife.js'],
      // Shaka's networking engine retries the segment.
      fail: new RegExp(`dash/seg-${TOP}-00002\\.m4s$`),
      setup: (options) => `
const video = document.getElementById('v');
watchFrames(video);
const player = new shaka.Player();
// Only the top rendition is playable, so the scale is known.
player.configure({ restrictions: { minWidth: ${RENDITIONS[TOP]!.width} } });
window.marks = {};
player.addEventListener('loaded', () => { window.marks.readyBefore = performance.now(); });
window.marks.initBefore = performance.now();
window.handle = openqoe.monitor(player, ${options});
window.marks.initAfter = performance.now();
player.addEventListener('loaded', () => { window.marks.readyAfter = performance.now(); });
player.attach(video).then(() => player.load('/media/dash/manifest.mpd')).then(() => {
  markPlay();
  video.play().catch(() => {});
});
`,
    });
  });
});

/**
 * The on-demand DASH clip as a live stream: a dynamic MPD whose availability
 * start is `astMs` (media time t is live at astMs + t), with the server's
 * clock in a direct UTCTiming element (no time server to reach).
 */
function liveMpd(astMs: number): string {
  const mpd = readFileSync(join(ensureMedia(), 'dash/manifest.mpd'), 'utf8');
  return mpd
    .replace('type="static"', `type="dynamic" availabilityStartTime="${new Date(astMs).toISOString()}"`)
    .replace(
      'mediaPresentationDuration="PT12.0S"',
      'minimumUpdatePeriod="PT60S" timeShiftBufferDepth="PT30S" suggestedPresentationDelay="PT4S"',
    )
    .replace(
      '<Period id="0" start="PT0.0S">',
      '<BaseURL>/media/dash/</BaseURL>\n<Period id="0" start="PT0.0S">',
    )
    .replace(
      '</MPD>',
      `<UTCTiming schemeIdUri="urn:mpeg:dash:utc:direct:2014" value="${new Date().toISOString()}"/>\n</MPD>`,
    );
}

/** Plays the live DASH stream 3 s and compares the view's latency with the page's frames. */
async function liveRun(name: string, scripts: string[], setup: (options: string) => string): Promise<void> {
  // 11 s of the 12 s clip are available when the page opens; the player starts behind the live edge.
  const astMs = Date.now() - 11_000;
  e.media.text(`/${name}.mpd`, 'application/dash+xml', () => liveMpd(astMs));
  const page = await e.open(name, scripts, setup(e.collectorOptions(`data: { videoId: '${name}' }`)));
  const viewId = await e.viewId(page);
  await waitFor(async () => (await e.truth(page)).frames.length > 0, 'the first frame');
  const firstMedia = (await e.truth(page)).frames[0]![1];
  await e.playedTo(page, Math.min(firstMedia + 3, 11.5));
  const truth = await e.truth(page);
  const view = await e.leave(page, viewId);
  // The page's own latency: frame presentation time − (availability start + media time).
  const latencies = truth.frames.map(([shownMs, mediaS]) => shownMs - (astMs + mediaS * 1000));
  const mean = latencies.reduce((a, b) => a + b, 0) / latencies.length;
  if (process.env['OPENQOE_E2E_DEBUG'])
    console.log(JSON.stringify({ mean, firstMedia, latency: view.live_latency_ms }));
  expect(view).toMatchObject({ stream_type: 'live', stream_format: 'dash', outcome: 'success' });
  expect(mean, 'the page played behind the live edge').toBeGreaterThan(0);
  expect(
    Math.abs((view.live_latency_ms as number) - mean),
    `${view.live_latency_ms} vs ${mean}`,
  ).toBeLessThanOrEqual(300);
}

describe('live latency of DASH players against the page’s own frames', () => {
  it('dash.js', async () => {
    await liveRun(
      'dash-live',
      ['/lib/dash.js', '/collector/openqoe.iife.js', '/collector/openqoe-dashjs.iife.js'],
      (options) => `
const video = document.getElementById('v');
watchFrames(video);
const player = dashjs.MediaPlayer().create();
// No catch-up: the latency stays where playback started, so sample times do not weigh the comparison.
player.updateSettings({ streaming: { liveCatchup: { enabled: false } } });
window.handle = openqoe.monitor(player, ${options});
player.on(dashjs.MediaPlayer.events.STREAM_INITIALIZED, () => {
  markPlay();
  video.play().catch(() => {});
});
player.initialize(video, '/dash-live.mpd', false);
`,
    );
  });

  it('Shaka', async () => {
    await liveRun(
      'shaka-live',
      ['/lib/shaka.js', '/collector/openqoe.iife.js', '/collector/openqoe-shaka.iife.js'],
      (options) => `
const video = document.getElementById('v');
watchFrames(video);
const player = new shaka.Player();
window.handle = openqoe.monitor(player, ${options});
player.attach(video).then(() => player.load('/shaka-live.mpd')).then(() => {
  markPlay();
  video.play().catch(() => {});
});
`,
    );
  });
});
