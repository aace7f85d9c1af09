/**
 * The notifications output against real receivers: HTTP listeners on
 * 127.0.0.1 (webhook, Slack, PagerDuty), a real SMTP server (smtp-server)
 * and a real Prometheus Alertmanager (Debian's prometheus-alertmanager,
 * started here), with the notifier on a real DuckDB store and its queues
 * on disk. Golden tests name the documented fields they check; grouping,
 * the rate limit, an outage and a restart are checked by what the
 * receivers got.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ActionsBlock, Button, ContextBlock, HeaderBlock, KnownBlock, SectionBlock } from '@slack/types';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelType } from '../src/outputs/notifications/channel-settings.js';
import type { PagerDutyEvent } from '../src/outputs/notifications/channels/pagerduty.js';
import type { webhookBody } from '../src/outputs/notifications/channels/webhook.js';
import type { NotificationBatch } from '../src/outputs/notifications/incident-notice.js';
import type { ChannelNotifier, NotificationsConfig } from '../src/outputs/notifications/notifier.js';
import { openNotifier } from '../src/outputs/notifications/open-notifier.js';
import { DuckDBStore } from '../src/store/duckdb/duckdb-store.js';
import { HttpRecorder, type RecordedRequest } from './helpers/http-recorder.js';
import { batch, notice, notices } from './helpers/notices.js';
import { settled, waitFor } from './helpers/patience.js';
import { spawnTracked, stopChild } from './helpers/processes.js';
import {
  type Alertmanager,
  readMail,
  type SmtpReceiver,
  startAlertmanager,
  startSmtpReceiver,
} from './helpers/receivers.js';
import { removeDir, tempDataDir } from './helpers/server-process.js';

const ENV = 'env-a';
const CONFIG: NotificationsConfig = {
  bufferMaxBytes: 16 * 1024 * 1024,
  whenFull: 'block',
  retryInitialBackoffMs: 50,
  retryMaxBackoffMs: 400,
  requestTimeoutMs: 5000,
  rateLimitPerMinute: 600,
  listedSeries: 10,
  alertmanagerResendMs: 60_000,
};

/** The child of the kill -9 test: opens a notifier on its data dir, notifies one trigger, prints `durable`. */
const KILLED_NOTIFIER = `
const dist = ${JSON.stringify(join(import.meta.dirname, '../dist'))};
const { DuckDBStore } = await import(dist + '/store/duckdb/duckdb-store.js');
const { openNotifier } = await import(dist + '/outputs/notifications/open-notifier.js');
const { Registry } = await import('prom-client');
const [dir, url] = process.argv.slice(1);
const store = await DuckDBStore.open({ path: dir + '/openqoe.duckdb', checkpointThreshold: '16MB', memoryLimit: '', threads: 1 });
const quiet = { info() {}, warn() {}, error() {} };
const config = ${JSON.stringify(CONFIG)};
const notifier = await openNotifier({ sql: store, config, dataDir: dir, registry: new Registry(), log: quiet });
const c = await notifier.channels.create('env-a', { name: 'hook', type: 'webhook', settings: { url } });
const notice = ${JSON.stringify(notice(0, 'trigger', 'inc-killed'))};
await notifier.notify({ envId: 'env-a', envName: 'production', rule: { id: 'r', name: 'r', description: '', runbookUrl: null, severity: 'critical' }, channelIds: [c.id], notices: [notice] });
process.stdout.write('durable\\n');
setInterval(() => {}, 60000);
`;

const json = (r: RecordedRequest) => JSON.parse(r.raw.toString('utf8')) as Record<string, unknown>;
type WebhookBody = ReturnType<typeof webhookBody>;
const hookBody = (r: RecordedRequest) => json(r) as unknown as WebhookBody;
const pdEvent = (r: RecordedRequest) =>
  json(r) as unknown as PagerDutyEvent & { payload: { custom_details: PdDetails } };
interface PdDetails {
  series: Record<string, unknown>[];
  more_series: number;
}
/** What Alertmanager's webhook receiver gets. */
interface AmMessage {
  status: string;
  alerts: { labels: Record<string, string>; endsAt: string }[];
}

