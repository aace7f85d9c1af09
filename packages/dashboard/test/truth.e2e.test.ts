/**
 * The dashboard tells the truth at a glance, checked in Chromium against the
 * real server with views this test scripted: one date-time format with the
 * browser's time zone on every page, charts' y axes from zero with units and
 * whole-number counts, long and right-to-left titles that cannot break the
 * layout, formatted metadata, a favicon, and the view timeline's lanes and
 * bitrate on one time axis.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLiveStream } from '../../server/test/helpers/live.js';
import {
  launchChromium,
  type ServerProcess,
  screenshot,
  signIn,
  startDashboardServer,
  stopServer,
  waitFor,
  zoneParts,
} from './kit.js';
import { ScriptedView, sendViews } from './traffic.js';

/** Berlin is UTC+1 in December and UTC+2 in summer: the expected label is computed for the instant. */
const ZONE = 'Europe/Berlin';
const DATE_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC[+−]\d{1,2}(:\d{2})?$/;

/** What the page must show for an instant, computed here independently of the app's code. */
function inBerlin(ms: number): string {
  const parts = zoneParts(ms, ZONE);
  const zone = String(parts['timeZoneName']).replace('GMT', 'UTC').replace('-', '−');
  return `${parts['year']}-${parts['month']}-${parts['day']} ${parts['hour']}:${parts['minute']}:${parts['second']} ${zone}`;
}

interface DrawnAxis {
  label: string;
  ticks: string[];
  min: number | null;
  max: number | null;
}

const TITLE_RTL = 'abc \u202Eevil\u202C def';
const LONG_TITLE = `Long ${'x'.repeat(1019)}`;

