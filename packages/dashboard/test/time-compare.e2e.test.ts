/**
 * Custom date ranges, comparison with the previous period, spike clipping,
 * the startup box plot's axis and Monitor's tables at any width, in Chromium
 * against the real server with views this test scripted into two known
 * hours: the previous hour (P) and the current one (C), whose bounds are
 * whole minutes so they can be typed into the range inputs.
 *
 * P: two views, cdn-a stalls 3 s, cdn-b 1 s. C: eight views four minutes
 * apart, alternating cdn-a / cdn-b, stalling 0.5–0.8 s except one spike of
 * 9 s, with startup times of 400…3 200 ms (so the box plot's axis is 0 to
 * 4 000 ms in steps of 1 000). Every number the page shows is checked
 * against what the API answers for the same two timeframes.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  launchChromium,
  patience,
  REALTIME_CONFIG,
  type ServerProcess,
  screenshot,
  signIn,
  startDashboardServer,
  stopServer,
  waitFor,
  zoneParts,
} from './kit.js';
import { backfillViews, Heartbeat, ScriptedView, startedViews } from './traffic.js';

const ZONE = 'Europe/Berlin';
const HOUR = 3600;
const METRIC = 'rebuffer_percentage';
const C_STALLS_MS = [500, 600, 500, 700, 9000, 600, 800, 500];
const C_STARTUPS_MS = [400, 800, 1200, 1600, 2000, 2400, 2800, 3200];
const SPIKE = 4;
const LONG_HOST = 'edge-with-a-rather-long-host-name-0001.cdn.example.net';

interface Point {
  time: number;
  value: number | null;
  views: number;
}
interface Row {
  field: string;
  value: number | null;
}
interface DrawnSeries {
  label: string;
  dashed: boolean;
  values: (number | null)[];
}

/** `YYYY-MM-DD HH:MM` in Berlin, as the range inputs read it (computed here, not by the app). */
function berlinInput(epochSeconds: number): string {
  const p = zoneParts(epochSeconds * 1000, ZONE);
  return `${p['year']}-${p['month']}-${p['day']} ${p['hour']}:${p['minute']}`;
}

/** A finished view: startup, playing, a stall, playing again, ended. */
function finishedView(id: string, start: number, cdnHost: string, startupMs: number, stallMs: number) {
  return new ScriptedView(id, start, { cdnHost, videoTitle: 'Compare film' })
    .ev('playrequest', 'startup')
    .seg('startup', startupMs)
    .seg('playing', 4000)
    .seg('rebuffering', stallMs)
    .seg('playing', 4000)
    .ev('viewend', 'ended');
}

