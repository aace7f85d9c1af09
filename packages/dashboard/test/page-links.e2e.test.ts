/**
 * Monitor and Metrics keep their whole state in the URL, in Chromium against
 * the real server: a link opens the page on one series (controls set, numbers
 * filtered), changing a control changes the URL, reload keeps the state and
 * back returns to the previous one.
 *
 * Ground truth, scripted here: stored (ended) views — three on CDN A with a
 * 1 s startup, two on CDN B with 2 s and 4 s (mean 3 s, max 4 s), titled
 * "B one" and "B two"; views in progress — three playing on CDN A, two on
 * CDN B of which one stalls, so CDN B alone has 2 viewers at 50 %
 * rebuffering.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  launchChromium,
  openPage,
  pollPage,
  REALTIME_CONFIG,
  type ServerProcess,
  screenshot,
  shownHeadline,
  shownNumber,
  signIn,
  startDashboardServer,
  stopServer,
  waitFor,
} from './kit.js';
import { Heartbeat, ScriptedView, sendViews, startedViews } from './traffic.js';

const CDN_A = 'cdn-a.example.net';
const CDN_B = 'cdn-b.example.net';

describe('Monitor and Metrics state in the URL', () => {
  let server: ServerProcess;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let heartbeat: Heartbeat | undefined;

  const query = () => new URL(page.url()).searchParams;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startDashboardServer(REALTIME_CONFIG), launchChromium()]);
    ({ page, errors } = await openPage(browser));

    const t0 = Date.now() - 120_000;
    const ended = [
      ...[0, 1, 2].map((i) => ({ id: `a-${i}`, cdnHost: CDN_A, startup: 1000, videoTitle: 'A film' })),
      { id: 'b-0', cdnHost: CDN_B, startup: 2000, videoTitle: 'B one' },
      { id: 'b-1', cdnHost: CDN_B, startup: 4000, videoTitle: 'B two' },
    ].map((v) =>
      new ScriptedView(`ended-${v.id}-${t0}`, t0, { cdnHost: v.cdnHost, videoTitle: v.videoTitle })
        .ev('playrequest', 'startup')
        .seg('startup', v.startup)
        .seg('playing', 5000)
        .ev('viewend', 'ended'),
    );
    await sendViews(server, ended);
    const live = startedViews('live', [CDN_A, CDN_A, CDN_A, CDN_B, CDN_B]);
    heartbeat = new Heartbeat(server, live);
    await heartbeat.start();
    const auth = { authorization: server.adminAuth() };
    await waitFor(async () => {
      const r = await fetch(`${server.url}/data/v1/video-views?limit=10`, { headers: auth });
      return ((await r.json()) as { total_row_count: number }).total_row_count === ended.length;
    }, 'the ended views stored');
    await heartbeat.stallAfterPlaying(live[4]!.viewId);
    await signIn(page, server, '/ui/monitor');
  });

  afterAll(async () => {
    heartbeat?.stop();
    await browser?.close();
    await stopServer(server);
  });

  it('Monitor: a link opens the metric filtered to one CDN; controls change the URL; reload and back keep it', async () => {
    const shown = (metric: string) => shownHeadline(page, metric);
    await page.goto(
      `${server.url}/ui/monitor?metric=current-rebuffering-percentage&filters=cdn:${CDN_B}&breakdown=country&refresh=1`,
    );
    await page.getByTestId('filters').waitFor();
    expect(await page.locator('[data-testid=filters] .chip').getAttribute('data-filter')).toBe(
      `cdn:${CDN_B}`,
    );
    expect(await page.getByTestId('refresh').inputValue()).toBe('1000');
    expect(await page.getByTestId('headline-current_rebuffering_percentage').getAttribute('class')).toContain(
      'selected',
    );
    // The breakdown the link named leads the page, marked.
    const first = page.locator('.breakdowns > section').first();
    expect(await first.getAttribute('data-testid')).toBe('breakdown-country');
    expect(await first.getAttribute('class')).toContain('lead');
    // Numbers are CDN B's only: 2 viewers, one of them stalled.
    await pollPage(
      () => shown('current_concurrent_viewers'),
      (v) => v === 2,
      'CDN B viewers 2',
    );
    await pollPage(
      () => shown('current_rebuffering_percentage'),
      (v) => Math.abs(v - 50) <= 1,
      'CDN B rebuffering 50 %',
    );
    await pollPage(
      () =>
        page
          .locator('[data-testid=breakdown-cdn] tbody tr')
          .evaluateAll((rows) => rows.map((r) => r.dataset['value'])),
      (v) => v.length === 1 && v[0] === CDN_B,
      'the CDN breakdown holds CDN B only',
    );
    await screenshot(page, 'monitor-link');

    // Controls → URL.
    await page.getByTestId('headline-video_startup_time').click();
    await page.waitForURL((u) => u.searchParams.get('metric') === 'video_startup_time');
    await page.getByTestId('measurement').selectOption('p95');
    await page.waitForURL((u) => u.searchParams.get('measurement') === 'p95');
    expect(query().getAll('filters')).toEqual([`cdn:${CDN_B}`]);
    expect(page.url()).toContain(`filters=cdn:${CDN_B}`);

    // Reload keeps everything.
    await page.reload();
    await page.getByTestId('measurement').waitFor();
    expect(await page.getByTestId('measurement').inputValue()).toBe('p95');
    expect(await page.getByTestId('headline-video_startup_time').getAttribute('class')).toContain('selected');
    await pollPage(
      () => shown('current_concurrent_viewers'),
      (v) => v === 2,
      'still filtered after reload',
    );

    // Back: the median again; back twice: rebuffering again.
    await page.goBack();
    await pollPage(
      () => page.getByTestId('measurement').inputValue(),
      (v) => v === 'median',
      'median after back',
    );
    await page.goBack();
    await pollPage(
      () => page.getByTestId('headline-current_rebuffering_percentage').getAttribute('class'),
      (c) => (c ?? '').includes('selected'),
      'rebuffering chosen after back',
    );

    // Dropping the filter drops it from the URL and the numbers widen to all 5 viewers.
    await page.locator('[data-testid=filters] .chip button').click();
    await page.waitForURL((u) => u.searchParams.getAll('filters').length === 0);
    await pollPage(
      () => shown('current_concurrent_viewers'),
      (v) => v === 5,
      'all 5 viewers',
    );

    // The APIs' spellings, escaped, as a link built from an API query has them: read, then rewritten.
    await page.goto(`${server.url}/ui/monitor?dimension=cdn&filters%5B%5D=cdn%3A${CDN_B}`);
    await pollPage(
      () => shown('current_concurrent_viewers'),
      (v) => v === 2,
      'CDN B viewers from filters[]',
    );
    expect(await page.locator('.breakdowns > section').first().getAttribute('data-testid')).toBe(
      'breakdown-cdn',
    );
    await page.locator('[data-testid=filters] .chip button').click();
    await page.waitForURL(
      (u) => !u.searchParams.has('filters[]') && u.searchParams.get('breakdown') === 'cdn',
    );
    await pollPage(
      () => shown('current_concurrent_viewers'),
      (v) => v === 5,
      'all 5 viewers again',
    );
  });

  it('Metrics: a link opens timeframe, metric, measurement, breakdown and filters; controls change the URL; reload and back keep it', async () => {
    await page.goto(
      `${server.url}/ui/metrics?timeframe=6:hours&metric=video_startup_time&measurement=max&breakdown=video_title&filters=cdn:${CDN_B}`,
    );
    await pollPage(
      () => page.getByTestId('total-views').textContent(),
      (t) => t === '2 views',
      "CDN B's 2 views",
    );
    expect(await page.getByTestId('timeframe').inputValue()).toBe('6:hours');
    expect(await page.getByTestId('metric').inputValue()).toBe('video_startup_time');
    expect(await page.getByTestId('measurement').inputValue()).toBe('max');
    expect(await page.getByTestId('dimension').inputValue()).toBe('video_title');
    // The largest of CDN B's startups, 4 s, and its titles only.
    await pollPage(
      async () => shownNumber(await page.getByTestId('overall').textContent()),
      (v) => v === 4000,
      'max startup 4000 ms',
    );
    const titles = page.locator('[data-testid=breakdown-video_title] tbody tr');
    await pollPage(
      () => titles.evaluateAll((rows) => rows.map((r) => r.dataset['value']).sort()),
      (v) => v.join() === 'B one,B two',
      "CDN B's titles",
    );
    await screenshot(page, 'metrics-link');

    // Controls → URL.
    await page.getByTestId('measurement').selectOption('avg');
    await page.waitForURL((u) => u.searchParams.get('measurement') === 'avg');
    await pollPage(
      async () => shownNumber(await page.getByTestId('overall').textContent()),
      (v) => v === 3000,
      'mean startup 3000 ms',
    );
    await page.getByTestId('dimension').selectOption('country');
    await page.waitForURL((u) => u.searchParams.get('breakdown') === 'country');
    await page.getByTestId('timeframe').selectOption('24:hours');
    // The default timeframe leaves the URL.
    await page.waitForURL((u) => !u.searchParams.has('timeframe'));

    // Reload keeps everything.
    await page.reload();
    await pollPage(
      () => page.getByTestId('total-views').textContent(),
      (t) => t === '2 views',
      'still filtered',
    );
    expect(await page.getByTestId('measurement').inputValue()).toBe('avg');
    expect(await page.getByTestId('dimension').inputValue()).toBe('country');
    expect(await page.getByTestId('timeframe').inputValue()).toBe('24:hours');

    // Back: 6 hours again, then video titles again.
    await page.goBack();
    await pollPage(
      () => page.getByTestId('timeframe').inputValue(),
      (v) => v === '6:hours',
      '6 hours after back',
    );
    await page.goBack();
    await pollPage(
      () => page.getByTestId('dimension').inputValue(),
      (v) => v === 'video_title',
      'titles after back',
    );

    // A from–to timeframe (as an incident links it) is shown as such and applied.
    const to = Math.ceil(Date.now() / 1000);
    await page.goto(`${server.url}/ui/metrics?timeframe=${to - 3600}&timeframe=${to}&filters=cdn:${CDN_A}`);
    await pollPage(
      () => page.getByTestId('total-views').textContent(),
      (t) => t === '3 views',
      "CDN A's 3 views",
    );
    // It opens the custom range, shown in the dashboard's date-time format.
    expect(await page.getByTestId('timeframe').inputValue()).toBe('custom');
    expect(await page.getByTestId('range-shown').textContent()).toMatch(
      /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC\S* – \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC\S*$/,
    );

    // A trailing timeframe the list lacks, in the API's spelling (as the alert engine links a window rule).
    await page.goto(`${server.url}/ui/metrics?timeframe%5B%5D=60:minutes&filters%5B%5D=cdn:${CDN_B}`);
    await pollPage(
      () => page.getByTestId('total-views').textContent(),
      (t) => t === '2 views',
      "CDN B's 2 views",
    );
    expect(await page.getByTestId('timeframe').inputValue()).toBe('60:minutes');
    expect(errors).toEqual([]);
  });
});