describe('dashboard truth in Chromium: time format, axes, bidi, long titles, timeline', () => {
  let server: ServerProcess;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const errors: string[] = [];
  const viewId = `truth-${Date.now()}`;

  const api = async (path: string) => {
    const res = await fetch(`${server.url}${path}`, { headers: { authorization: server.adminAuth() } });
    return (await res.json()) as Record<string, unknown>;
  };
  const axes = async (testId: string): Promise<(DrawnAxis | null)[]> =>
    JSON.parse((await page.getByTestId(testId).getAttribute('data-axes')) ?? '[]');

  beforeAll(async () => {
    [server, browser] = await Promise.all([startDashboardServer(), launchChromium()]);
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: ZONE });
    page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    await signIn(page, server);

    const t0 = Date.now() - 60_000;
    // Startup 1 s, plays 4 s at 800 kbps, stalls 2 s, plays 3 s at 2.4 Mbps, a fatal error at the end.
    const main = new ScriptedView(viewId, t0, {
      videoTitle: 'Timeline Film',
      cdnHost: 'cdn-t.example.net',
      videoBitrateBps: 800_000,
    })
      .ev('playrequest', 'startup')
      .seg('startup', 1000)
      .seg('playing', 4000)
      .seg('rebuffering', 2000)
      .seg('playing', 3000, { videoBitrateBps: 2_400_000 })
      .ev('error', 'playing', { errorCode: 'MEDIA_ERR_DECODE', errorFatal: true })
      .ev('viewend', 'ended');
    const rtl = new ScriptedView(`rtl-${Date.now()}`, t0, { videoTitle: TITLE_RTL })
      .ev('playrequest', 'startup')
      .seg('startup', 500)
      .seg('playing', 2000)
      .ev('viewend', 'ended');
    const long = new ScriptedView(`long-${Date.now()}`, t0, { videoTitle: LONG_TITLE })
      .ev('playrequest', 'startup')
      .seg('startup', 700)
      .seg('playing', 2000)
      .ev('viewend', 'ended');
    await sendViews(server, [main, rtl, long]);
    await waitFor(
      async () => (await api('/data/v1/video-views?limit=10'))['total_row_count'] === 3,
      'the three views stored',
    );
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await stopServer(server);
  });

  it('the views list and the view page show one date-time format, in the browser’s zone, named', async () => {
    const list = (await api(`/data/v1/video-views?limit=10`))['data'] as {
      view_id: string;
      view_end: string;
    }[];
    const viewEnd = Date.parse(list.find((v) => v.view_id === viewId)!.view_end);
    await page.goto(`${server.url}/ui/views`);
    const row = page.locator(`[data-testid=views-table] tr[data-view-id="${viewId}"]`);
    await row.waitFor();
    const shown = (await row.locator('td').first().textContent()) ?? '';
    expect(shown).toMatch(DATE_TIME);
    expect(shown).toBe(inBerlin(viewEnd));

    await row.locator('a').first().click();
    const origin = page.getByTestId('timeline-origin');
    await origin.waitFor();
    const originText = (await origin.textContent()) ?? '';
    expect(originText).toMatch(DATE_TIME);
    expect(originText.slice(-6)).toBe(inBerlin(viewEnd).slice(-6));
  });

  it('charts: y axes from zero, titled with what they measure, whole-number counts, time with its zone', async () => {
    await page.goto(`${server.url}/ui/metrics`);
    const chart = page.getByTestId('metric-chart');
    await expect
      .poll(async () => (await axes('metric-chart')).filter((a) => a && a.ticks.length > 0).length)
      .toBe(3);
    const [x, y, r] = await axes('metric-chart');
    expect(x!.label).toBe(`time (${inBerlin(Date.now()).split(' ')[2]})`);
    expect(y!.min).toBe(0);
    expect(y!.label).toBe('Video startup time');
    // The default metric is the startup time: every tick carries its unit.
    for (const t of y!.ticks) expect(t).toMatch(/^[\d.,]+ (ms|s)$/);
    // One unit for the whole axis, never "5000 ms" next to "10 s".
    expect(new Set(y!.ticks.map((t) => t.split(' ')[1])).size).toBe(1);
    expect(r!.min).toBe(0);
    expect(r!.label).toBe('Views');
    // Counts: every tick a whole number (three views never make a 0.25 tick).
    for (const t of r!.ticks) expect(t).toMatch(/^\d[\d,]*$/);
    // The legend (the tooltip) under the cursor names the instant in the same format.
    const box = (await chart.locator('.u-over').boundingBox())!;
    await page.mouse.move(box.x + box.width - 2, box.y + box.height / 2);
    const legendTime = chart.locator('.u-legend .u-series').first().locator('.u-value');
    await expect.poll(async () => (await legendTime.textContent()) ?? '').toMatch(DATE_TIME);
    await screenshot(page, 'truth-metrics');

    // A rate: from zero, in percent.
    await page.getByTestId('metric').selectOption('rebuffer_percentage');
    await expect.poll(async () => (await axes('metric-chart'))[1]?.label).toBe('Rebuffer percentage');
    await expect.poll(async () => (await axes('metric-chart'))[1]?.ticks.at(-1)).toMatch(/%$/);
    expect((await axes('metric-chart'))[1]!.min).toBe(0);
  });

  it('the monitor says when it last updated in the same format', async () => {
    await page.goto(`${server.url}/ui/monitor`);
    await expect
      .poll(async () => ((await page.getByTestId('updated').textContent()) ?? '').replace('updated ', ''))
      .toMatch(DATE_TIME);
  });

  it('a live stream’s page says when its health was measured in the same format', async () => {
    const stream = await createLiveStream(server);
    await page.goto(`${server.url}/ui/live-streams/${stream.id}`);
    await expect.poll(async () => (await page.getByTestId('updated').textContent()) ?? '').toMatch(DATE_TIME);
  });

  it('a 1 024-character title does not widen the views list; it is cut, with the full text on hover', async () => {
    await page.goto(`${server.url}/ui/views`);
    const rows = page.locator('[data-testid=views-table] tbody tr');
    await expect.poll(() => rows.count()).toBe(3);
    const long = page.locator('[data-testid=views-table] bdi.user-text', { hasText: 'Long xxx' });
    expect(await long.getAttribute('title')).toBe(LONG_TITLE);
    const width = await page.evaluate('[document.documentElement.scrollWidth, window.innerWidth]');
    const [scroll, viewport] = width as [number, number];
    expect(scroll).toBeLessThanOrEqual(viewport);
    const box = (await long.boundingBox())!;
    expect(box.width).toBeLessThan(viewport / 2);
    await screenshot(page, 'truth-views-long-title');
  });

  it('a right-to-left override in a title reorders only the title, never the page around it', async () => {
    await page.goto(`${server.url}/ui/views`);
    const cell = page.locator('[data-testid=views-table] bdi.user-text', { hasText: 'evil' });
    await cell.waitFor();
    // (Page code as strings: the tests compile without the DOM library.)
    const isolation = await page.evaluate(`[...document.querySelectorAll('[data-testid=views-table] bdi')]
      .filter((b) => b.textContent.includes('evil')).map((b) => getComputedStyle(b).unicodeBidi)`);
    expect(isolation).toEqual(['isolate']);
    // The title inline in a sentence (the search chip: "matching <title> ×"), its override unterminated:
    // "matching" stays left of the title, the × right of it, and the title starts with its own "abc".
    await page.getByTestId('search').fill(TITLE_RTL);
    await page.getByTestId('search').press('Enter');
    const chip = page.locator('.chip', { hasText: 'matching' });
    await chip.waitFor();
    const order = (await page.evaluate(`(() => {
      const chip = [...document.querySelectorAll('.chip')].find((c) => c.textContent.includes('matching'));
      const bdi = chip.querySelector('.user-text');
      const text = (node, from, to) => {
        const r = document.createRange();
        r.setStart(node, from);
        r.setEnd(node, to);
        return r.getBoundingClientRect();
      };
      const first = chip.firstChild;
      const t = bdi.firstChild;
      return {
        matching: text(first, 0, 'matching'.length).right,
        title: bdi.getBoundingClientRect().toJSON(),
        abc: text(t, 0, 3).left,
        close: chip.querySelector('button').getBoundingClientRect().left,
        isolation: getComputedStyle(bdi).unicodeBidi,
      };
    })()`)) as {
      matching: number;
      title: { left: number; right: number };
      abc: number;
      close: number;
      isolation: string;
    };
    expect(order.isolation).toBe('isolate');
    expect(order.matching).toBeLessThanOrEqual(order.title.left);
    expect(order.close).toBeGreaterThanOrEqual(order.title.right);
    expect(Math.abs(order.abc - order.title.left)).toBeLessThanOrEqual(1);
    await screenshot(page, 'truth-rtl-title');
  });

  it('the view page: the title isolated, metadata numbers with units, no raw float tails', async () => {
    await page.goto(`${server.url}/ui/views/${viewId}`);
    const meta = page.getByTestId('metadata');
    await meta.waitFor();
    const field = (k: string) => meta.locator(`tr[data-key="${k}"] td`).textContent();
    // Startup 1 s; 2 s of rebuffering over 7 s played + 2 s stalled… as the API computes it, with its unit.
    expect(await field('video_startup_time_ms')).toBe('1000 ms');
    const view = (await api(`/data/v1/video-views/${viewId}`))['data'] as Record<string, number>;
    expect(await field('rebuffer_percentage')).toBe(`${Math.round(view['rebuffer_percentage']! * 10) / 10}%`);
    expect(await field('weighted_average_bitrate_bps')).toMatch(/^[\d.]+ (kbps|Mbps)$/);
    for (const t of await meta.locator('td').allTextContents()) expect(t).not.toMatch(/^-?\d+\.\d{4,}$/);
    expect(await page.getByTestId('view-title').textContent()).toBe('Timeline Film');
    expect(errors).toEqual([]);
  });

  it('the timeline: lanes and bitrate on one time axis to the pixel, events labelled, nothing clipped', async () => {
    await page.goto(`${server.url}/ui/views/${viewId}`);
    const lane = page.getByTestId('swim-lane');
    await lane.waitFor();
    // Screen x of a shape's geometry (its box without the stroke, which a bounding rect includes).
    const screenX = async (selector: string, edge: 'left' | 'right') =>
      (await page.evaluate(`(() => {
        const el = document.querySelector('[data-testid=swim-lane] ${selector}');
        const b = el.getBBox();
        const m = el.getScreenCTM();
        return (b.x + ${edge === 'right' ? 'b.width' : '0'}) * m.a + m.e;
      })()`)) as number;
    const left = (selector: string) => screenX(selector, 'left');
    const right = (selector: string) => screenX(selector, 'right');
    // The stall starts 5 s after the play request, at 800 kbps; the 2.4 Mbps rendition starts when it ends (7 s).
    const stall = 'rect[data-state=rebuffering]';
    expect(await lane.locator(stall).getAttribute('data-start-ms')).toBe('5000');
    expect(await lane.locator('line.bitrate[data-start-ms="5000"]').getAttribute('data-bps')).toBe('800000');
    expect(
      Math.abs((await left(stall)) - (await left('line.bitrate[data-start-ms="5000"]'))),
    ).toBeLessThanOrEqual(1);
    expect(await lane.locator('line.bitrate[data-start-ms="7000"]').getAttribute('data-bps')).toBe('2400000');
    expect(
      Math.abs((await right(stall)) - (await left('line.bitrate[data-start-ms="7000"]'))),
    ).toBeLessThanOrEqual(1);
    // The bitrate axis from zero, with its unit.
    expect(await lane.getByTestId('bitrate').locator('text.axis').allTextContents()).toEqual([
      '0',
      '2.4 Mbps',
    ]);
    // Every event labelled with its type; the fatal error at the very end, code and all, inside the drawing.
    const labels = await lane.locator('[data-event] text').allTextContents();
    expect(labels).toEqual(['playrequest', 'error MEDIA_ERR_DECODE (fatal)', 'viewend']);
    const svg = (await lane.boundingBox())!;
    for (const text of await lane.locator('text').all()) {
      const b = (await text.boundingBox())!;
      expect(b.x).toBeGreaterThanOrEqual(svg.x - 0.5);
      expect(b.x + b.width).toBeLessThanOrEqual(svg.x + svg.width + 0.5);
    }
    // No two event labels overlap.
    const boxes = await Promise.all(
      (await lane.locator('[data-event] text').all()).map(async (t) => (await t.boundingBox())!),
    );
    for (const [i, a] of boxes.entries())
      for (const b of boxes.slice(i + 1)) {
        const apart =
          a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
        expect(apart).toBe(true);
      }
    await screenshot(page, 'truth-timeline');
  });
});
