/**
 * One browser, one media server and one openqoe server per test file, and
 * the steps the player tests share: open a page, wait for the page's own
 * truth, leave the page, read the view back through the query API.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import {
  buildCollector,
  ensureMedia,
  launchChromium,
  type MediaServer,
  newContext,
  playerPage,
  type ServerProcess,
  serveLibraries,
  startMediaServer,
  startOpenqoe,
  stopOpenqoe,
  type Truth,
  waitFor,
  waitForView,
  type ViewRow,
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
  beforeAll(async () => {
    buildCollector();
    const dir = ensureMedia();
    const [browser, media, server] = await Promise.all([launchChromium(), startMediaServer(dir), startOpenqoe()]);
    serveLibraries(media);
    Object.assign(e, { browser, media, server });
  }, 180_000);
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
    page.on('close', () => void ctx.close().catch(() => {}));
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
  e.viewId = (page) => page.evaluate(() => (window as unknown as { handle: { viewId: string } }).handle.viewId);
  e.leave = async (page, viewId) => {
    await page.close({ runBeforeUnload: true });
    return waitForView(e.server, viewId);
  };
  return e;
}

/** True when `measured` is within max(100 ms, 5 %) of `truth`. */
export function withinTolerance(measured: number, truth: number): boolean {
  return Math.abs(measured - truth) <= Math.max(100, 0.05 * truth);
}
