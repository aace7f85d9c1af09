/**
 * What the drop-in intake tests (a Mux SDK, a player's own CMCD reporting)
 * share: the page's frame truth and waiting for the page to reach a media time.
 */
import type { Page } from 'playwright-core';
import { type Truth, waitFor } from './kit/index.js';

export const truthOf = (page: Page): Promise<Truth> =>
  page.evaluate(() => (window as unknown as { truth: Truth }).truth);

/** Waits until the page has shown a frame at or past `mediaTimeS`. */
export const playedTo = (page: Page, mediaTimeS: number, timeoutMs = 40_000): Promise<void> =>
  waitFor(
    async () => {
      const frames = (await truthOf(page)).frames;
      return frames.length > 0 && frames.at(-1)![1] >= mediaTimeS;
    },
    `the page to show media time ${mediaTimeS} s`,
    timeoutMs,
  );
