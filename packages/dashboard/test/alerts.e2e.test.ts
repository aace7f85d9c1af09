/**
 * The Alerts pages in Chromium against the real server and its alert
 * engine. Traffic the test controls: three views playing on CDN A, two on
 * CDN B of which one stalls, so CDN B rebuffers at 50 % and CDN A at 0 %.
 *
 * Checked, each against the API or the traffic: a rule from the config file
 * is listed and shown read-only; a per-CDN rebuffering rule (> 20 %, at
 * once, notifying a webhook channel the test listens on) created through the
 * form, whose preview draws both CDNs and the threshold, is stored as typed;
 * the form's backtest line shows the count the backtest API answers for the
 * same rule over the same history; the engine opens an incident for CDN B only; the webhook's two links open
 * the incident page and Monitor filtered to CDN B;
 * which the rule's state, the navigation badge, the incident list (the
 * rule's, and its status filter) and the incident page show — threshold, the stalled view
 * among the affected views (linked to its view page), a link to Monitor
 * filtered to CDN B; acknowledging it clears the badge; releasing the stall
 * resolves it. Editing the rule, a bad runbook URL refused naming the field
 * (the rule unchanged), a silence of one series created and deleted, and
 * deleting the rule. Then a rule over ended views (video startup time per
 * CDN over the last hour; stored views: CDN A started in 1 s, CDN B in 2 s),
 * created through the API: the form's preview of it draws both CDNs, the
 * engine opens an incident for CDN B at 2 s, and its page links its view and
 * Metrics over the incident's time filtered to CDN B.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slowTests } from '../../server/test/helpers/slow-tests.js';
import {
  launchChromium,
  openPage,
  pollPage,
  REALTIME_CONFIG,
  type ServerProcess,
  screenshot,
  settled,
  shownHeadline,
  signIn,
  startDashboardServer,
  stopServer,
  waitFor,
} from './kit.js';
import { Heartbeat, ScriptedView, sendViews, startedViews } from './traffic.js';

const CDN_A = 'cdn-a.example.net';
const CDN_B = 'cdn-b.example.net';
const RULE = 'CDN rebuffering';

interface Rule {
  id: string;
  channel_ids: string[];
  name: string;
  metric: string;
  breakdown: string | null;
  filters: string[];
  severity: string;
  runbook_url: string | null;
  description: string;
  condition: { operator: string; value: number; for_seconds: number; min_audience: number };
}
interface Incident {
  id: string;
  status: string;
  rule_id: string;
  breakdown_value: string | null;
  example_view_ids: string[];
}

describe('Alerts pages in Chromium against the alert engine', () => {
  // A test waits for a whole minute of series history that holds a stall: up to two minutes of wall
  // time, whatever the machine, past vitest's default timeout.
  slowTests(180_000);
  let server: ServerProcess;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let heartbeat: Heartbeat | undefined;
  let stalledId = '';
  let ruleId = '';
  let incident: Incident;
  let endedB = '';
  let receiver: Server;
  let channelId = '';
  /** Webhook bodies received, in order. */
  const received: {
    batches: { notices: { transition: string; links: { incident: string; series: string } }[] }[];
  }[] = [];

  const api = async <T>(path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${server.url}${path}`, {
      headers: { authorization: server.adminAuth(), 'content-type': 'application/json' },
      ...(body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as T };
  };
  const rules = async () => (await api<{ data: Rule[] }>('/system/v1/alert-rules')).body.data;
  const incidents = async (q = '') => (await api<{ data: Incident[] }>(`/data/v1/incidents${q}`)).body.data;
  const field = (name: string) => page.locator(`[data-testid=rule-form] [name=${name}]`);
  const ruleRow = (name: string) => page.locator(`[data-testid=rules-table] tr[data-rule="${name}"]`);

  beforeAll(async () => {
    [server, browser] = await Promise.all([
      startDashboardServer({
        ...REALTIME_CONFIG,
        alerts: {
          rules: [
            {
              id: 'config-startup',
              environment: 'default',
              name: 'Startup p95 (config)',
              metric: 'video_startup_time',
              measurement: 'p95',
              condition: { type: 'threshold', operator: '>', value: 10_000, for_seconds: 60 },
            },
          ],
        },
      }),
      launchChromium(),
    ]);
    ({ page, errors } = await openPage(browser));
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push(JSON.parse(body));
        res.end();
      });
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    const channel = await api<{ data: { id: string } }>('/system/v1/notification-channels', {
      name: 'Test webhook',
      type: 'webhook',
      settings: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook` },
    });
    expect(channel.status).toBe(201);
    channelId = channel.body.data.id;
    const t0 = Date.now() - 120_000;
    const ended = [
      [CDN_A, 1000],
      [CDN_B, 2000],
    ].map(([cdn, startup]) =>
      new ScriptedView(`ended-${cdn}-${t0}`, t0, { cdnHost: cdn as string, videoTitle: 'VOD film' })
        .ev('playrequest', 'startup')
        .seg('startup', startup as number)
        .seg('playing', 5000)
        .ev('viewend', 'ended'),
    );
    endedB = ended[1]!.viewId;
    await sendViews(server, ended);
    await waitFor(
      async () => (await api<{ total_row_count: number }>('/data/v1/video-views')).body.total_row_count === 2,
      'the ended views stored',
    );
    const live = startedViews('alert', [CDN_A, CDN_A, CDN_A, CDN_B, CDN_B]);
    heartbeat = new Heartbeat(server, live);
    await heartbeat.start();
    stalledId = live[4]!.viewId;
    await heartbeat.stallAfterPlaying(stalledId);
    await signIn(page, server, '/ui/alerts');
  });

  afterAll(async () => {
    heartbeat?.stop();
    await browser?.close();
    await stopServer(server);
    receiver?.close();
  });

  it('lists the config file’s rule and shows it read-only', async () => {
    await ruleRow('Startup p95 (config)').waitFor();
    expect(await ruleRow('Startup p95 (config)').textContent()).toContain('config file');
    expect(await ruleRow('Startup p95 (config)').getAttribute('data-state')).toBe('ok');
    await ruleRow('Startup p95 (config)').locator('a').click();
    await page.getByTestId('read-only').waitFor();
    await pollPage(
      () => field('name').inputValue(),
      (v) => v === 'Startup p95 (config)',
      'the rule loaded',
    );
    expect(await page.getByTestId('save-rule').isDisabled()).toBe(true);
    expect(await page.getByTestId('delete-rule').isDisabled()).toBe(true);
  });

  it('creates a per-CDN rule through the form; the preview draws both CDNs and the threshold', async () => {
    await page.goto(`${server.url}/ui/alerts`);
    await page.getByTestId('new-rule').click();
    await page.waitForURL(/\/ui\/alerts\/rules\/new$/);
    await pollPage(
      () => field('metric').inputValue(),
      (v) => v === 'realtime:current_rebuffering_percentage',
      'the metric list loaded',
    );
    await field('name').fill(RULE);
    await field('breakdown').selectOption('cdn');
    await field('value').fill('20');
    await field('forSeconds').fill('0');
    await field('resolveForSeconds').fill('0');
    await field('minAudience').fill('1');
    await field('severity').selectOption('critical');
    await field('runbookUrl').fill('https://runbooks.example/cdn');
    await page.locator(`[data-testid=channels] input[value="${channelId}"]`).check();
    await field('description').fill('Viewers of one CDN stall');
    const preview = page.getByTestId('rule-preview');
    await pollPage(
      async () => [await preview.getAttribute('data-threshold'), await preview.getAttribute('data-lines')],
      ([threshold, lines]) =>
        threshold === '20' && (lines ?? '').split('\n').sort().join() === [CDN_A, CDN_B].join(),
      'the preview with both CDNs and the threshold',
    );
    expect(await preview.locator('canvas').count()).toBeGreaterThan(0);
    // The backtest line: the count the API answers for this rule over the same minutes of history.
    const line = page.getByTestId('backtest');
    const body = {
      name: RULE,
      metric: 'current_rebuffering_percentage',
      breakdown: 'cdn',
      condition: {
        type: 'threshold',
        operator: '>',
        value: 20,
        for_seconds: 0,
        resolve_for_seconds: 0,
        min_audience: 1,
      },
    };
    // Once a minute of history holds CDN B's stall, its 50 % makes the count at least 1: not a
    // trivial 0 = 0. The first minute kept may have ended seconds after the stall began (its
    // rebuffering then under 20 %), so the wait is for a count, not for any minute.
    const backtest = () =>
      api<{ data: { count: number; minutes_covered: number } }>('/system/v1/alert-rules/backtest', body);
    await waitFor(
      async () => {
        await new Promise((r) => setTimeout(r, 2000));
        const d = (await backtest()).body.data;
        return d.minutes_covered >= 1 && d.count >= 1;
      },
      'a minute of series history with the stall',
      180_000,
    );
    let compared = false;
    for (let attempt = 0; attempt < 3 && !compared; attempt++) {
      const answer = await backtest();
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      // Make the form ask again now, on the history the API just replayed.
      await field('value').fill('21');
      await field('value').fill('20');
      const [state, minutes, count] = await settled(
        async () => [
          await line.getAttribute('data-state'),
          await line.getAttribute('data-minutes'),
          await line.getAttribute('data-count'),
        ],
        ([st, m]) => st === 'done' && m === String(answer.body.data.minutes_covered),
        20_000,
      );
      // A minute written in between: ask both again.
      if (state !== 'done' || minutes !== String(answer.body.data.minutes_covered)) continue;
      expect(count).toBe(String(answer.body.data.count));
      expect(answer.body.data.count).toBeGreaterThanOrEqual(1);
      expect(await line.textContent()).toContain(`Would have fired ${answer.body.data.count} time`);
      compared = true;
    }
    expect(compared).toBe(true);
    await screenshot(page, 'alert-rule-form');
    await page.getByTestId('save-rule').click();
    await page.waitForURL(/\/ui\/alerts$/);
    await ruleRow(RULE).waitFor();

    const rule = (await rules()).find((r) => r.name === RULE)!;
    ruleId = rule.id;
    expect(rule).toMatchObject({
      metric: 'current_rebuffering_percentage',
      breakdown: 'cdn',
      filters: [],
      severity: 'critical',
      runbook_url: 'https://runbooks.example/cdn',
      description: 'Viewers of one CDN stall',
      channel_ids: [channelId],
      condition: { operator: '>', value: 20, for_seconds: 0, min_audience: 1 },
    });
  });

  it('an incident opens for CDN B only: rule state, badge, list with its filter, incident page', async () => {
    await waitFor(async () => (await incidents()).length > 0, 'an incident');
    const all = await incidents();
    expect(all.map((i) => i.breakdown_value)).toEqual([CDN_B]);
    incident = all[0]!;
    expect(incident.rule_id).toBe(ruleId);

    // The webhook's links (the server's own base URL) open the incident and Monitor on CDN B.
    await waitFor(async () => received.length > 0, 'the trigger at the webhook');
    const notice = received[0]!.batches[0]!.notices[0]!;
    expect(notice.transition).toBe('trigger');
    const here = (link: string) => `${server.url}${new URL(link).pathname}${new URL(link).search}`;
    expect(new URL(notice.links.incident).pathname).toBe(`/ui/alerts/incidents/${incident.id}`);
    await page.goto(here(notice.links.incident));
    await pollPage(
      () => page.getByTestId('incident-status').textContent(),
      (t) => t === 'open',
      'the linked incident',
    );
    await page.goto(here(notice.links.series));
    await page.locator('[data-testid=filters] .chip').waitFor();
    expect(await page.locator('[data-testid=filters] .chip').getAttribute('data-filter')).toBe(
      `cdn:${CDN_B}`,
    );
    expect(await page.getByTestId('headline-current_rebuffering_percentage').getAttribute('class')).toContain(
      'selected',
    );
    await pollPage(
      () => shownHeadline(page, 'current_concurrent_viewers'),
      (v) => v === 2,
      "the link's 2 viewers",
    );
    await page.goto(`${server.url}/ui/alerts`);

    await page.reload();
    await pollPage(
      () => ruleRow(RULE).getAttribute('data-state'),
      (s) => s === 'firing',
      'the rule firing',
    );
    expect(await ruleRow(RULE).locator('.state').textContent()).toBe('1 open');
    await pollPage(
      () => page.getByTestId('alerts-badge').textContent(),
      (t) => t === '1',
      'the badge at 1',
    );

    // The rule's "1 open" opens the list of its incidents; then the status filter, in the URL.
    await ruleRow(RULE).locator('a.state').click();
    await page.waitForURL((u) => u.searchParams.get('rule_id') === ruleId);
    const rows = page.locator('[data-testid=incidents-table] tbody tr');
    await pollPage(
      () => rows.count(),
      (n) => n === 1,
      'one incident row',
    );
    expect(await rows.first().getAttribute('data-status')).toBe('open');
    expect(await rows.first().textContent()).toContain(`CDN host = ${CDN_B}`);
    await page.getByTestId('incident-status').selectOption('resolved');
    await page.waitForURL(
      (u) => u.searchParams.get('status') === 'resolved' && u.searchParams.get('rule_id') === ruleId,
    );
    await pollPage(
      () => page.locator('text=No incidents match.').count(),
      (n) => n === 1,
      'none resolved',
    );
    await page.goBack();
    await pollPage(
      () => rows.count(),
      (n) => n === 1,
      'the open one again',
    );
    await screenshot(page, 'alert-incidents');

    // The incident page.
    await rows.first().locator('a').click();
    await page.waitForURL(new RegExp(`/ui/alerts/incidents/${incident.id}$`));
    await pollPage(
      () => page.getByTestId('incident-status').textContent(),
      (t) => t === 'open',
      'status open',
    );
    expect(await page.getByTestId('incident-facts').textContent()).toContain(`CDN host = ${CDN_B}`);
    await pollPage(
      async () => [
        await page.getByTestId('incident-chart').getAttribute('data-threshold'),
        await page.getByTestId('incident-chart').getAttribute('data-lines'),
      ],
      ([t, lines]) => t === '20' && lines === 'value',
      'the value and the threshold drawn',
    );
    // The axis and the legend name the metric, not "value".
    await pollPage(
      () => chartNames(page),
      (n) => n.axis === 'Current rebuffering percentage' && n.lines[0] === 'Current rebuffering percentage',
      'the metric named on the chart',
    );
    const view = page.locator(`[data-testid=affected-views] a[href="/ui/views/${stalledId}"]`);
    await pollPage(
      () => view.count(),
      (n) => n === 1,
      'the stalled view among the affected views',
    );
    expect(await page.getByTestId('series-link').getAttribute('href')).toBe(
      `/ui/monitor?filters=cdn:${CDN_B}&breakdown=cdn`,
    );
    await screenshot(page, 'alert-incident');

    // Acknowledge: the API agrees and the badge goes.
    await page.getByTestId('acknowledge').click();
    await pollPage(
      () => page.getByTestId('incident-status').textContent(),
      (t) => t === 'acknowledged',
      'acknowledged',
    );
    expect((await incidents()).map((i) => i.status)).toEqual(['acknowledged']);
    await pollPage(
      () => page.getByTestId('alerts-badge').count(),
      (n) => n === 0,
      'no badge',
    );

    // The link opens Monitor on CDN B's 2 viewers.
    await page.getByTestId('series-link').click();
    await page.waitForURL(/\/ui\/monitor\?/);
    expect(await page.locator('[data-testid=filters] .chip').getAttribute('data-filter')).toBe(
      `cdn:${CDN_B}`,
    );
    await pollPage(
      () => shownHeadline(page, 'current_concurrent_viewers'),
      (v) => v === 2,
      "CDN B's 2 viewers",
    );

    // Releasing the stall resolves it.
    heartbeat!.stalled.clear();
    await waitFor(async () => (await incidents())[0]?.status === 'resolved', 'the incident resolved');
    await page.goto(`${server.url}/ui/alerts/incidents/${incident.id}`);
    await pollPage(
      () => page.getByTestId('incident-status').textContent(),
      (t) => t === 'resolved',
      'resolved',
    );
    expect(await page.getByTestId('acknowledge').count()).toBe(0);
  });

  it('edits the rule; a bad runbook URL is refused naming the field and changes nothing', async () => {
    await page.goto(`${server.url}/ui/alerts`);
    await ruleRow(RULE).locator('a').click();
    await pollPage(
      () => field('value').inputValue(),
      (v) => v === '20',
      'the rule loaded',
    );
    expect(await field('breakdown').inputValue()).toBe('cdn');
    await field('value').fill('60');
    await field('severity').selectOption('warning');
    await page.getByTestId('save-rule').click();
    await page.waitForURL(/\/ui\/alerts$/);
    let rule = (await rules()).find((r) => r.id === ruleId)!;
    expect([rule.condition.value, rule.severity]).toEqual([60, 'warning']);

    await ruleRow(RULE).locator('a').click();
    await pollPage(
      () => field('value').inputValue(),
      (v) => v === '60',
      'the edited rule loaded',
    );
    await field('runbookUrl').fill('ftp://runbooks.example/cdn');
    await field('value').fill('70');
    await page.getByTestId('save-rule').click();
    await pollPage(
      () => page.locator('[data-testid=rule-form] [role=alert]').textContent(),
      (t) => (t ?? '').includes('runbook_url'),
      'the refusal naming runbook_url',
    );
    expect(page.url()).toMatch(new RegExp(`/ui/alerts/rules/${ruleId}$`));
    rule = (await rules()).find((r) => r.id === ruleId)!;
    expect([rule.condition.value, rule.runbook_url]).toEqual([60, 'https://runbooks.example/cdn']);
  });

  it('creates a silence of one series and deletes it', async () => {
    await page.goto(`${server.url}/ui/alerts/silences`);
    const form = page.getByTestId('silence-form');
    await pollPage(
      () => form.locator('[name=rule] option').count(),
      (n) => n === 3,
      'the rules to choose',
    );
    await form.locator('[name=rule]').selectOption(ruleId);
    await form.locator('[name=series]').fill(CDN_A);
    await form.locator('[name=duration]').selectOption('120');
    await form.locator('[name=comment]').fill('CDN A maintenance');
    const before = Date.now();
    await page.getByTestId('create-silence').click();
    const row = page.locator('[data-testid=silences-table] tbody tr');
    await pollPage(
      () => row.count(),
      (n) => n === 1,
      'the silence listed',
    );
    expect(await row.first().getAttribute('data-active')).toBe('true');
    expect(await row.first().textContent()).toContain(RULE);
    const listed = await api<{
      data: {
        rule_id: string;
        breakdown: string;
        breakdown_value: string;
        comment: string;
        ends_at: string;
      }[];
    }>('/system/v1/silences');
    expect(listed.body.data).toHaveLength(1);
    const s = listed.body.data[0]!;
    expect(s).toMatchObject({
      rule_id: ruleId,
      breakdown: 'cdn',
      breakdown_value: CDN_A,
      comment: 'CDN A maintenance',
    });
    // Two hours from when it was made.
    const ends = Date.parse(s.ends_at);
    expect(ends).toBeGreaterThanOrEqual(before + 2 * 3600_000 - 1000);
    expect(ends).toBeLessThanOrEqual(Date.now() + 2 * 3600_000 + 1000);
    await screenshot(page, 'alert-silences');

    await row.first().locator('button').click();
    await pollPage(
      () => row.count(),
      (n) => n === 0,
      'the silence gone',
    );
    expect((await api<{ data: unknown[] }>('/system/v1/silences')).body.data).toHaveLength(0);
  });

  it('deletes the rule', async () => {
    await page.goto(`${server.url}/ui/alerts/rules/${ruleId}`);
    await pollPage(
      () => field('name').inputValue(),
      (v) => v === RULE,
      'the rule loaded',
    );
    page.once('dialog', (d) => void d.accept());
    await page.getByTestId('delete-rule').click();
    await page.waitForURL(/\/ui\/alerts$/);
    await pollPage(
      () => ruleRow(RULE).count(),
      (n) => n === 0,
      'the rule gone from the list',
    );
    expect((await api(`/system/v1/alert-rules/${ruleId}`)).status).toBe(404);
  });

  it('a rule over ended views: preview, incident for CDN B, its view and Metrics over its time', async () => {
    const created = await api<{ data: Rule }>('/system/v1/alert-rules', {
      name: 'Startup over views',
      metric: 'video_startup_time',
      window_seconds: 3600,
      evaluate_every_seconds: 10,
      breakdown: 'cdn',
      condition: { type: 'threshold', operator: '>', value: 1500, for_seconds: 0, min_audience: 1 },
    });
    expect(created.status).toBe(201);
    const id = created.body.data.id;

    await page.goto(`${server.url}/ui/alerts/rules/${id}`);
    await pollPage(
      () => field('metric').inputValue(),
      (v) => v === 'window:video_startup_time',
      'the rule loaded',
    );
    expect(await field('window').inputValue()).toBe('60');
    const preview = page.getByTestId('rule-preview');
    await pollPage(
      async () => [await preview.getAttribute('data-threshold'), await preview.getAttribute('data-lines')],
      ([threshold, lines]) =>
        threshold === '1500' && (lines ?? '').split('\n').sort().join() === [CDN_A, CDN_B].join(),
      'the preview with both CDNs and the threshold',
    );

    await waitFor(
      async () => (await incidents(`?rule_id=${id}`)).length > 0,
      'an incident of the windowed rule',
      60_000,
    );
    const found = await incidents(`?rule_id=${id}`);
    expect(found.map((i) => i.breakdown_value)).toEqual([CDN_B]);
    await page.goto(`${server.url}/ui/alerts/incidents/${found[0]!.id}`);
    await pollPage(
      async () => [
        await page.getByTestId('incident-chart').getAttribute('data-threshold'),
        await page.getByTestId('incident-chart').getAttribute('data-lines'),
      ],
      ([t, lines]) => t === '1500' && lines === 'value',
      'the value and the threshold drawn',
    );
    await pollPage(
      () => chartNames(page),
      (n) => n.axis === 'Video startup time' && n.lines[0] === 'Video startup time',
      'the metric named on the chart',
    );
    expect(await page.locator('[data-testid=incident-chart] canvas').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('incident-facts').textContent()).toContain('2000 ms');
    await pollPage(
      () => page.locator(`[data-testid=affected-views] a[href="/ui/views/${endedB}"]`).count(),
      (n) => n === 1,
      "CDN B's view among the affected views",
    );
    const href = (await page.getByTestId('series-link').getAttribute('href')) ?? '';
    expect(href).toMatch(
      /^\/ui\/metrics\?timeframe=\d+&timeframe=\d+&measurement=median&filters=cdn:cdn-b\.example\.net$/,
    );
    await screenshot(page, 'alert-incident-window');
    await page.getByTestId('series-link').click();
    await pollPage(
      () => page.getByTestId('total-views').textContent(),
      (t) => t === '1 views',
      "CDN B's one view",
    );
    await pollPage(
      () => page.getByTestId('overall').textContent(),
      (t) => t === '2000 ms',
      'its 2 s startup',
    );
    expect(errors).toEqual([]);
  });
});

/** The incident chart's left-axis title and line names, as drawn (the chart mirrors them on its element). */
async function chartNames(page: Page): Promise<{ axis: string | undefined; lines: string[] }> {
  const chart = page.locator('[data-testid=incident-chart] .chart');
  if ((await chart.count()) === 0) return { axis: undefined, lines: [] };
  const axes = JSON.parse((await chart.getAttribute('data-axes')) ?? '[]') as ({ label: string } | null)[];
  const series = JSON.parse((await chart.getAttribute('data-series')) ?? '[]') as { label: string }[];
  return { axis: axes[1]?.label, lines: series.map((x) => x.label) };
}
