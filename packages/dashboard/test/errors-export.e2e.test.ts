/**
 * Part 1's numbers in the dashboard, in Chromium against the real server with
 * six views this test scripted: the measurement picker (every percentile the
 * metric catalog lists; p95 and p99 as the API and the scripted startup times
 * give them), engagement metrics, CDN by provider and by host with the
 * negative impact in the metric's unit, the Errors page and its link to the
 * views of one code, and CSV downloads whose numbers equal the API's JSON.
 */
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvObjects } from '../../server/test/helpers/csv-reader.js';
import { formatImpact, formatTime, formatValue } from '../src/format.js';
import {
  launchChromium,
  openPage,
  type ServerProcess,
  screenshot,
  signIn,
  startDashboardServer,
  stopServer,
  waitFor,
} from './kit.js';
import { ScriptedView, sendViews } from './traffic.js';

interface Script {
  host: string;
  provider: string;
  startupMs: number;
  playMs: number;
  error?: { code: string; message: string };
  player?: [string, string];
}

// Startup times 400, 700, 900, 1100, 1500, 2500 ms: median 1000, p95 2250 and p99 2450 (interpolated).
// By provider: akamai 400/900/700 (median 700), fastly 2500/1500/1100 (median 1500).
const SCRIPTS: Script[] = [
  { host: 'edge-1.akamai.example', provider: 'akamai', startupMs: 400, playMs: 5000 },
  { host: 'edge-2.akamai.example', provider: 'akamai', startupMs: 900, playMs: 4000 },
  {
    host: 'edge-1.fastly.example',
    provider: 'fastly',
    startupMs: 2500,
    playMs: 1000,
    error: { code: 'NETWORK_ERROR', message: 'manifest 404' },
    player: ['shaka-player', '4.3.0'],
  },
  {
    host: 'edge-1.fastly.example',
    provider: 'fastly',
    startupMs: 1500,
    playMs: 2000,
    error: { code: 'NETWORK_ERROR', message: 'segment timeout' },
  },
  {
    host: 'edge-2.akamai.example',
    provider: 'akamai',
    startupMs: 700,
    playMs: 3000,
    error: { code: 'DECODE_ERROR', message: 'bad frame' },
  },
  { host: 'edge-2.fastly.example', provider: 'fastly', startupMs: 1100, playMs: 6000 },
];