describe('custom ranges, previous-period comparison, spike clipping and layout in Chromium', () => {
  let server: ServerProcess;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const errors: string[] = [];
  // The current hour ends at the last whole minute; the previous one ends where it starts.
  const to = Math.floor(Date.now() / 60_000) * 60;
  const from = to - HOUR;
  const prev = [from - HOUR, from] as const;

  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${server.url}${path}`, { headers: { authorization: server.adminAuth() } });
    return (await res.json()) as T;
  };
  const tf = ([a, b]: readonly number[]) => `timeframe[]=${a}&timeframe[]=${b}`;
  const drawn = async (testId: string): Promise<DrawnSeries[]> =>
    JSON.parse((await page.getByTestId(testId).getAttribute('data-series')) ?? '[]');

  beforeAll(async () => {
    [server, browser] = await Promise.all([startDashboardServer(REALTIME_CONFIG), launchChromium()]);
    context = await browser.newContext({ viewport: { width: 1440, height: 900 }, timezoneId: ZONE });
    page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    await signIn(page, server, '/ui/metrics');

    const run = Date.now();
    const views = [
      finishedView(`p-a-${run}`, (prev[0] + 20 * 60) * 1000, 'cdn-a.example.net', 1000, 3000),
      finishedView(`p-b-${run}`, (prev[0] + 40 * 60) * 1000, 'cdn-b.example.net', 1000, 1000),
      ...C_STALLS_MS.map((stall, i) =>
        finishedView(
          `c-${i}-${run}`,
          (from + 5 * 60 + i * 4 * 60) * 1000,
          i % 2 ? 'cdn-b.example.net' : 'cdn-a.example.net',
          C_STARTUPS_MS[i]!,
          stall,
        ),
      ),
    ];
    await backfillViews(server, views);
    await waitFor(
      async () =>
        (await api<{ total_row_count: number }>(`/data/v1/video-views?limit=1&${tf([prev[0], to])}`))
          .total_row_count === 10,
      'the ten views stored',
      patience(60_000),
    );
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await stopServer(server);
  });

  it('a custom range is typed in the viewer’s zone, checked inline, kept in the URL and sent as epoch seconds', async () => {
    await page.goto(`${server.url}/ui/metrics?metric=${METRIC}`);
    await page.getByTestId('timeframe').selectOption('custom');
    expect(await page.getByTestId('time-range').textContent()).toMatch(/UTC[+−]\d/);
    // A date that does not exist, in the month-first style of some locales: refused, naming the field.
    await page.getByTestId('range-from').fill('12/07/2026 10:00');
    await page.getByTestId('range-to').fill(berlinInput(to));
    await page.getByTestId('range-apply').click();
    expect(await page.getByTestId('range-error').textContent()).toBe(
      'From: “12/07/2026 10:00” is not a date-time; write it as YYYY-MM-DD HH:MM, e.g. 2026-12-07 14:05.',
    );
    expect(await page.getByTestId('range-from').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByTestId('range-to').getAttribute('aria-invalid')).toBe('false');
    await page.getByTestId('range-from').fill('2026-02-30 10:00');
    await page.getByTestId('range-apply').click();
    expect(await page.getByTestId('range-error').textContent()).toContain('From: “2026-02-30 10:00” is not');
    // To before From: refused where it was typed, nothing asked of the API.
    await page.getByTestId('range-from').fill(berlinInput(to));
    await page.getByTestId('range-to').fill(berlinInput(from));
    await page.getByTestId('range-apply').click();
    expect(await page.getByTestId('range-error').textContent()).toBe('From must be before To.');
    expect(new URL(page.url()).searchParams.getAll('timeframe')).toEqual([]);

    const asked: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes(`/metrics/${METRIC}/overall`)) asked.push(r.url());
    });
    await page.getByTestId('range-from').fill(berlinInput(from));
    await page.getByTestId('range-to').fill(berlinInput(to));
    await page.getByTestId('range-apply').click();
    await expect
      .poll(() => new URL(page.url()).searchParams.getAll('timeframe'))
      .toEqual([`${from}`, `${to}`]);
    expect(await page.getByTestId('range-error').count()).toBe(0);
    await expect.poll(() => asked.length).toBeGreaterThan(0);
    expect(new URL(asked.at(-1)!).searchParams.getAll('timeframe[]')).toEqual([`${from}`, `${to}`]);
    await expect.poll(async () => page.getByTestId('total-views').textContent()).toBe('8 views');

    // A reload reads the range back into the inputs.
    await page.reload();
    await expect.poll(() => page.getByTestId('range-from').inputValue()).toBe(berlinInput(from));
    expect(await page.getByTestId('range-to').inputValue()).toBe(berlinInput(to));
    expect(await page.getByTestId('timeframe').inputValue()).toBe('custom');

    // The views list takes the same control: the previous hour holds its two views.
    await page.goto(`${server.url}/ui/views?timeframe=${prev[0]}&timeframe=${prev[1]}`);
    await expect.poll(() => page.locator('[data-testid=views-table] tbody tr').count()).toBe(2);
    await page.getByTestId('timeframe').selectOption('24:hours');
    await expect.poll(() => page.locator('[data-testid=views-table] tbody tr').count()).toBe(10);
    expect(new URL(page.url()).searchParams.getAll('timeframe')).toEqual([]);
  });

  it('compare: the previous hour dashed on the same axis and the deltas equal what the API answers', async () => {
    // What the API answers for the current hour and the previous one.
    const both = async <T>(path: string): Promise<[T, T]> => {
      const sep = path.includes('?') ? '&' : '?';
      return [await api<T>(`${path}${sep}${tf([from, to])}`), await api<T>(`${path}${sep}${tf(prev)}`)];
    };
    const [cur, before] = await both<{ data: Point[] }>(`/data/v1/metrics/${METRIC}/timeseries`);
    const [curRows, prevRows] = await both<{ data: Row[] }>(
      `/data/v1/metrics/${METRIC}/breakdown?group_by=cdn`,
    );
    const [curAll, prevAll] = await both<{ data: { value: number } }>(`/data/v1/metrics/${METRIC}/overall`);
    // The ground truth holds what the test scripted: one value per view's minute, P worse on cdn-a.
    expect(before.data.filter((p) => p.value !== null).length).toBe(2);
    expect(cur.data.filter((p) => p.value !== null).length).toBe(8);

    await page.goto(`${server.url}/ui/metrics?metric=${METRIC}&timeframe=${from}&timeframe=${to}`);
    await page.getByTestId('compare').check();
    await expect.poll(() => new URL(page.url()).searchParams.get('compare')).toBe('previous');
    await expect
      .poll(async () => (await drawn('metric-chart')).map((s) => s.label))
      .toEqual(['Rebuffer percentage', 'Previous period', 'Views']);
    const [now, dashed] = await drawn('metric-chart');
    expect(now!.dashed).toBe(false);
    expect(now!.values).toEqual(cur.data.map((p) => p.value));
    expect(dashed!.dashed).toBe(true);
    // Each previous minute sits one hour later, on the current minute at the same place in its hour.
    const byTime = new Map(before.data.map((p) => [p.time + HOUR, p.value]));
    expect(dashed!.values).toEqual(cur.data.map((p) => byTime.get(p.time) ?? null));
    expect(dashed!.values.filter((v) => v !== null)).toEqual(
      before.data.filter((p) => p.value !== null).map((p) => p.value),
    );

    // The overall number and each CDN row: absolute and relative change, coloured by direction (higher is worse).
    const expectDelta = async (d: ReturnType<Page['locator']>, c: number, p: number) => {
      await expect.poll(async () => Number(await d.getAttribute('data-previous'))).toBeCloseTo(p, 9);
      expect(Number(await d.getAttribute('data-absolute'))).toBeCloseTo(c - p, 9);
      expect(Number(await d.getAttribute('data-percent'))).toBeCloseTo(((c - p) / p) * 100, 9);
      const abs = Math.round(Math.abs(c - p) * 100) / 100;
      const pct = Math.round(Math.abs(((c - p) / p) * 100) * 10) / 10;
      expect(await d.textContent()).toBe(`${c > p ? '+' : '−'}${abs} pp (${c > p ? '+' : '−'}${pct}%)`);
      expect(await d.getAttribute('class')).toBe(`delta ${c > p ? 'worse' : 'better'}`);
    };
    await expectDelta(page.getByTestId('overall-delta'), curAll.data.value, prevAll.data.value);
    const table = page.getByTestId('breakdown-cdn');
    for (const host of ['cdn-a.example.net', 'cdn-b.example.net']) {
      const c = curRows.data.find((r) => r.field === host)!.value!;
      const p = prevRows.data.find((r) => r.field === host)!.value!;
      await expectDelta(table.locator(`tr[data-value="${host}"] .delta`), c, p);
    }
    expect(await table.locator('th').allTextContents()).toContain('vs previous period');
    await screenshot(page, 'metrics-compare');

    // The comparison survives a reload; turning it off removes the dashed line and the column.
    await page.reload();
    await expect.poll(async () => (await drawn('metric-chart')).length).toBe(3);
    await page.getByTestId('compare').uncheck();
    await expect
      .poll(async () => (await drawn('metric-chart')).map((s) => s.label))
      .toEqual(['Rebuffer percentage', 'Views']);
    expect(await table.locator('th').allTextContents()).not.toContain('vs previous period');

    // A trailing preset: the previous period is the hour before the one the API resolved for "last 1 hour".
    const answered: { asked: string[]; resolved: number[] }[] = [];
    page.on('response', async (r) => {
      if (!r.url().includes(`/metrics/${METRIC}/timeseries`)) return;
      const asked = new URL(r.url()).searchParams.getAll('timeframe[]');
      answered.push({ asked, resolved: ((await r.json()) as { timeframe: number[] }).timeframe });
    });
    await page.goto(`${server.url}/ui/metrics?metric=${METRIC}&timeframe=1:hours&compare=previous`);
    await expect.poll(() => answered.length).toBe(2);
    const [current, previous] = answered;
    expect(current!.asked).toEqual(['1:hours']);
    const [a, b] = current!.resolved;
    expect(b! - a!).toBe(HOUR);
    expect(previous!.asked).toEqual([`${a! - HOUR}`, `${a}`]);
  });

  it('clip spikes: the axis still from zero, cut above the spike, the spike marked with its value', async () => {
    const cur = await api<{ data: Point[] }>(`/data/v1/metrics/${METRIC}/timeseries?${tf([from, to])}`);
    const values = cur.data.filter((p) => p.value !== null);
    const spike = values.reduce((a, b) => (b.value! > a.value! ? b : a));
    // The scripted 9 s stall is the one spike, in the minute its view ended.
    const end = from + 5 * 60 + SPIKE * 4 * 60 + (C_STARTUPS_MS[SPIKE]! + 8000 + C_STALLS_MS[SPIKE]!) / 1000;
    expect(spike.time).toBe(Math.floor(end / 60) * 60);

    await page.goto(`${server.url}/ui/metrics?metric=${METRIC}&timeframe=${from}&timeframe=${to}`);
    await page.getByTestId('clip').check();
    await expect.poll(() => new URL(page.url()).searchParams.get('scale')).toBe('clip');
    const chart = page.getByTestId('metric-chart');
    await expect
      .poll(async () => JSON.parse((await chart.getAttribute('data-clipped')) ?? '[]').length)
      .toBe(1);
    const [clipped] = JSON.parse((await chart.getAttribute('data-clipped'))!) as {
      time: number;
      value: number;
      text: string;
    }[];
    expect(clipped).toEqual({
      series: 'Rebuffer percentage',
      time: spike.time,
      value: spike.value,
      text: `${Math.round(spike.value! * 10) / 10}%`,
    });
    const axes = JSON.parse((await chart.getAttribute('data-axes'))!) as {
      label: string;
      min: number;
      max: number;
    }[];
    expect(axes[1]!.min).toBe(0);
    expect(axes[1]!.max).toBeLessThan(spike.value!);
    // Every other value fits under the cut.
    for (const p of values) if (p !== spike) expect(p.value!).toBeLessThanOrEqual(axes[1]!.max);
    expect(axes[1]!.label).toBe('Rebuffer percentage (cut)');
    // The note gives the cut with the axis' unit: the axis' top, rounded as the page rounds percentages.
    const top = axes[1]!.max;
    expect(await page.getByTestId('clip-note').textContent()).toBe(
      `Axis cut at ${Math.round(top * (top < 10 ? 100 : 10)) / (top < 10 ? 100 : 10)}%: 1 value above it is marked ▲ at the top edge with its value.`,
    );
    await screenshot(page, 'metrics-clip-spikes');
  });

  it('the startup box plot has a labelled axis from 0 with units, and the box sits on it', async () => {
    const max = await api<{ data: { value: number } }>(
      `/data/v1/metrics/video_startup_time/overall?${tf([from, to])}&measurement=max`,
    );
    expect(max.data.value).toBe(3200);
    await page.goto(`${server.url}/ui/metrics?timeframe=${from}&timeframe=${to}`);
    const axis = page.getByTestId('startup-axis');
    await expect
      .poll(() => axis.locator('.tick').allTextContents())
      .toEqual(['0 ms', '1000 ms', '2000 ms', '3000 ms', '4000 ms']);
    expect(await page.getByTestId('startup-axis-title').textContent()).toContain('video startup time');
    // Ticks evenly spaced; the whisker's right end (the max, 3 200 ms) at 0.8 of the axis.
    const line = (await axis.boundingBox())!;
    const tickX = await axis
      .locator('.tick')
      .evaluateAll((ts) => ts.map((t) => (t as unknown as { offsetLeft: number }).offsetLeft));
    const step = tickX[1]! - tickX[0]!;
    for (const [i, x] of tickX.entries()) expect(Math.abs(x - i * step)).toBeLessThanOrEqual(1);
    expect(Math.abs(tickX.at(-1)! - line.width)).toBeLessThanOrEqual(1);
    const whisker = (await page.locator('[data-testid=startup-distribution] .whisker').boundingBox())!;
    expect(Math.abs(whisker.x + whisker.width - (line.x + 0.8 * line.width))).toBeLessThanOrEqual(1);
    expect(Math.abs(whisker.x - (line.x + 0.1 * line.width))).toBeLessThanOrEqual(1);
    expect(errors).toEqual([]);
  });

  it('Monitor’s tables stay within the viewport at 1440×900 and at 390 px; its chart clips spikes on request', async () => {
    const long = `Very long live title ${'y'.repeat(400)}`;
    const start = Date.now() - 500;
    const heartbeat = new Heartbeat(server, [
      ...startedViews('mon-wide', [
        'edge-with-a-rather-long-host-name-0001.cdn.example.net',
        'cdn-b.example.net',
      ]),
      new ScriptedView(`mon-title-${start}`, start, { cdnHost: 'cdn-c.example.net', videoTitle: long })
        .ev('playrequest', 'startup')
        .seg('startup', 500),
    ]);
    try {
      await heartbeat.start(1000);
      for (const [width, height] of [
        [1440, 900],
        [390, 844],
      ] as const) {
        await page.setViewportSize({ width, height });
        await page.goto(`${server.url}/ui/monitor?refresh=1`);
        // The rows with the long values are there (views that ended a moment ago may be listed too).
        await page
          .locator(`[data-testid=breakdown-cdn] tr[data-value="${LONG_HOST}"]`)
          .waitFor({ timeout: patience(30_000) });
        await page.locator('[data-testid=breakdown-video_title] tr[data-value^="Very long"]').waitFor();
        // Nothing wider than the viewport, and no table wider than its card.
        const over = (await page.evaluate(`(() => {
          const w = document.documentElement.clientWidth;
          const wide = [...document.querySelectorAll('body *')]
            .filter((e) => e.getBoundingClientRect().right > w + 0.5)
            .map((e) => e.tagName + '.' + e.className);
          const tables = [...document.querySelectorAll('.breakdown')]
            .filter((c) => c.scrollWidth > c.clientWidth)
            .map((c) => c.dataset.testid);
          return { scroll: document.documentElement.scrollWidth - w, wide, tables };
        })()`)) as { scroll: number; wide: string[]; tables: string[] };
        expect(over).toEqual({ scroll: 0, wide: [], tables: [] });
        await screenshot(page, `monitor-${width}`);
      }
      // Monitor's chart takes the spike clipping too; with no spike in its line it says so and cuts nothing.
      await page.goto(`${server.url}/ui/monitor?refresh=1&scale=clip`);
      expect(await page.getByTestId('clip').isChecked()).toBe(true);
      await expect
        .poll(() => page.getByTestId('clip-note').textContent())
        .toBe('No spike to cut: the axis shows every value.');
      await page.getByTestId('clip').uncheck();
      await expect.poll(() => new URL(page.url()).searchParams.get('scale')).toBe(null);
      expect(await page.getByTestId('clip-note').count()).toBe(0);
    } finally {
      heartbeat.stop();
      await page.setViewportSize({ width: 1440, height: 900 });
    }
  });
});
