/**
 * One browser, one media server and one openqoe server per test file, and
 * the steps the player tests share: open a page, wait for the page's own
 * truth, leave the page, read the view back through the query API.
 */
import { appendFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { slowTests } from '../../../server/test/helpers/slow-tests.js';
import {
  buildCollector,
  ensureMedia,
  FPS,
  type FrameGap,
  frameGaps,
  launchChromium,
  type MediaServer,
  newContext,
  playerPage,
  RENDITIONS,
  type ServerProcess,
  serveLibraries,
  startMediaServer,
  startOpenqoe,
  startupFromFrames,
  stopOpenqoe,
  type Truth,
  timelineText,
  type ViewRow,
  waitFor,
  waitForView,
} from './kit/index.js';

export interface E2e {
  browser: Browser;
  media: MediaServer;
  server: ServerProcess;
  /** `beaconUrl` and `envKey` as a JS object literal for pages. */
  collectorOptions(extra?: string): string;
  /** Serves a page built from `scripts` + `setup` and opens it. */
  open(name: string, scripts: string[], setup: string): Promise<Page>;
  truth(page: Page): Promise<Truth>;
  /** Waits until the page has shown a frame at or past `mediaTimeS`. */
  playedTo(page: Page, mediaTimeS: number, timeoutMs?: number): Promise<void>;
  viewId(page: Page): Promise<string>;
  /** Closes the page (pagehide → sendBeacon) and returns the stored view. */
  leave(page: Page, viewId: string): Promise<ViewRow>;
}

export function e2eSuite(): E2e {
  const e = {} as E2e;
  // Building, media, a browser and a server; then players playing real media.
  slowTests(180_000);
  beforeAll(async () => {
    buildCollector();
    const dir = ensureMedia();
    const [browser, media, server] = await Promise.all([
      launchChromium(),
      startMediaServer(dir),
      startOpenqoe(),
    ]);
    serveLibraries(media);
    Object.assign(e, { browser, media, server });
  });
  afterAll(async () => {
    await e.browser?.close();
    await e.media?.close();
    await stopOpenqoe(e.server);
  });
  e.collectorOptions = (extra = '') =>
    `{ beaconUrl: ${JSON.stringify(`${e.server.url}/v1/beacon`)}, envKey: ${JSON.stringify(
      e.server.bootstrap().environment.key,
    )}, heartbeatMs: 2000, flushIntervalMs: 1000, ${extra} }`;
  e.open = async (name, scripts, setup) => {
    e.media.page(`/${name}.html`, playerPage(scripts, setup));
    const ctx = await newContext(e.browser);
    const page = await ctx.newPage();
    await page.goto(`${e.media.url}/${name}.html`);
    return page;
  };
  e.truth = (page) => page.evaluate(() => (window as unknown as { truth: Truth }).truth);
  e.playedTo = (page, t, timeoutMs = 30_000) =>
    waitFor(
      async () => {
        const frames = (await e.truth(page)).frames;
        return frames.length > 0 && frames.at(-1)![1] >= t;
      },
      `the page to show media time ${t} s`,
      timeoutMs,
    );
  e.viewId = (page) =>
    page.evaluate(() => (window as unknown as { handle: { viewId: string } }).handle.viewId);
  e.leave = async (page, viewId) => {
    // The collector's own counters, so a view that never arrives says whether the page failed to send it.
    const stats = await page
      .evaluate(() =>
        JSON.stringify((window as unknown as { handle?: { stats(): unknown } }).handle?.stats()),
      )
      .catch(() => 'unavailable');
    await page.close({ runBeforeUnload: true });
    try {
      return await waitForView(e.server, viewId);
    } catch (err) {
      throw new Error(`${(err as Error).message}; collector stats before leaving: ${stats}`);
    } finally {
      // Only once the view is stored: until then the page's last requests stay the browser's to send.
      await page
        .context()
        .close()
        .catch(() => {});
    }
  };
  return e;
}

/** True when `measured` is within max(100 ms, 5 %) of `truth`. */
export function withinTolerance(measured: number, truth: number): boolean {
  return Math.abs(measured - truth) <= Math.max(100, 0.05 * truth);
}

export interface StallRun {
  view: ViewRow;
  truth: Truth;
  /** The page's presented-frame gaps longer than 250 ms. */
  gaps: FrameGap[];
  /** The longest time the server held a matching request, and when that hold ended (epoch ms). */
  heldMs: number;
  holdEndMs: number;
}

/**
 * Plays a page whose player requests a segment matching `match`, holds that
 * segment for `holdMs`, waits until the page has shown `playToS`, leaves the
 * page (unload path) and returns the stored view with the page's truth.
 */
export async function stallRun(
  e: E2e,
  o: { name: string; scripts: string[]; setup: string; match: RegExp; holdMs: number; playToS: number },
): Promise<StallRun> {
  const hold = e.media.rule({ match: o.match, holdMs: o.holdMs, times: 1 });
  try {
    const page = await e.open(o.name, o.scripts, o.setup);
    const viewId = await e.viewId(page);
    await e.playedTo(page, o.playToS, 40_000);
    const truth = await e.truth(page);
    const view = await e.leave(page, viewId);
    const heldMs = Math.max(...hold.hits.map((h) => h.endMs - h.startMs));
    const holdEndMs = Math.max(...hold.hits.map((h) => h.endMs));
    return { view, truth, gaps: frameGaps(truth, FPS), heldMs, holdEndMs };
  } finally {
    hold.remove();
  }
}

/** The stall assertions every player shares: one stall, measured within max(100 ms, 5 %) of the page's frame gap. */
export function expectStallMeasured(r: StallRun): void {
  // The scripted stall is the frame gap that ends after the held segment was released; a short
  // hiccup elsewhere on a loaded machine (no `waiting`, nothing buffered missing) is not it.
  const scripted = r.gaps.filter((g) => g.toMs >= r.holdEndMs && g.fromMs <= r.holdEndMs + 1000);
  if (process.env['OPENQOE_E2E_DEBUG']) {
    console.log(
      JSON.stringify({
        gaps: r.gaps,
        heldMs: r.heldMs,
        holdEndMs: r.holdEndMs,
        truthStartup: startupFromFrames(r.truth),
        startup: r.view.video_startup_time_ms,
        rebuffer: r.view.rebuffer_duration_ms,
        tl: timelineText(r.view),
      }),
    );
  }
  const report = process.env['OPENQOE_E2E_REPORT'];
  if (report && scripted.length === 1) {
    const row = {
      player: r.view['player_software'],
      frameGapMs: Math.round(scripted[0]!.stallMs),
      rebufferMs: r.view.rebuffer_duration_ms,
      heldMs: r.heldMs,
      startupMarksMs: Math.round(startupFromFrames(r.truth)),
      startupMs: r.view.video_startup_time_ms,
    };
    appendFileSync(report, `${JSON.stringify(row)}\n`);
  }
  expect(scripted, 'presented-frame gap of the scripted stall').toHaveLength(1);
  const gap = scripted[0]!.stallMs;
  // The stall cannot outlast the server's hold.
  expect(gap).toBeLessThanOrEqual(r.heldMs + 100);
  // A second stall of its own on a loaded machine (the next segment late after the release) is
  // real and is counted: each rebuffer past the scripted one must then be a presented-frame gap
  // of its own after startup. One stall split in two has no second gap and still fails here.
  const others = r.gaps.filter((g) => !scripted.includes(g) && g.fromMs > r.truth.frames[0]![0]);
  const diag = JSON.stringify({
    gaps: r.gaps.map((g) => ({ from: Math.round(g.fromMs), ms: Math.round(g.stallMs) })),
    holdEndMs: r.holdEndMs,
    timeline: timelineText(r.view),
  });
  const count = r.view.rebuffer_count as number;
  expect(count, `rebuffers counted vs presented-frame gaps: ${diag}`).toBeGreaterThanOrEqual(1);
  expect(count, `rebuffers counted vs presented-frame gaps: ${diag}`).toBeLessThanOrEqual(1 + others.length);
  const measured = r.view.rebuffer_duration_ms as number;
  // Their durations add up: the scripted gap, plus the extra gaps when extra rebuffers were counted.
  const truthMs = gap + (count > 1 ? others.reduce((a, g) => a + g.stallMs, 0) : 0);
  expect(
    withinTolerance(measured, truthMs),
    `rebuffer ${measured} ms vs frame gaps ${truthMs} ms: ${diag}`,
  ).toBe(true);
  const startup = r.view.video_startup_time_ms as number;
  const truthStartup = startupFromFrames(r.truth);
  expect(
    Math.abs(startup - truthStartup),
    `startup ${startup} ms vs page marks ${Math.round(truthStartup)} ms: ${diag}`,
  ).toBeLessThanOrEqual(100);
  expect(r.view.outcome).toBe('success');
  expect(r.view.timeline.at(-1)!.type, 'the view end arrived via the unload path').toBe('viewend');
}

/** Plays to 2.5 s, seeks to 8 s, plays to 10 s and leaves; returns the stored view. */
export async function seekRun(e: E2e, name: string, scripts: string[], setup: string): Promise<ViewRow> {
  const page = await e.open(name, scripts, setup);
  const viewId = await e.viewId(page);
  await e.playedTo(page, 2.5);
  await page.evaluate(() => {
    const video = document.querySelector('video')!;
    video.currentTime = 8;
  });
  await e.playedTo(page, 10);
  return e.leave(page, viewId);
}

/** Holds every request matching `match` for 20 s and leaves the page 1.5 s after it opened. */
export async function ebvsRun(
  e: E2e,
  o: { name: string; scripts: string[]; setup: string; match: RegExp },
): Promise<ViewRow> {
  const hold = e.media.rule({ match: o.match, holdMs: 20_000, times: 1 });
  try {
    const page = await e.open(o.name, o.scripts, o.setup);
    const viewId = await e.viewId(page);
    await new Promise((r) => setTimeout(r, 1500));
    return await e.leave(page, viewId);
  } finally {
    hold.remove();
  }
}

/** What every player's EBVS view must show. */
export function expectEbvs(view: ViewRow): void {
  expect(view).toMatchObject({ outcome: 'ebvs', exited_before_video_start: true, playback_failure: false });
  expect(view.video_startup_time_ms).toBeNull();
  expect(view.ebvs_duration_ms as number).toBeGreaterThanOrEqual(1000);
}

/**
 * Plays at full speed to `fastUntilS` (the player's estimate climbs), then
 * serves every segment matching `match` at `bytesPerSecond` until the page
 * has shown `playToS`, and leaves: the player has to switch down.
 */
export async function throttledRun(
  e: E2e,
  o: {
    name: string;
    scripts: string[];
    setup: string;
    match: RegExp;
    bytesPerSecond: number;
    fastUntilS: number;
    playToS: number;
  },
): Promise<ViewRow> {
  const page = await e.open(o.name, o.scripts, o.setup);
  const viewId = await e.viewId(page);
  await e.playedTo(page, o.fastUntilS);
  const slow = e.media.rule({ match: o.match, throttleBps: o.bytesPerSecond });
  try {
    await e.playedTo(page, o.playToS, 60_000);
    return await e.leave(page, viewId);
  } finally {
    slow.remove();
  }
}

/** At least one switch down, and every switch lands on a rendition the media has. */
export function expectSwitchedDown(view: ViewRow): void {
  if (process.env['OPENQOE_E2E_DEBUG']) {
    const tl = view.timeline.map((t) =>
      t.kind === 'sample' ? `${t.state}:${t.duration_ms}@${t.video_width}` : `${t.type}@${t.video_width}`,
    );
    console.log(JSON.stringify({ downshifts: view.downshifts, upshifts: view.upshifts, tl: tl.join(' ') }));
  }
  expect(view.downshifts as number).toBeGreaterThanOrEqual(1);
  const known = RENDITIONS.map((r) => `${r.width}x${r.height}`);
  const switches = view.timeline.filter((t) => t.type === 'qualitychange');
  expect(switches.length).toBeGreaterThanOrEqual(1);
  for (const q of switches) expect(known).toContain(`${q.video_width}x${q.video_height}`);
}

/**
 * `setup` (a player page's script) with, just before it asks to play, a pause at the first frame
 * presented at or past `atS` of media time (the frame callback is precise to a frame; `timeupdate`
 * can be 250 ms late), keeping the playhead and duration it paused at as `window.stopped`; played
 * at `rate`.
 */
const withStopAt = (setup: string, atS: number, rate = 1) =>
  setup.replace(
    'markPlay();',
    `video.defaultPlaybackRate = ${rate};
  video.playbackRate = ${rate};
  const stopAt = (_now, meta) => {
    if (meta.mediaTime < ${atS}) return video.requestVideoFrameCallback(stopAt);
    video.pause();
    window.stopped = { playheadS: video.currentTime, durationS: video.duration };
  };
  video.requestVideoFrameCallback(stopAt);
  markPlay();`,
  );

/**
 * Plays a page (its `setup` asks to play with `markPlay();`) at `rate` until the first frame at or
 * past `atS`, pauses there, leaves and returns the stored view with the page's own playhead and
 * duration at the pause.
 */
export async function completionRun(
  e: E2e,
  o: { name: string; scripts: string[]; setup: string; atS: number; rate?: number },
): Promise<{ view: ViewRow; playheadS: number; durationS: number }> {
  const page = await e.open(o.name, o.scripts, withStopAt(o.setup, o.atS, o.rate));
  const viewId = await e.viewId(page);
  const stopped = () =>
    page.evaluate(
      () => (window as unknown as { stopped?: { playheadS: number; durationS: number } }).stopped ?? null,
    );
  await waitFor(async () => (await stopped()) !== null, 'the page to pause at its mark', 60_000);
  const at = (await stopped())!;
  const view = await e.leave(page, viewId);
  return { view, ...at };
}

/**
 * A VOD view that succeeded, its completion as stored within 2 points of `nominal` and within 1 of
 * the page's own playhead ÷ duration, its duration that of the element.
 */
export function expectCompletion(
  r: { view: ViewRow; playheadS: number; durationS: number },
  nominal: number,
) {
  const stored = r.view['completion_percentage'] as number;
  const truth = (100 * r.playheadS) / r.durationS;
  const report = process.env['OPENQOE_E2E_REPORT'];
  if (report)
    appendFileSync(
      report,
      `${JSON.stringify({ player: r.view['player_software'], completion: stored, pageCompletion: truth })}\n`,
    );
  expect(Math.abs(stored - nominal), `completion ${stored} % against ${nominal} %`).toBeLessThanOrEqual(2);
  expect(
    Math.abs(stored - truth),
    `completion ${stored} % against the page's ${truth} %`,
  ).toBeLessThanOrEqual(1);
  expect(Math.abs((r.view['video_duration_ms'] as number) - r.durationS * 1000)).toBeLessThanOrEqual(1);
  expect(r.view).toMatchObject({ outcome: 'success', stream_type: 'vod' });
}