describe('dashboard in Chromium: percentiles, engagement, CDN provider, errors, CSV export', () => {
  let server: ServerProcess;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  const run = Date.now();
  const ids = SCRIPTS.map((_, i) => `ee-${i}-${run}`);

  const api = async <T = Record<string, unknown>>(path: string): Promise<T> => {
    const res = await fetch(`${server.url}${path}`, { headers: { authorization: server.adminAuth() } });
    expect(res.status).toBe(200);
    return (await res.json()) as T;
  };

  /** Clicks a CSV button and reads the file the browser saved. */
  const download = async (testId: string) => {
    const [file] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).click()]);
    expect(file.suggestedFilename()).toBe(`${testId.replace(/^csv-/, '')}.csv`);
    return csvObjects(readFileSync((await file.path())!, 'utf8'));
  };

  beforeAll(async () => {
    [server, browser] = await Promise.all([startDashboardServer(), launchChromium()]);
    ({ page, errors } = await openPage(browser));
    const t0 = Date.now() - 60_000;
    const views = SCRIPTS.map((s, i) => {
      const [playerSoftware, playerVersion] = s.player ?? ['hls.js', '1.6.0'];
      const v = new ScriptedView(ids[i]!, t0 + i * 1000, {
        cdnHost: s.host,
        cdnProvider: s.provider,
        playerSoftware,
        playerVersion,
        videoTitle: `Film ${i}`,
      })
        .ev('playrequest', 'startup')
        .seg('startup', s.startupMs)
        .seg('playing', s.playMs);
      if (s.error)
        v.ev('error', 'playing', {
          errorCode: s.error.code,
          errorMessage: s.error.message,
          errorFatal: true,
        });
      return v.ev('viewend', 'ended');
    });
    await sendViews(server, views);
    await waitFor(
      async () => (await api('/data/v1/video-views?limit=10'))['total_row_count'] === SCRIPTS.length,
      'the six views stored',
    );
    await signIn(page, server);
  });

  afterAll(async () => {
    await browser?.close();
    await stopServer(server);
  });

  it('the measurement picker offers the catalog’s percentiles; p95 and p99 show what the API answers', async () => {
    const catalog = await api<{ data: { id: string; measurements: string[] }[] }>('/data/v1/metrics');
    const startup = catalog.data.find((m) => m.id === 'video_startup_time')!;
    expect(startup.measurements).toEqual(expect.arrayContaining(['median', '75th', '90th', '95th', '99th']));
    await page.goto(`${server.url}/ui/metrics?metric=video_startup_time`);
    const picker = page.getByTestId('measurement');
    await expect
      .poll(() => picker.locator('option').evaluateAll((os) => os.map((o) => (o as { value: string }).value)))
      .toEqual(startup.measurements);
    expect(await picker.locator('option[value="95th"]').textContent()).toBe('p95');

    for (const [measurement, truth] of [
      ['95th', 2250],
      ['99th', 2450],
    ] as const) {
      await picker.selectOption(measurement);
      await page.waitForURL(new RegExp(`measurement=${measurement}`));
      const answer = await api<{ data: { value: number } }>(
        `/data/v1/metrics/video_startup_time/overall?measurement=${measurement}`,
      );
      expect(answer.data.value).toBeCloseTo(truth, 6);
      await expect.poll(() => page.getByTestId('overall').textContent()).toBe(formatValue(truth, 'ms'));
    }
    // The URL keeps it: a reload shows p99 still.
    await page.reload();
    await expect.poll(() => page.getByTestId('overall').textContent()).toBe('2450 ms');
    expect(await page.getByTestId('measurement').inputValue()).toBe('99th');
    await screenshot(page, 'metrics-p99');
  });

  it('the timeseries and overall CSVs hold the API’s numbers for the chosen measurement', async () => {
    // A fixed from–to timeframe: page and test ask for the same buckets whenever they ask.
    const to = Math.ceil(Date.now() / 1000) + 600;
    const tf = `timeframe=${to - 3 * 3600}&timeframe=${to}`;
    await page.goto(`${server.url}/ui/metrics?${tf}&metric=video_startup_time&measurement=95th`);
    await expect.poll(() => page.getByTestId('overall').textContent()).toBe('2250 ms');
    const query = `timeframe[]=${to - 3 * 3600}&timeframe[]=${to}&measurement=95th`;
    const series = await api<{ data: { time: number; value: number | null; views: number }[] }>(
      `/data/v1/metrics/video_startup_time/timeseries?${query}`,
    );
    expect(series.data.filter((p) => p.value !== null).length).toBeGreaterThan(0);
    const csv = await download('csv-video_startup_time-timeseries');
    expect(
      csv.map((r) => [Number(r['time']), r['value'] === '' ? null : Number(r['value']), Number(r['views'])]),
    ).toEqual(series.data.map((p) => [p.time, p.value, p.views]));
    const overall = await download('csv-video_startup_time-overall');
    expect(overall.map((r) => Number(r['value']))).toEqual([2250]);
  });

  it('engagement metrics: unique viewers and views per viewer as the API counts them', async () => {
    await page.goto(`${server.url}/ui/metrics`);
    for (const [metric, truth] of [
      ['unique_viewers', '6'],
      ['views_per_viewer', '1'],
      ['plays', '6'],
    ] as const) {
      await page.getByTestId('metric').selectOption(metric);
      const answer = await api<{ data: { value: number } }>(`/data/v1/metrics/${metric}/overall`);
      expect(String(answer.data.value)).toBe(truth);
      await expect.poll(() => page.getByTestId('overall').textContent()).toBe(truth);
    }
  });

  it('CDN by provider and by host; negative impact in ms with its sign, explained; the CSV equals the API', async () => {
    await page.goto(`${server.url}/ui/metrics?metric=video_startup_time`);
    const dimension = page.getByTestId('dimension');
    await dimension.locator('option').first().waitFor({ state: 'attached' });
    expect(await dimension.locator('option[value=cdn]').textContent()).toBe('CDN host');
    expect(await dimension.locator('option[value=cdn_provider]').textContent()).toBe('CDN provider');
    // By host: four hosts.
    await expect.poll(() => page.locator('[data-testid=breakdown-cdn] tbody tr').count()).toBe(4);

    await dimension.selectOption('cdn_provider');
    await page.waitForURL(/breakdown=cdn_provider/);
    const table = page.getByTestId('breakdown-cdn_provider');
    expect(await table.locator('h3').textContent()).toContain('CDN provider');
    const rows = table.locator('tbody tr');
    const shown = async () =>
      Promise.all(
        (await rows.all()).map(async (r) => [
          await r.getAttribute('data-value'),
          await r.locator('td').nth(1).textContent(),
          await r.locator('td.impact').textContent(),
        ]),
      );
    // Overall median 1000 ms over 6 views: fastly (1500 − 1000) × 3 ÷ 6 = +250 ms, akamai (700 − 1000) × 3 ÷ 6 = −150 ms.
    await expect.poll(shown).toEqual([
      ['fastly', '1500 ms', '+250 ms'],
      ['akamai', '700 ms', '−150 ms'],
    ]);
    const answer = await api<{
      data: { field: string; value: number; views: number; negative_impact: number }[];
    }>('/data/v1/metrics/video_startup_time/breakdown?group_by=cdn_provider&limit=15');
    expect(answer.data.map((r) => [r.field, formatImpact(r.negative_impact, 'ms')])).toEqual([
      ['fastly', '+250 ms'],
      ['akamai', '−150 ms'],
    ]);
    // Explained where shown: the header's tooltip and the footnote give formula, sign and unit.
    const help = (await table.getByTestId('impact-header').getAttribute('title')) ?? '';
    expect(help).toContain('(row value − overall value) × row views ÷ all views');
    expect(help).toContain('Positive: the row makes the whole worse');
    expect(help).toContain("metric's unit");
    expect(await table.getByTestId('impact-footnote').textContent()).toContain(
      '+ worse than the whole, − better',
    );

    const csv = await download('csv-video_startup_time-by-cdn_provider');
    expect(
      csv.map((r) => [r['field'], Number(r['value']), Number(r['views']), Number(r['negative_impact'])]),
    ).toEqual(answer.data.map((r) => [r.field, r.value, r.views, r.negative_impact]));
    await screenshot(page, 'metrics-cdn-provider');
  });

  it('Monitor offers CDN host and CDN provider breakdowns, labelled; the impact explained once', async () => {
    await page.goto(`${server.url}/ui/monitor`);
    await expect
      .poll(() => page.locator('[data-testid=breakdown-cdn] h3').textContent())
      .toContain('CDN host');
    expect(await page.locator('[data-testid=breakdown-cdn_provider] h3').textContent()).toContain(
      'CDN provider',
    );
    // The impact explained once for all of its tables, and in each column header.
    expect(await page.getByTestId('impact-footnote').count()).toBe(1);
    expect(await page.getByTestId('impact-footnote').textContent()).toContain('row viewers ÷ all viewers');
    expect(
      await page.locator('[data-testid=breakdown-cdn_provider] th[title]').getAttribute('title'),
    ).toContain('row viewers ÷ all viewers');
  });

  it('the Errors page: per code the API’s numbers, one date format, and a link to the views of that code', async () => {
    const answer = await api<{
      data: {
        error_code: string;
        views: number;
        share_of_views: number;
        first_seen: string;
        last_seen: string;
        messages: { message: string; views: number }[];
        players: { player_software: string; player_version: string; views: number }[];
      }[];
    }>('/data/v1/errors');
    // Ground truth: two views ended in NETWORK_ERROR and one in DECODE_ERROR, of six.
    expect(answer.data.map((r) => [r.error_code, r.views])).toEqual([
      ['NETWORK_ERROR', 2],
      ['DECODE_ERROR', 1],
    ]);

    await page.goto(`${server.url}/ui/monitor`);
    await page.locator('header nav a', { hasText: 'Errors' }).click();
    await page.waitForURL(/\/ui\/errors$/);
    const rows = page.locator('[data-testid=errors-table] tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    for (const [i, r] of answer.data.entries()) {
      const cells = rows.nth(i).locator('td');
      expect(await rows.nth(i).getAttribute('data-code')).toBe(r.error_code);
      expect(await cells.nth(1).textContent()).toBe(String(r.views));
      expect(await cells.nth(2).textContent()).toBe(formatValue(r.share_of_views, 'percent'));
      expect(await cells.nth(3).textContent()).toBe(formatTime(r.first_seen));
      expect(await cells.nth(4).textContent()).toBe(formatTime(r.last_seen));
      expect(await cells.nth(3).textContent()).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC/);
      expect(await rows.nth(i).getByTestId('messages').textContent()).toBe(
        r.messages.map((m) => `${m.message} × ${m.views}`).join(''),
      );
      expect(await rows.nth(i).getByTestId('players').textContent()).toBe(
        r.players.map((p) => `${p.player_software} ${p.player_version} × ${p.views}`).join(''),
      );
    }
    expect(await rows.first().locator('td').nth(2).textContent()).toBe('33.3%');
    // The page fits the viewport (long messages are cut, their text on hover).
    const [scroll, viewport] = (await page.evaluate(
      '[document.documentElement.scrollWidth, innerWidth]',
    )) as number[];
    expect(scroll).toBeLessThanOrEqual(viewport!);
    await screenshot(page, 'errors');

    // The CSV holds the same numbers.
    const csv = await download('csv-errors');
    expect(csv.map((r) => [r['error_code'], Number(r['views']), Number(r['share_of_views'])])).toEqual(
      answer.data.map((r) => [r.error_code, r.views, r.share_of_views]),
    );
    expect(csv.map((r) => r['first_seen'])).toEqual(answer.data.map((r) => r.first_seen));

    // The views of NETWORK_ERROR: the Views list filtered to that code, in the URL.
    await rows.first().getByTestId('views-link').click();
    await page.waitForURL(/\/ui\/views\?filters=error_code:NETWORK_ERROR$/);
    const listed = page.locator('[data-testid=views-table] tbody tr');
    await expect
      .poll(async () =>
        (await listed.evaluateAll((trs) => trs.map((t) => t.getAttribute('data-view-id')))).sort(),
      )
      .toEqual([ids[2], ids[3]].sort());
    expect(await page.getByTestId('filters').textContent()).toContain('NETWORK_ERROR');
  });

  it('the Errors page keeps its timeframe and filters in the URL', async () => {
    await page.goto(`${server.url}/ui/errors?timeframe=1:hours&filters=cdn_provider:akamai`);
    const rows = page.locator('[data-testid=errors-table] tbody tr');
    await expect
      .poll(() => rows.evaluateAll((trs) => trs.map((t) => t.getAttribute('data-code'))))
      .toEqual(['DECODE_ERROR']);
    // One of akamai's three views.
    expect(await rows.first().locator('td').nth(2).textContent()).toBe('33.3%');
    expect(await page.getByTestId('timeframe').inputValue()).toBe('1:hours');
    await page.getByTestId('timeframe').selectOption('7:days');
    await page.waitForURL(
      /timeframe=7:days&filters=cdn_provider:akamai|filters=cdn_provider:akamai.*timeframe=7:days/,
    );
  });

  it('the views list downloads the views it shows, with the API’s numbers', async () => {
    await page.goto(`${server.url}/ui/views?filters=cdn_provider:fastly`);
    const listed = page.locator('[data-testid=views-table] tbody tr');
    await expect.poll(() => listed.count()).toBe(3);
    const answer = await api<{
      data: { view_id: string; video_startup_time_ms: number; cdn_host: string }[];
    }>('/data/v1/video-views?filters[]=cdn_provider:fastly&limit=25');
    const csv = await download('csv-views');
    expect(csv.map((r) => [r['view_id'], Number(r['video_startup_time_ms']), r['cdn_host']])).toEqual(
      answer.data.map((v) => [v.view_id, v.video_startup_time_ms, v.cdn_host]),
    );
    // The scripted startup times of fastly's views.
    expect(csv.map((r) => Number(r['video_startup_time_ms'])).sort((a, b) => a - b)).toEqual([
      1100, 1500, 2500,
    ]);
    expect(errors).toEqual([]);
  });
});
