/**
 * The Monitor page in Chromium against the real server and its real-time
 * Monitoring API. Eight views play through the real intake, each sending
 * its state every second as a player's heartbeat does: five on CDN A,
 * three on CDN B. Then two of CDN B's views stall and keep stalling.
 *
 * Expected, by hand: every view is watching, so concurrent viewers = 8;
 * over a tick every view contributes the tick's length of watch time and
 * the two stalled views as much rebuffering, so current rebuffering =
 * 2 ÷ 8 = 25 %; CDN B's rows: 2 ÷ 3 = 66.7 %, CDN A 0 %, so CDN B's
 * negative impact (66.7 − 25) × 3 ÷ 8 = +15.6 puts it first and CDN A's
 * (0 − 25) × 5 ÷ 8 = −15.6 last. Filtering on CDN B leaves 3 viewers at
 * 66.7 %. Every startup took 500 ms, so the median startup is 500 ms (the
 * API's sketch is accurate to 1 %). Values are polled with slack: a tick
 * that straddles the moment of the stall holds a value in between.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  launchChromium,
  openPage,
  patience,
  pollPage,
  REALTIME_CONFIG,
  type ServerProcess,
  screenshot,
  shownHeadline,
  shownNumber,
  signIn,
  startDashboardServer,
  stopServer,
} from './kit.js';
import { Heartbeat, ScriptedView } from './traffic.js';

const A_VIEWS = 5;
const B_VIEWS = 3;
const STALLED = 2;
const STARTUP_MS = 500;
const CDN_A = 'cdn-a.example.net';
const CDN_B = 'cdn-b.example.net';

describe('Monitor page in Chromium, real-time numbers after an injected stall', () => {
  let server: ServerProcess;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let heartbeat: Heartbeat;

  const shown = (metric: string) => shownHeadline(page, metric);
  const cdnRows = () => page.locator('[data-testid=breakdown-cdn] tbody tr');

  beforeAll(async () => {
    [server, browser] = await Promise.all([startDashboardServer(REALTIME_CONFIG), launchChromium()]);
    heartbeat = new Heartbeat(server);
    ({ page, errors } = await openPage(browser));
    await signIn(page, server, '/ui/monitor');
    await page.getByTestId('refresh').selectOption('1000');
  });

  afterEach(() => heartbeat?.stop());

  afterAll(async () => {
    heartbeat?.stop();
    await browser?.close();
    await stopServer(server);
  });

  it('with nobody watching, says so and how to send data', async () => {
    const empty = page.getByTestId('empty-state');
    await empty.waitFor({ timeout: patience(20_000) });
    expect(await empty.textContent()).toContain('Nobody is watching right now');
    expect(await empty.locator('a[href="/demo/"]').count()).toBe(1);
  });

  it('shows 8 concurrent viewers and 25 % rebuffering after 2 of 8 views stall; the stalled CDN first', async () => {
    const start = Date.now() - STARTUP_MS;
    const views = Array.from({ length: A_VIEWS + B_VIEWS }, (_, i) => {
      const cdn = i < A_VIEWS ? CDN_A : CDN_B;
      return new ScriptedView(`mon-${i}-${start}`, start, { cdnHost: cdn, videoTitle: `Title ${i % 2}` })
        .ev('playrequest', 'startup')
        .seg('startup', STARTUP_MS);
    });
    heartbeat.views = views;
    await heartbeat.start();

    // Everyone playing: 8 viewers, no rebuffering, startup 500 ms.
    await pollPage(
      () => shown('current_concurrent_viewers'),
      (v) => v === 8,
      'concurrent viewers 8',
    );
    await pollPage(
      () => shown('current_rebuffering_percentage'),
      (v) => v === 0,
      'rebuffering 0 %',
    );
    const startup = await pollPage(
      () => shown('video_startup_time'),
      (v) => Math.abs(v - STARTUP_MS) <= STARTUP_MS * 0.01,
      'median startup 500 ms',
    );
    expect(startup).toBeCloseTo(STARTUP_MS, -1);
    // The startup histogram's scale: every viewer in the bucket from 500 ms, whose bar says 100 %; empty bars say nothing.
    const histogram = page.getByTestId('startup-histogram');
    await pollPage(
      () => histogram.locator('.share').allTextContents(),
      (t) => t.length === 1 && t[0] === '100%',
      'one bar labelled 100 %',
    );
    expect(await histogram.locator('.bucket:has(.share) .edge').textContent()).toBe(String(STARTUP_MS));

    // The stall: two of CDN B's three views.
    for (const v of views.filter((_, i) => i >= A_VIEWS).slice(0, STALLED)) heartbeat.stalled.add(v.viewId);
    const expected = (100 * STALLED) / (A_VIEWS + B_VIEWS);
    const rebuffering = await pollPage(
      () => shown('current_rebuffering_percentage'),
      (v) => Math.abs(v - expected) <= 1,
      `rebuffering ${expected} %`,
    );
    expect(Math.abs(rebuffering - expected)).toBeLessThanOrEqual(1);
    expect(await shown('current_concurrent_viewers')).toBe(8);

    // The CDN breakdown, worst first: CDN B at 66.7 % with 3 viewers, CDN A last.
    const cdnB = (100 * STALLED) / B_VIEWS;
    await pollPage(
      async () => [
        await cdnRows().first().getAttribute('data-value'),
        shownNumber(await cdnRows().first().locator('td').nth(1).textContent()),
      ],
      ([value, metric]) => value === CDN_B && Math.abs((metric as number) - cdnB) <= 1,
      'CDN B first at 66.7 %',
    );
    expect(await cdnRows().count()).toBe(2);
    expect(await cdnRows().first().locator('td').nth(2).textContent()).toBe(String(B_VIEWS));
    expect(await cdnRows().last().getAttribute('data-value')).toBe(CDN_A);
    // Negative impact as shown: (66.7 − 25) × 3 ÷ 8 = 15.625.
    const impact = shownNumber(await cdnRows().first().locator('td.impact').textContent());
    expect(Math.abs(impact - ((cdnB - expected) * B_VIEWS) / (A_VIEWS + B_VIEWS))).toBeLessThanOrEqual(0.5);
    await screenshot(page, 'monitor');
  });

  it('clicking the stalled CDN filters everything: 3 viewers at 66.7 %', async () => {
    await cdnRows().first().click();
    await pollPage(
      async () => page.getByTestId('filters').textContent(),
      (t) => (t ?? '').includes(CDN_B),
      'the filter chip',
    );
    const cdnB = (100 * STALLED) / B_VIEWS;
    await pollPage(
      () => shown('current_concurrent_viewers'),
      (v) => v === B_VIEWS,
      'filtered viewers 3',
    );
    await pollPage(
      () => shown('current_rebuffering_percentage'),
      (v) => Math.abs(v - cdnB) <= 1,
      'filtered rebuffering 66.7 %',
    );
    // Every breakdown now holds only CDN B's viewers.
    await pollPage(
      () => cdnRows().count(),
      (n) => n === 1,
      'one CDN row',
    );
    expect(await cdnRows().first().getAttribute('data-value')).toBe(CDN_B);
    await screenshot(page, 'monitor-filtered');
    expect(errors).toEqual([]);
  });
});
