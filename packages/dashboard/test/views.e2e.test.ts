/**
 * The dashboard in Debian Chromium against the real server CLI: sign-in
 * (no data without a token), the environment switcher, empty states, the
 * views list and one view's timeline, and the metrics page — every value
 * checked against views this test scripted to the millisecond and sent
 * through the real intake.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  launchChromium,
  openPage,
  type ServerProcess,
  screenshot,
  startDashboardServer,
  stopServer,
  waitFor,
} from './kit.js';
import { ScriptedView, sendViews } from './traffic.js';

// The stalled view: startup 1.2 s, plays 5 s, stalls 3 s, plays 4 s, a recovered error, plays 2 s, ends.
const STARTUP_MS = 1200;
const STALL_AT_MS = STARTUP_MS + 5000;
const STALL_MS = 3000;
const ERROR_AT_MS = STALL_AT_MS + STALL_MS + 4000;
const END_MS = ERROR_AT_MS + 2000;
// The other view: startup 0.8 s, plays 6 s, ends.
const OTHER_STARTUP_MS = 800;
const OTHER_END_MS = OTHER_STARTUP_MS + 6000;

describe('dashboard pages in Chromium: sign-in, environments, views, metrics', () => {
  let server: ServerProcess;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  const stalled = `stall-${Date.now()}`;
  const other = `other-${Date.now()}`;

  const api = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${server.url}${path}`, {
      ...init,
      headers: { authorization: server.adminAuth(), 'content-type': 'application/json', ...init.headers },
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    [server, browser] = await Promise.all([startDashboardServer(), launchChromium()]);
    ({ page, errors } = await openPage(browser));
  });

  afterAll(async () => {
    await browser?.close();
    await stopServer(server);
  });

  it('shows no data without a token: a deep link goes to sign-in, a wrong secret is refused', async () => {
    await page.goto(`${server.url}/`);
    // / → /ui/ → the app, which sends an unsigned visitor to the sign-in page.
    await page.waitForURL(/\/ui\/sign-in/);
    await page.goto(`${server.url}/ui/views`);
    await page.waitForURL(/\/ui\/sign-in\?next=%2Fui%2Fviews/);
    const t = server.bootstrap().access_token;
    await page.locator('input[name=token-id]').fill(t.id);
    await page.locator('input[name=token-secret]').fill(`${t.secret}x`);
    await page.locator('button[type=submit]').click();
    await expect
      .poll(() => page.locator('[role=alert]').textContent())
      .toBe('Unknown token id or wrong secret');
    expect(await page.evaluate('sessionStorage.length + localStorage.length')).toBe(0);
    await screenshot(page, 'sign-in');
    await page.locator('input[name=token-secret]').fill(t.secret);
    await page.locator('button[type=submit]').click();
    // Back where the deep link pointed.
    await page.waitForURL(`${server.url}/ui/views`);
    await page.getByTestId('empty-state').waitFor();
  });

  it('empty states tell a newcomer how to send data, with a link to the demo page', async () => {
    await page.goto(`${server.url}/ui/views`);
    const empty = page.getByTestId('empty-state');
    await empty.waitFor();
    expect(await empty.textContent()).toContain('No views stored yet');
    expect(await empty.locator('a[href="/demo/"]').count()).toBe(1);
    await page.goto(`${server.url}/ui/metrics`);
    await expect
      .poll(() => page.getByTestId('empty-state').textContent())
      .toContain('No views in this timeframe');
    await screenshot(page, 'metrics-empty');
  });

  it('the views list finds the scripted views; the view page shows the stall at its time and length', async () => {
    const t0 = Date.now() - 60_000;
    const a = new ScriptedView(stalled, t0, {
      videoTitle: 'Stall Film',
      cdnHost: 'cdn-b.example.net',
      videoBitrateBps: 1_500_000,
    })
      .ev('playrequest', 'startup')
      .seg('startup', STARTUP_MS)
      .seg('playing', 5000)
      .seg('rebuffering', STALL_MS)
      .seg('playing', 4000)
      .ev('error', 'playing', { errorCode: 'FRAG_LOAD_TIMEOUT', errorFatal: false })
      .seg('playing', 2000)
      .ev('viewend', 'ended');
    const b = new ScriptedView(other, t0, { videoTitle: 'Quiet Film', cdnHost: 'cdn-a.example.net' })
      .ev('playrequest', 'startup')
      .seg('startup', OTHER_STARTUP_MS)
      .seg('playing', 6000)
      .ev('viewend', 'ended');
    await sendViews(server, [a, b]);
    await waitFor(async () => {
      const r = await api('/data/v1/video-views?limit=10');
      return r.json['total_row_count'] === 2;
    }, 'both views stored');

    await page.goto(`${server.url}/ui/views`);
    const rows = page.locator('[data-testid=views-table] tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    await screenshot(page, 'views');
    // Search by title: only the stalled view stays.
    await page.getByTestId('search').fill('Stall Film');
    await page.getByTestId('search').press('Enter');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().getAttribute('data-view-id')).toBe(stalled);
    await rows.first().locator('a').click();
    await page.waitForURL(new RegExp(`/ui/views/${stalled}$`));

    // The rebuffer, as listed: 6.2 s after the play request, for 3 s.
    const rebuffer = page.locator('tr[data-kind=rebuffer]');
    await rebuffer.waitFor();
    expect(await rebuffer.count()).toBe(1);
    expect(Number(await rebuffer.getAttribute('data-start-ms'))).toBe(STALL_AT_MS);
    expect(Number(await rebuffer.getAttribute('data-duration-ms'))).toBe(STALL_MS);
    expect(await rebuffer.textContent()).toBe('at 6.2 sfor 3 s');
    // As drawn: the red bar spans 6.2 s … 9.2 s of the 15.2 s view (x = 90 + t / 15.2 s × 900 in the SVG).
    const bar = page.locator('[data-testid=swim-lane] rect[data-state=rebuffering]');
    expect(await bar.count()).toBe(1);
    const x = Number(await bar.getAttribute('x'));
    const w = Number(await bar.getAttribute('width'));
    expect(x).toBeCloseTo(90 + (STALL_AT_MS / END_MS) * 900, 3);
    expect(w).toBeCloseTo((STALL_MS / END_MS) * 900, 3);
    // The error with its code, at its time; the headline metrics.
    expect(await page.getByTestId('errors').textContent()).toBe('at 13.2 sFRAG_LOAD_TIMEOUTrecovered');
    expect(await page.getByTestId('metric-rebuffer_count').locator('.value').textContent()).toBe('1');
    expect(await page.getByTestId('metric-rebuffer_duration_ms').locator('.value').textContent()).toBe(
      '3000 ms',
    );
    expect(await page.getByTestId('metric-video_startup_time_ms').locator('.value').textContent()).toBe(
      '1200 ms',
    );
    expect(await page.getByTestId('metadata').textContent()).toContain('cdn-b.example.net');
    await screenshot(page, 'view');
  });

  it('metrics: rebuffering over the timeframe, the startup distribution, and a breakdown row as a filter', async () => {
    await page.goto(`${server.url}/ui/metrics`);
    await expect.poll(() => page.getByTestId('total-views').textContent()).toBe('2 views');
    // Startup distribution of 800 and 1200 ms.
    const dist = page.getByTestId('startup-distribution');
    await expect
      .poll(() => dist.locator('td.num').allTextContents())
      .toEqual([
        '800 ms',
        '1000 ms',
        '1000 ms',
        '1180 ms', // p95 of two values, interpolated: 800 + 0.95 × 400
        '1200 ms',
      ]);
    // The scores, by the formulas of docs/metrics.md: startup 100 × 8 ÷ (8 + s); smoothness the mean of
    // 100 ÷ √(1 + (count ÷ 2)²) and 100 × e^(−10 × rebuffer fraction); quality 100 (no upscaling);
    // viewer experience exp(0.3 ln startup + 0.4 ln smoothness + 0.3 ln quality); averaged over the views.
    const startup = [8 / (8 + STARTUP_MS / 1000), 8 / (8 + OTHER_STARTUP_MS / 1000)].map((x) => 100 * x);
    const smooth = [(100 / Math.sqrt(1 + (1 / 2) ** 2) + 100 * Math.exp((-10 * STALL_MS) / END_MS)) / 2, 100];
    const vx = [0, 1].map((i) =>
      Math.exp(0.3 * Math.log(startup[i]!) + 0.4 * Math.log(smooth[i]!) + 0.3 * Math.log(100)),
    );
    const shownScore = (v: number[]) => String(Math.round(((v[0]! + v[1]!) / 2) * 10) / 10);
    const score = (id: string) => page.getByTestId(`score-${id}`).locator('.value').textContent();
    await expect.poll(() => score('startup_time_score')).toBe(shownScore(startup));
    expect(await score('smoothness_score')).toBe(shownScore(smooth));
    expect(await score('viewer_experience_score')).toBe(shownScore(vx));
    expect(await score('playback_success_score')).toBe('100');
    expect(await score('video_quality_score')).toBe('100');
    await page.getByTestId('metric').selectOption('rebuffer_percentage');
    // Σ rebuffering ÷ Σ watch time = 3000 ÷ (15 200 + 6 800) = 13.6 %.
    const overall = (100 * STALL_MS) / (END_MS + OTHER_END_MS);
    await expect.poll(() => page.getByTestId('overall').textContent()).toBe(`${overall.toFixed(1)}%`);
    const cdnRows = page.locator('[data-testid=breakdown-cdn] tbody tr');
    // The stalled CDN first (its negative impact is the larger) at 3000 ÷ 15 200 = 19.7 %, the other at 0 %.
    const shownRows = async () =>
      (await cdnRows.all()).map(async (r) => [
        await r.getAttribute('data-value'),
        await r.locator('td').nth(1).textContent(),
      ]);
    await expect
      .poll(async () => Promise.all(await shownRows()))
      .toEqual([
        ['cdn-b.example.net', `${((100 * STALL_MS) / END_MS).toFixed(1)}%`],
        ['cdn-a.example.net', '0%'],
      ]);
    await screenshot(page, 'metrics');
    await cdnRows.first().click();
    await expect.poll(() => page.getByTestId('filters').textContent()).toContain('cdn-b.example.net');
    const filtered = (100 * STALL_MS) / END_MS;
    await expect.poll(() => page.getByTestId('overall').textContent()).toBe(`${filtered.toFixed(1)}%`);
    await expect.poll(() => page.getByTestId('total-views').textContent()).toBe('1 views');
  });

  it('the environment switcher scopes every page to one environment', async () => {
    const created = await api('/system/v1/environments', {
      method: 'POST',
      body: JSON.stringify({ name: 'staging' }),
    });
    expect(created.status).toBe(201);
    const staging = (created.json['data'] as { id: string }).id;
    await page.goto(`${server.url}/ui/views`);
    const select = page.getByTestId('environment');
    await expect.poll(() => select.locator('option').count()).toBe(3); // All + two environments
    await select.selectOption(staging);
    await expect.poll(() => page.getByTestId('empty-state').count()).toBe(1);
    await select.selectOption(server.bootstrap().environment.id);
    await expect.poll(() => page.locator('[data-testid=views-table] tbody tr').count()).toBe(2);
  });

  it('a token the server no longer accepts sends the user back to sign-in', async () => {
    // Keep the page's session, but with a secret the server refuses.
    // (Page code as a string: the tests compile without the DOM library.)
    await page.evaluate(`{
      const t = JSON.parse(sessionStorage.getItem('openqoe.token'));
      sessionStorage.setItem('openqoe.token', JSON.stringify({ ...t, secret: 'revoked' }));
    }`);
    await page.goto(`${server.url}/ui/metrics`);
    await page.waitForURL(/\/ui\/sign-in/);
    expect(await page.evaluate("sessionStorage.getItem('openqoe.token')")).toBeNull();
    expect(errors).toEqual([]);
  });
});