describe('notification channels deliver to real receivers', () => {
  let dir: string;
  let store: DuckDBStore;
  let registry: Registry;
  let notifier: ChannelNotifier;
  const logs: string[] = [];
  const log = {
    info: (m: string) => logs.push(m),
    warn: (m: string) => logs.push(m),
    error: (m: string) => logs.push(m),
  };
  const hooks = new HttpRecorder();
  let smtp: SmtpReceiver;

  const open = () => {
    registry = new Registry();
    return openNotifier({ sql: store, config: CONFIG, dataDir: dir, registry, log });
  };
  const channel = async (type: ChannelType, settings: Record<string, unknown>, name: string = type) =>
    (await notifier.channels.create(ENV, { name, type, settings })).id;
  /** An email channel on the test's SMTP server, logging in as `alerts`. */
  const mailChannel = (password: string, to: string[]) =>
    channel('email', {
      smtp_host: '127.0.0.1',
      smtp_port: smtp.port,
      smtp_user: 'alerts',
      smtp_password: password,
      from: 'alerts@openqoe.test',
      to,
    });
  const metric = async (name: string, channelId: string) => {
    const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
    return (m?.values ?? [])
      .filter((v) => v.labels['channel'] === channelId)
      .reduce((sum, v) => sum + Number(v.value), 0);
  };

  beforeAll(async () => {
    dir = tempDataDir('openqoe-notify-');
    store = await DuckDBStore.open({
      path: join(dir, 'openqoe.duckdb'),
      checkpointThreshold: '16MB',
      memoryLimit: '',
      threads: 1,
    });
    notifier = await open();
    await hooks.start();
    hooks.respond = (r) =>
      r.path.startsWith('/pagerduty')
        ? { status: 202, body: '{"status":"success","message":"Event processed"}' }
        : { status: 200, body: 'ok' };
    smtp = await startSmtpReceiver('alerts', 'smtp-secret');
  });

  afterAll(async () => {
    await notifier?.close();
    await store?.close();
    await hooks.stop();
    await smtp?.stop();
    if (dir) removeDir(dir);
  });

  it('webhook: JSON body with every notice, HMAC-SHA256 over "<timestamp>.<body>" in X-Openqoe-Signature', async () => {
    const id = await channel('webhook', { url: `${hooks.url}/webhook/golden`, signing_secret: 'whsec-test' });
    await notifier.notify(batch(ENV, [id], [notice(0, 'trigger')]));
    await waitFor(async () => hooks.to('/webhook/golden').length === 1, 'the webhook');
    const [req] = hooks.to('/webhook/golden');
    // The documented check: recompute over the timestamp header, a dot and the raw body.
    const ts = String(req!.headers['x-openqoe-timestamp']);
    const expected = `v1=${createHmac('sha256', 'whsec-test')
      .update(`${ts}.${req!.raw.toString('utf8')}`)
      .digest('hex')}`;
    expect(req!.headers['x-openqoe-signature']).toBe(expected);
    // The replay window a receiver applies: the timestamp is the send's, in seconds.
    expect(Math.abs(Date.now() / 1000 - Number(ts))).toBeLessThan(300);
    const body = json(req!) as { version: number; id: string; batches: Record<string, unknown>[] };
    expect(body.version).toBe(1);
    expect(body.id).toMatch(/^[0-9a-f]{32}$/);
    const b = body.batches[0]!;
    expect(b['environment']).toEqual({ id: ENV, name: 'production' });
    expect(b['rule']).toMatchObject({ id: 'rule-1', name: 'CDN rebuffering', severity: 'critical' });
    expect(b['summary']).toEqual(['1 series opened: cdn=edge-0.example']);
    expect((b['notices'] as unknown[])[0]).toMatchObject({
      incident_id: 'inc-0',
      dedup_key: 'inc-0:trigger',
      transition: 'trigger',
      metric: 'current_rebuffering_percentage',
      operator: '>',
      threshold: 5,
      value: 12.5,
      breakdown: 'cdn',
      breakdown_value: 'edge-0.example',
      links: { incident: 'http://openqoe.test/ui/alerts/incidents/inc-0' },
    });
  });

  it('Slack: Block Kit blocks (what, where, value vs threshold, links) and the text fallback', async () => {
    const id = await channel('slack', { webhook_url: `${hooks.url}/slack/golden` });
    await notifier.notify(batch(ENV, [id], [notice(1, 'trigger')]));
    await waitFor(async () => hooks.to('/slack/golden').length === 1, 'Slack');
    const msg = json(hooks.to('/slack/golden')[0]!) as { text: string; blocks: KnownBlock[] };
    expect(msg.text).toBe('[critical] CDN rebuffering (production): 1 series opened: cdn=edge-1.example');
    expect(msg.blocks.length).toBeLessThanOrEqual(50);
    const header = msg.blocks[0] as HeaderBlock;
    expect(header.type).toBe('header');
    expect(header.text.type).toBe('plain_text');
    const sections = msg.blocks.filter((b): b is SectionBlock => b.type === 'section');
    const texts = sections.map((s) => s.text?.text ?? '').join('\n');
    expect(texts).toContain('CDN rebuffering');
    expect(texts).toContain('cdn=edge-1.example: current_rebuffering_percentage 12.5% > 5% (worst 21%)');
    const where = msg.blocks.find((b): b is ContextBlock => b.type === 'context')!;
    expect(JSON.stringify(where.elements)).toContain('production');
    const actions = msg.blocks.find((b): b is ActionsBlock => b.type === 'actions')!;
    expect((actions.elements as Button[]).map((e) => [e.type, e.url])).toEqual([
      ['button', 'http://openqoe.test/ui/alerts/incidents/inc-1'],
      ['button', 'http://openqoe.test/ui/monitor?dimension=cdn&filters=cdn:edge-1.example'],
      ['button', 'https://runbooks.example/cdn-rebuffering'],
    ]);
  });

  it('PagerDuty Events v2: routing_key, event_action, dedup_key per incident (trigger and resolve match), payload fields', async () => {
    const id = await channel('pagerduty', {
      routing_key: 'R0UTINGKEY',
      events_url: `${hooks.url}/pagerduty/golden`,
    });
    await notifier.notify(batch(ENV, [id], [notice(2, 'trigger')]));
    await notifier.notify(batch(ENV, [id], [notice(2, 'acknowledge')]));
    await notifier.notify(batch(ENV, [id], [notice(2, 'resolve')]));
    await waitFor(async () => hooks.to('/pagerduty/golden').length === 3, 'three PagerDuty events');
    const [trigger, ack, resolve] = hooks.to('/pagerduty/golden').map(pdEvent);
    expect(trigger).toMatchObject({ routing_key: 'R0UTINGKEY', event_action: 'trigger', dedup_key: 'inc-2' });
    const p = trigger!['payload'];
    expect(p.summary).toBe('[critical] CDN rebuffering (production): 1 series opened: cdn=edge-2.example');
    expect(p.summary.length).toBeLessThanOrEqual(1024);
    expect(p.source).toBe('production: cdn=edge-2.example');
    expect(['critical', 'error', 'warning', 'info']).toContain(p.severity);
    expect(p.severity).toBe('critical');
    expect(p.timestamp).toBe('2026-12-07T08:00:00.000Z');
    expect(p.component).toBe('current_rebuffering_percentage');
    expect(p.group).toBe('cdn');
    expect(p.class).toBe('CDN rebuffering');
    expect(p.custom_details.series[0]).toMatchObject({
      series: 'cdn=edge-2.example',
      incident_id: 'inc-2',
      dedup_key: 'inc-2:trigger',
    });
    expect(trigger!.links?.[0]).toEqual({
      href: 'http://openqoe.test/ui/alerts/incidents/inc-2',
      text: 'Incident in openqoe',
    });
    expect(ack).toEqual({ routing_key: 'R0UTINGKEY', event_action: 'acknowledge', dedup_key: 'inc-2' });
    expect(resolve).toEqual({ routing_key: 'R0UTINGKEY', event_action: 'resolve', dedup_key: 'inc-2' });
  });

  it('email: one mail over SMTP (with login) with the title as subject and the series in the body', async () => {
    const id = await mailChannel('smtp-secret', ['oncall@example.com', 'video@example.com']);
    await notifier.notify(batch(ENV, [id], [notice(3, 'trigger')]));
    await waitFor(async () => smtp.mails.length === 1, 'the mail');
    const mail = smtp.mails[0]!;
    expect(mail.from).toBe('alerts@openqoe.test');
    expect(mail.to).toEqual(['oncall@example.com', 'video@example.com']);
    const { subject, body, messageId } = readMail(mail.raw);
    expect(subject).toBe('[critical] CDN rebuffering (production): 1 series opened: cdn=edge-3.example');
    expect(body).toContain(
      'opened: cdn=edge-3.example: current_rebuffering_percentage 12.5% > 5% (worst 23%)',
    );
    expect(body).toContain('Incident: http://openqoe.test/ui/alerts/incidents/inc-3');
    expect(body).toContain('Runbook: https://runbooks.example/cdn-rebuffering');
    expect(messageId).toMatch(/^<[0-9a-f]{32}@openqoe>$/);
  });

  it('root-cause hint of a whole-environment incident: in the webhook body, Slack blocks, PagerDuty custom_details, the mail and the Alertmanager annotation', async () => {
    const hint = '92 % of the added rebuffering is on CDN edge-7.example (48 % of the audience)';
    const whole = { ...notice(7, 'trigger'), breakdown: null, breakdownValue: null, rootCause: hint };
    const ids = {
      webhook: await channel('webhook', { url: `${hooks.url}/hint/webhook` }),
      slack: await channel('slack', { webhook_url: `${hooks.url}/hint/slack` }),
      pagerduty: await channel('pagerduty', {
        routing_key: 'R0UTINGKEY',
        events_url: `${hooks.url}/pagerduty/hint`,
      }),
      alertmanager: await channel('alertmanager', { url: `${hooks.url}/hint/am` }),
      email: await mailChannel('smtp-secret', ['hint@example.com']),
    };
    smtp.mails.length = 0;
    await notifier.notify(batch(ENV, Object.values(ids), [whole]));
    await waitFor(
      async () =>
        hooks.to('/hint/webhook').length +
          hooks.to('/hint/slack').length +
          hooks.to('/pagerduty/hint').length +
          hooks.to('/hint/am').length +
          smtp.mails.length ===
        5,
      'every channel',
    );
    const line = `opened: whole environment: current_rebuffering_percentage 12.5% > 5% (worst 27%) (likely cause: ${hint})`;
    expect(hookBody(hooks.to('/hint/webhook')[0]!).batches[0]!.notices[0]).toMatchObject({
      breakdown: null,
      root_cause: hint,
    });
    const slack = json(hooks.to('/hint/slack')[0]!) as { blocks: KnownBlock[] };
    const texts = slack.blocks
      .filter((b): b is SectionBlock => b.type === 'section')
      .map((b) => b.text?.text);
    expect(texts).toContain(`• ${line}`);
    const pd = pdEvent(hooks.to('/pagerduty/hint')[0]!);
    expect(pd.payload.custom_details.series[0]).toMatchObject({
      series: 'whole environment',
      root_cause: hint,
    });
    const [alert] = JSON.parse(hooks.to('/hint/am')[0]!.raw.toString()) as {
      annotations: Record<string, string>;
    }[];
    expect(alert!.annotations['root_cause']).toBe(hint);
    expect(readMail(smtp.mails[0]!.raw).body).toContain(line);
  });

  it('refused for good (SMTP 535, Slack 400): set aside in the dead-letter directory, counted, the queue moves on', async () => {
    const mail = await mailChannel('wrong', ['oncall@example.com']);
    const slack = await channel('slack', { webhook_url: `${hooks.url}/slack/refused` });
    hooks.respond = (r) =>
      r.path.startsWith('/slack/refused')
        ? { status: 400, body: 'invalid_payload' }
        : r.path.startsWith('/pagerduty')
          ? { status: 202, body: '{"status":"success","message":"Event processed"}' }
          : { status: 200, body: 'ok' };
    await notifier.notify(batch(ENV, [mail, slack], [notice(5, 'trigger')]));
    for (const id of [mail, slack])
      await waitFor(
        async () => (await metric('openqoe_notification_batches_failed_total', id)) === 1,
        `${id} refused`,
      );
    for (const id of [mail, slack]) {
      const lines = readFileSync(join(dir, 'notifications', id, 'dead-letters', 'rejected.ndjson'), 'utf8')
        .trim()
        .split('\n');
      expect(lines).toHaveLength(1);
      const line = JSON.parse(lines[0]!) as { status: number; file: string };
      expect(line.status).toBe(id === mail ? 535 : 400);
      const kept = JSON.parse(
        readFileSync(join(dir, 'notifications', id, 'dead-letters', line.file), 'utf8'),
      );
      expect(kept.batch.notices[0].dedupKey).toBe('inc-5:trigger');
      await waitFor(
        async () => (await metric('openqoe_notification_buffered_batches', id)) === 0,
        'an empty queue',
      );
    }
  });

  it('grouping: 50 series in one batch are one notification per channel, naming the first 10', async () => {
    const ids = {
      webhook: await channel('webhook', { url: `${hooks.url}/group/webhook` }),
      slack: await channel('slack', { webhook_url: `${hooks.url}/group/slack` }),
      pagerduty: await channel('pagerduty', {
        routing_key: 'R0UTINGKEY',
        events_url: `${hooks.url}/pagerduty/group`,
      }),
      alertmanager: await channel('alertmanager', { url: `${hooks.url}/group/am` }),
      email: await mailChannel('smtp-secret', ['group@example.com']),
    };
    smtp.mails.length = 0;
    await notifier.notify(batch(ENV, Object.values(ids), notices(50, 'trigger', 100)));
    const counts = () => [
      hooks.to('/group/webhook').length,
      hooks.to('/group/slack').length,
      hooks.to('/pagerduty/group').length,
      hooks.to('/group/am').length,
      smtp.mails.length,
    ];
    await waitFor(async () => counts().every((n) => n >= 1), 'every channel');
    // Nothing else arrives: each channel got exactly one.
    expect(
      await settled(
        async () => counts(),
        () => false,
        1500,
      ),
    ).toEqual([1, 1, 1, 1, 1]);
    const summary = '50 series opened: cdn=edge-100.example, cdn=edge-101.example';
    const webhook = json(hooks.to('/group/webhook')[0]!) as {
      batches: { summary: string[]; notices: unknown[] }[];
    };
    expect(webhook.batches[0]!.summary[0]).toMatch(new RegExp(`^${summary}.* … and 40 more$`));
    expect(webhook.batches[0]!.notices).toHaveLength(50);
    expect((json(hooks.to('/group/slack')[0]!) as { text: string }).text).toContain('… and 40 more');
    const pd = pdEvent(hooks.to('/pagerduty/group')[0]!);
    expect(pd['dedup_key']).toBe('inc-100');
    expect(pd['payload'].custom_details.series).toHaveLength(10);
    expect(pd['payload'].custom_details.more_series).toBe(40);
    expect(JSON.parse(hooks.to('/group/am')[0]!.raw.toString())).toHaveLength(50);
    expect(readMail(smtp.mails[0]!.raw).subject).toContain(summary);

    // The 50 resolve together: PagerDuty's one alert resolves once, with its trigger's dedup_key.
    await notifier.notify(batch(ENV, [ids.pagerduty], notices(50, 'resolve', 100)));
    await waitFor(async () => hooks.to('/pagerduty/group').length === 2, 'the resolve');
    expect(json(hooks.to('/pagerduty/group')[1]!)).toEqual({
      routing_key: 'R0UTINGKEY',
      event_action: 'resolve',
      dedup_key: 'inc-100',
    });
  });

  it('rate limit: batches past the bucket are held and sent as one combined notification', async () => {
    // 6 per minute: a burst of 6, then one every 10 s.
    const id = await channel('webhook', { url: `${hooks.url}/limited`, rate_limit_per_minute: 6 });
    for (let i = 0; i < 6; i++) {
      await notifier.notify(batch(ENV, [id], [notice(200 + i, 'trigger')]));
      await waitFor(async () => hooks.to('/limited').length === i + 1, `notification ${i + 1}`);
    }
    for (let i = 0; i < 4; i++)
      await notifier.notify(
        batch(ENV, [id], [notice(210 + i, 'trigger')], { id: `rule-${i}`, name: `rule ${i}` }),
      );
    await waitFor(async () => hooks.to('/limited').length === 7, 'the combined notification', 40_000);
    const combined = json(hooks.to('/limited')[6]!) as { title: string; batches: { rule: { id: string } }[] };
    expect(combined.batches.map((b) => b.rule.id)).toEqual(['rule-0', 'rule-1', 'rule-2', 'rule-3']);
    expect(combined.title).toBe('openqoe: 4 rules, 4 series opened');
    expect(await metric('openqoe_notification_rate_limited_total', id)).toBeGreaterThan(0);
    expect(await metric('openqoe_notification_batches_sent_total', id)).toBe(10);
    expect(await metric('openqoe_notifications_sent_total', id)).toBe(7);
  }, 120_000);

  it('receiver down (refused, then 500) and a restart: delivered after recovery, nothing lost, same dedup keys', async () => {
    const down = new HttpRecorder();
    await down.start();
    const url = `${down.url}/down`;
    await down.stop();
    const id = await channel('webhook', { url, signing_secret: 'whsec-down' });
    await notifier.notify(batch(ENV, [id], [notice(300, 'trigger')]));
    await waitFor(
      async () => (await metric('openqoe_notification_retries_total', id)) >= 2,
      'retries while refused',
    );
    // Back, but failing: 500s are retried.
    down.respond = () => ({ status: 500, body: 'broken' });
    await down.start();
    await waitFor(async () => down.requests.length >= 2, 'two 500s');
    // A restart while it still fails: the queue on disk keeps the batch, and a second one joins.
    await notifier.close();
    notifier = await open();
    await notifier.notify(batch(ENV, [id], [notice(301, 'trigger')], { id: 'rule-2', name: 'second' }));
    down.respond = () => ({ status: 200, body: 'ok' });
    await waitFor(
      async () => down.requests.filter((r) => r.status === 200).length >= 1,
      'delivery after recovery',
    );
    const accepted = await settled(
      async () => down.requests.filter((r) => r.status === 200),
      (list) => list.flatMap((r) => hookBody(r).batches).length >= 2,
    );
    const keys = accepted.flatMap((r) =>
      hookBody(r).batches.flatMap((b) => b.notices.map((n) => n.dedup_key)),
    );
    expect(keys.sort()).toEqual(['inc-300:trigger', 'inc-301:trigger']);
    // Every attempt carried the same key for the first batch.
    const tried = down.requests.map((r) => hookBody(r).batches[0]!.notices[0]!.dedup_key);
    expect(new Set(tried.filter((k: string) => k.startsWith('inc-300')))).toEqual(
      new Set(['inc-300:trigger']),
    );
    await down.stop();
  });

  it('kill -9 right after notify resolved: the batch was on disk and is delivered after the restart', async () => {
    const killed = tempDataDir('openqoe-notify-kill-');
    const receiver = new HttpRecorder();
    await receiver.start();
    const url = `${receiver.url}/after-kill`;
    await receiver.stop();
    // A process of its own (the built server's modules): it notifies, says so, and is killed.
    const child = spawnTracked(
      process.execPath,
      ['--input-type=module', '-e', KILLED_NOTIFIER, killed, url],
      { stdio: ['ignore', 'pipe', 'inherit'] },
      'notifier to kill',
    );
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await waitFor(async () => out.includes('durable'), 'notify to resolve in the child');
    await stopChild(child, 'SIGKILL');
    await receiver.start();
    const again = await DuckDBStore.open({
      path: join(killed, 'openqoe.duckdb'),
      checkpointThreshold: '16MB',
      memoryLimit: '',
      threads: 1,
    });
    const restarted = await openNotifier({
      sql: again,
      config: CONFIG,
      dataDir: killed,
      registry: new Registry(),
      log,
    });
    try {
      await waitFor(async () => receiver.requests.length >= 1, 'the delivery after the restart');
      expect(hookBody(receiver.requests[0]!).batches[0]!.notices[0]!.dedup_key).toBe('inc-killed:trigger');
    } finally {
      await restarted.close();
      await again.close();
      await receiver.stop();
      removeDir(killed);
    }
  });

  describe('Alertmanager (prometheus-alertmanager)', () => {
    let am: Alertmanager | undefined;
    const amHook = new HttpRecorder();
    const held = () => am!.held();

    beforeAll(async () => {
      await amHook.start();
      am = await startAlertmanager(join(dir, 'alertmanager'), `${amHook.url}/am`);
    });

    afterAll(async () => {
      await am?.stop();
      await amHook.stop();
    });

    it('holds the alert while open (re-sent past resolve_timeout) and resolves it with endsAt', async () => {
      const id = await channel('alertmanager', { url: am!.url, resend_interval_seconds: 1 });
      const now = Date.now();
      const open = { ...notice(400, 'trigger', 'inc-am'), startedAt: new Date(now - 60_000).toISOString() };
      const b: NotificationBatch = batch(ENV, [id], [open]);
      await notifier.notify(b);
      await waitFor(
        async () => (await held()).some((a) => a.labels['incident_id'] === 'inc-am'),
        'the alert in Alertmanager',
      );
      const first = (await held()).find((a) => a.labels['incident_id'] === 'inc-am')!;
      expect(first.status.state).toBe('active');
      expect(first.labels).toMatchObject({
        alertname: 'CDN rebuffering',
        severity: 'critical',
        series: 'cdn=edge-400.example',
        environment: 'production',
      });
      expect(first.annotations['summary']).toBe(
        'CDN rebuffering: cdn=edge-400.example: current_rebuffering_percentage 12.5% > 5% (worst 420%)',
      );
      expect(first.generatorURL).toBe('http://openqoe.test/ui/alerts/incidents/inc-am');
      expect(Date.parse(first.startsAt)).toBe(now - 60_000);
      // Past the first send's resolve_timeout: without the re-sends Alertmanager would have resolved it.
      const firstEnds = Date.parse(first.endsAt);
      await waitFor(async () => Date.now() > firstEnds + 1500, 'the first endsAt to pass', 30_000);
      const later = (await held()).find((a) => a.labels['incident_id'] === 'inc-am');
      expect(later?.status.state).toBe('active');
      expect(Date.parse(later!.endsAt)).toBeGreaterThan(firstEnds);

      const resolvedAt = new Date().toISOString();
      await notifier.notify(
        batch(ENV, [id], [{ ...open, transition: 'resolve', dedupKey: 'inc-am:resolve', resolvedAt }]),
      );
      await waitFor(
        async () => !(await held()).some((a) => a.labels['incident_id'] === 'inc-am'),
        'the alert resolved',
      );
      // Alertmanager's own notification says resolved, with our endsAt.
      await waitFor(
        async () => amHook.to('/am').some((r) => (json(r) as unknown as AmMessage).status === 'resolved'),
        'the resolved notification from Alertmanager',
      );
      const resolved = amHook
        .to('/am')
        .map((r) => json(r) as unknown as AmMessage)
        .find((m) => m.status === 'resolved')!;
      expect(resolved.alerts[0]!.labels['incident_id']).toBe('inc-am');
      expect(Date.parse(resolved.alerts[0]!.endsAt)).toBe(Date.parse(resolvedAt));
    }, 90_000);
  });
});
