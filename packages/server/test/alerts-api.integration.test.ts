/**
 * Alerting through the real server (built CLI, DuckDB): native beacons of
 * three views stalling on one CDN host and three playing on another, a
 * per-CDN rebuffering rule made through the API, and what the incidents API
 * answers: an incident for the stalling host only, still open (with one
 * trigger) after a kill -9 and restart, resolved when the stalls stop; a
 * silence over the same fault records the incident as muted. Also: bad rule
 * bodies (every field named, nothing created), rules from the config file
 * (read-only), permissions and environment isolation; and 50 series of one
 * rule opening in one tick reach each channel (webhook, Slack, PagerDuty,
 * email, at local receivers) as one notification; each tick's evaluation
 * time is in /metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpRecorder } from './helpers/http-recorder.js';
import { postViews, ViewScript } from './helpers/monitoring-script.js';
import {
  readMail,
  receiverChannels,
  receiverReply,
  SMTP_LOGIN,
  type SmtpReceiver,
  startSmtpReceiver,
} from './helpers/receivers.js';
import {
  removeDir,
  type ServerProcess,
  startServer,
  TEST_CONFIG,
  tempDataDir,
  waitFor,
} from './helpers/server-process.js';

const CONFIG = {
  ...TEST_CONFIG,
  realtime: { tickMs: 1000 },
  alerts: {
    rules: [
      {
        id: 'everyone-left',
        environment: 'default',
        name: 'Audience gone',
        metric: 'current_concurrent_viewers',
        condition: { type: 'threshold', operator: '<', value: 1, for_seconds: 600 },
        severity: 'critical',
      },
    ],
  },
};

const dataDir = tempDataDir('openqoe-alerts-');
let server: ServerProcess;

// biome-ignore lint/suspicious/noExplicitAny: answers are JSON checked field by field
type Json = any;
async function call(
  method: string,
  path: string,
  body?: unknown,
  auth = server.adminAuth(),
): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: res.status === 204 ? null : await res.json() };
}
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

/** Six views in real time: three on `stall.example` (stalling while `stalling`), three on `ok.example` playing. */
class Traffic {
  stalling = true;
  private readonly views: { script: ViewScript; onStallHost: boolean }[];
  private sent = false;

  constructor(prefix: string) {
    const t = Date.now() - 2000;
    this.views = [
      'stall.example',
      'stall.example',
      'stall.example',
      'ok.example',
      'ok.example',
      'ok.example',
    ].map((cdnHost, i) => ({
      script: new ViewScript(`${prefix}-${i}`, t, { cdnHost })
        .ev('playrequest', 'startup')
        .seg('startup', 500)
        .seg('playing', 1000),
      onStallHost: cdnHost === 'stall.example',
    }));
  }

  /** Sends each view's time since the last send, in the state it is in now (the first send starts the views). */
  async send(): Promise<void> {
    const now = Date.now();
    for (const v of this.views) {
      if (this.sent) {
        v.script.samples = [];
        v.script.events = [];
      }
      v.script.seg(v.onStallHost && this.stalling ? 'rebuffering' : 'playing', Math.max(1, now - v.script.t));
    }
    this.sent = true;
    await postViews(
      server,
      this.views.map((v) => v.script),
      false,
    );
  }

  /** Sends every 500 ms until stopped. */
  pump(): () => Promise<void> {
    let on = true;
    const loop = (async () => {
      while (on) {
        await this.send().catch(() => {});
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    return async () => {
      on = false;
      await loop;
    };
  }
}

const RULE = {
  name: 'Rebuffering per CDN host',
  metric: 'current_rebuffering_percentage',
  breakdown: 'cdn',
  condition: {
    type: 'threshold',
    operator: '>',
    value: 50,
    resolve_value: 20,
    for_seconds: 2,
    resolve_for_seconds: 3,
    min_audience: 2,
  },
  severity: 'error',
  runbook_url: 'https://runbooks.example/cdn',
};

const incidentsOf = async (ruleId: string) =>
  (await call('GET', `/data/v1/incidents?rule_id=${ruleId}&limit=100`)).body.data as Json[];

beforeAll(async () => {
  server = await startServer({ dataDir, config: CONFIG });
});

afterAll(async () => {
  await server?.kill('SIGKILL');
  removeDir(dataDir);
});

describe('alert rules API', () => {
  it('refuses a bad rule naming every bad field, and creates nothing', async () => {
    const res = await call('POST', '/system/v1/alert-rules', {
      name: 'bad',
      metric: 'current_happiness',
      breakdown: 'planet',
      channel_ids: ['no-such-channel'],
      runbook_url: 'ftp://runbooks.example/x',
      condition: { type: 'threshold', operator: '>', value: 5, for_seconds: -30 },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('QOE_ERR_VALIDATION');
    const paths = (res.body.error.fields as { path: string }[]).map((f) => f.path).sort();
    expect(paths).toEqual(['breakdown', 'channel_ids[0]', 'condition.for_seconds', 'metric', 'runbook_url']);
    const windowed = await call('POST', '/system/v1/alert-rules', {
      name: 'bad window',
      metric: 'rebuffer_percentage',
      window_seconds: 900,
      filters: ['galaxy:milky-way'],
      condition: { type: 'threshold', operator: '>', value: 5, for_seconds: 0, resolve_value: 9 },
    });
    expect(windowed.status).toBe(400);
    expect((windowed.body.error.fields as { path: string }[]).map((f) => f.path).sort()).toEqual([
      'condition.resolve_value',
      'filters[0]',
    ]);
    const escalating = (escalation: unknown) =>
      call('POST', '/system/v1/alert-rules', {
        name: 'bad escalation',
        metric: 'current_rebuffering_percentage',
        condition: { type: 'threshold', operator: '>', value: 5, for_seconds: 0 },
        escalation,
      });
    for (const [escalation, path] of [
      [{ after_minutes: 0 }, 'escalation.after_minutes'],
      [{}, 'escalation.after_minutes'],
      [{ after_minutes: 10, channel_ids: ['no-such-channel'] }, 'escalation.channel_ids[0]'],
    ] as const) {
      const res = await escalating(escalation);
      expect(res.status).toBe(400);
      expect((res.body.error.fields as { path: string }[]).map((f) => f.path)).toContain(path);
    }
    const list = await call('GET', '/system/v1/alert-rules');
    expect(list.body.data.map((r: Json) => r.id)).toEqual(['everyone-left']);
  });

  it('creates an anomaly rule, answers its defaults and series states, and refuses a windowed one', async () => {
    const created = await call('POST', '/system/v1/alert-rules', {
      name: 'unusual rebuffering',
      metric: 'current_rebuffering_percentage',
      breakdown: 'cdn',
      condition: { type: 'anomaly', sensitivity: 'high' },
    });
    expect(created.status).toBe(201);
    expect(created.body.data).toMatchObject({
      condition: { type: 'anomaly', sensitivity: 'high', direction: 'up', min_change: 1, for_seconds: 120 },
      // No minute evaluated yet: no series.
      anomaly_series: [],
    });
    const windowed = await call('POST', '/system/v1/alert-rules', {
      name: 'windowed anomaly',
      metric: 'rebuffer_percentage',
      window_seconds: 900,
      condition: { type: 'anomaly', sensitivity: 'extreme' },
    });
    expect(windowed.status).toBe(400);
    expect((windowed.body.error.fields as { path: string }[]).map((f) => f.path).sort()).toEqual([
      'condition.sensitivity',
      'condition.type',
    ]);
    expect((await call('DELETE', `/system/v1/alert-rules/${created.body.data.id}`)).status).toBe(204);
  });

  it('lists config rules as read-only and refuses to change or delete them', async () => {
    const { body } = await call('GET', '/system/v1/alert-rules/everyone-left');
    expect(body.data).toMatchObject({
      source: 'config',
      environment_id: server.bootstrap().environment.id,
      kind: 'realtime',
      condition: {
        operator: '<',
        value: 1,
        for_seconds: 600,
        resolve_value: 1,
        resolve_for_seconds: 120,
        min_audience: 1,
      },
    });
    const put = await call('PUT', '/system/v1/alert-rules/everyone-left', RULE);
    expect(put.status).toBe(409);
    expect(put.body.error.messages[0]).toContain('config file');
    expect((await call('DELETE', '/system/v1/alert-rules/everyone-left')).status).toBe(409);
  });

  it('keeps each environment’s rules, silences and incidents to the tokens that cover it', async () => {
    const envB = (await call('POST', '/system/v1/environments', { name: 'staging' })).body.data.id as string;
    const token = async (permissions: string[], environment_ids: string[]) => {
      const t = (await call('POST', '/system/v1/access-tokens', { name: 't', permissions, environment_ids }))
        .body.data;
      return basic(t.id, t.secret);
    };
    const onlyB = await token(['alerts', 'data:read'], [envB]);
    const readerA = await token(['data:read'], [server.bootstrap().environment.id]);
    const ruleB = await call('POST', '/system/v1/alert-rules', { ...RULE, name: 'staging rule' }, onlyB);
    expect(ruleB.status).toBe(201);
    expect(ruleB.body.data.environment_id).toBe(envB);
    const silenceB = await call('POST', '/system/v1/silences', { ends_at: '2099-01-01T00:00:00Z' }, onlyB);
    expect(silenceB.status).toBe(201);
    // B's token sees B's rule only; A's rule (from the config) is as absent as a missing one.
    expect(
      (await call('GET', '/system/v1/alert-rules', undefined, onlyB)).body.data.map((r: Json) => r.id),
    ).toEqual([ruleB.body.data.id]);
    expect((await call('GET', '/system/v1/alert-rules/everyone-left', undefined, onlyB)).status).toBe(404);
    expect(
      (await call('DELETE', `/system/v1/silences/${silenceB.body.data.id}`, undefined, readerA)).status,
    ).toBe(403);
    // A data:read token reads incidents but manages no rules and acknowledges nothing.
    expect((await call('GET', '/system/v1/alert-rules', undefined, readerA)).status).toBe(403);
    expect((await call('GET', '/data/v1/incidents', undefined, readerA)).status).toBe(200);
    expect((await call('POST', '/data/v1/incidents/x/acknowledge', undefined, readerA)).status).toBe(403);
    expect(
      (await call('DELETE', `/system/v1/silences/${silenceB.body.data.id}`, undefined, onlyB)).status,
    ).toBe(204);
    expect(
      (await call('DELETE', `/system/v1/alert-rules/${ruleB.body.data.id}`, undefined, onlyB)).status,
    ).toBe(204);
  });
});

describe('a per-CDN rebuffering rule over real beacons', () => {
  let ruleId: string;
  let incidentId: string;
  const traffic = new Traffic('v');
  let stop: (() => Promise<void>) | undefined;
  afterAll(async () => {
    await stop?.();
  });

  it('opens an incident for the stalling CDN host only', async () => {
    // The admin token now covers two environments: the rule names its own.
    const envA = server.bootstrap().environment.id;
    const created = await call('POST', '/system/v1/alert-rules', { ...RULE, environment_id: envA });
    expect(created.status).toBe(201);
    ruleId = created.body.data.id;
    stop = traffic.pump();
    await waitFor(
      async () => (await incidentsOf(ruleId)).length > 0,
      'an incident of the rule',
      60_000,
    ).catch(async (e) => {
      // What the monitoring API saw per host says whether the traffic or the rule is at fault.
      const seen = await call(
        'GET',
        '/data/v1/monitoring/metrics/current_rebuffering_percentage/breakdown?dimension=cdn',
      );
      throw new Error(`${(e as Error).message}; monitoring breakdown: ${JSON.stringify(seen.body)}`);
    });
    const [inc] = await incidentsOf(ruleId);
    expect(inc).toMatchObject({
      status: 'open',
      breakdown: 'cdn',
      breakdown_value: 'stall.example',
      severity: 'error',
      threshold: 50,
    });
    expect(inc.open_value).toBeGreaterThan(50);
    expect(inc.audience).toBeGreaterThanOrEqual(2);
    expect(inc.example_view_ids.length).toBeGreaterThan(0);
    for (const id of inc.example_view_ids) expect(['v-0', 'v-1', 'v-2']).toContain(id);
    incidentId = inc.id;
  });

  it('keeps it open across a kill -9 and restart, with one trigger recorded', async () => {
    await stop!();
    await server.kill('SIGKILL');
    server = await startServer({ dataDir, config: CONFIG });
    stop = traffic.pump();
    const { body } = await call('GET', `/data/v1/incidents/${incidentId}`);
    expect(body.data.status).toBe('open');
    // A few ticks of the same fault after the restart: still one incident, one trigger.
    const before = Date.now();
    await waitFor(async () => Date.now() - before > 4000, 'four seconds of stalls after the restart', 30_000);
    const all = await incidentsOf(ruleId);
    expect(all.map((i: Json) => i.id)).toEqual([incidentId]);
    const again = await call('GET', `/data/v1/incidents/${incidentId}`);
    expect(again.body.data.status).toBe('open');
    expect(again.body.data.transitions.map((t: Json) => t.transition)).toEqual(['trigger']);
  });

  it('acknowledges it, then resolves it once the stalls stop', async () => {
    const ack = await call('POST', `/data/v1/incidents/${incidentId}/acknowledge`);
    expect(ack.status).toBe(200);
    expect(ack.body.data.status).toBe('acknowledged');
    traffic.stalling = false;
    await waitFor(
      async () => (await call('GET', `/data/v1/incidents/${incidentId}`)).body.data.status === 'resolved',
      'the incident resolved',
      60_000,
    );
    const { body } = await call('GET', `/data/v1/incidents/${incidentId}`);
    expect(body.data.transitions.map((t: Json) => [t.transition, t.dedup_key])).toEqual([
      ['trigger', `${incidentId}:trigger`],
      ['acknowledge', `${incidentId}:acknowledge`],
      ['resolve', `${incidentId}:resolve`],
    ]);
    expect(body.data.worst_value).toBeGreaterThanOrEqual(body.data.open_value);
    expect((await incidentsOf(ruleId)).length).toBe(1);
    const resolved = await call('GET', `/data/v1/incidents?status=resolved&rule_id=${ruleId}`);
    expect(resolved.body.data.map((i: Json) => i.id)).toEqual([incidentId]);
    expect((await call('POST', `/data/v1/incidents/${incidentId}/acknowledge`)).status).toBe(409);
    // Filters: open within the last hour, yes; in a day of 2020 or with another severity, no.
    const ids = async (q: string) =>
      (await call('GET', `/data/v1/incidents?rule_id=${ruleId}&${q}`)).body.data.map((i: Json) => i.id);
    expect(await ids('timeframe[]=1:hours&severity=error')).toEqual([incidentId]);
    expect(await ids('timeframe[]=1577836800&timeframe[]=1577923200')).toEqual([]);
    expect(await ids('severity=critical')).toEqual([]);
    expect((await call('GET', '/data/v1/incidents?timeframe[]=soon')).status).toBe(400);
  });

  it('records the same fault under a silence as a muted incident', async () => {
    const silence = await call('POST', '/system/v1/silences', {
      environment_id: server.bootstrap().environment.id,
      rule_id: ruleId,
      breakdown: 'cdn',
      breakdown_value: 'stall.example',
      ends_at: new Date(Date.now() + 3_600_000).toISOString(),
      comment: 'CDN maintenance',
    });
    expect(silence.status).toBe(201);
    expect(silence.body.data.active).toBe(true);
    traffic.stalling = true;
    await waitFor(async () => (await incidentsOf(ruleId)).length === 2, 'a second incident', 60_000);
    const [latest] = await incidentsOf(ruleId);
    expect(latest).toMatchObject({ status: 'open', muted: true, breakdown_value: 'stall.example' });
    const { body } = await call('GET', `/data/v1/incidents/${latest.id}`);
    expect(body.data.transitions.map((t: Json) => t.delivery)).toEqual(['muted']);
  });
});

describe('50 series opening at once', () => {
  const hooks = new HttpRecorder();
  let smtp: SmtpReceiver;

  beforeAll(async () => {
    await hooks.start();
    hooks.respond = receiverReply;
    smtp = await startSmtpReceiver(SMTP_LOGIN.user, SMTP_LOGIN.password);
  });

  afterAll(async () => {
    await hooks.stop();
    await smtp?.stop();
  });

  it('are one notification per channel, naming them all or counting the rest', async () => {
    const environment_id = server.bootstrap().environment.id;
    const channel = async (type: string, settings: Json) => {
      const res = await call('POST', '/system/v1/notification-channels', {
        environment_id,
        name: type,
        type,
        settings,
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.data.id as string;
    };
    const channelIds: string[] = [];
    for (const c of receiverChannels(hooks.url, smtp)) channelIds.push(await channel(c.type, c.settings));
    const rule = await call('POST', '/system/v1/alert-rules', {
      environment_id,
      name: 'Rebuffering per edge',
      metric: 'current_rebuffering_percentage',
      breakdown: 'cdn',
      // The stalls of the tests above are still in progress there.
      filters: ['!cdn:stall.example'],
      condition: { type: 'threshold', operator: '>', value: 50, for_seconds: 0, min_audience: 1 },
      channel_ids: channelIds,
    });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    // One beacon: 50 viewers, each on its own edge host, all stalling from now on.
    const t = Date.now() - 2000;
    const views = Array.from({ length: 50 }, (_, i) =>
      new ViewScript(`group-${i}`, t, { cdnHost: `edge-${i}.example` })
        .ev('playrequest', 'startup')
        .seg('startup', 500)
        .seg('playing', 500)
        .seg('rebuffering', 1000),
    );
    await postViews(server, views, false);
    const ruleId = rule.body.data.id as string;
    await waitFor(async () => (await incidentsOf(ruleId)).length === 50, '50 incidents', 60_000).catch(
      async (e) => {
        const seen = await call(
          'GET',
          `/data/v1/monitoring/metrics/current_rebuffering_percentage/breakdown?dimension=cdn&environment_id=${environment_id}`,
        );
        throw new Error(
          `${(e as Error).message}; ${(await incidentsOf(ruleId)).length} incidents; monitoring: ${JSON.stringify(seen.body).slice(0, 1500)}`,
        );
      },
    );
    const paths = ['/webhook', '/slack', '/pagerduty'];
    await waitFor(
      async () => paths.every((p) => hooks.to(p).length > 0) && smtp.mails.length > 0,
      'a notification at every receiver',
    );
    // A few more ticks: the 50 stay open, nothing more is sent.
    const from = Date.now();
    await waitFor(async () => Date.now() - from > 3000, 'three more ticks', 30_000);
    expect(paths.map((p) => hooks.to(p).length)).toEqual([1, 1, 1]);
    expect(smtp.mails).toHaveLength(1);
    const [hook] = hooks.to('/webhook');
    const body = JSON.parse(hook!.body.toString('utf8'));
    expect(body.batches).toHaveLength(1);
    expect(new Set(body.batches[0].notices.map((n: Json) => n.breakdown_value)).size).toBe(50);
    expect(body.batches[0].notices.every((n: Json) => n.transition === 'trigger')).toBe(true);
    const pd = JSON.parse(hooks.to('/pagerduty')[0]!.body.toString('utf8'));
    expect(pd.event_action).toBe('trigger');
    expect(pd.payload.source).toMatch(/: 50 series$/);
    expect(pd.payload.custom_details.series.length + pd.payload.custom_details.more_series).toBe(50);
    expect(readMail(smtp.mails[0]!.raw).subject).toContain('50 series opened');
  });

  it('measures each tick’s evaluation in /metrics (wall and CPU time)', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const read = (name: string) =>
      Number(new RegExp(`^${name}\\{kind="realtime"\\} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(read('openqoe_alert_evaluation_seconds_count')).toBeGreaterThan(0);
    expect(read('openqoe_alert_evaluation_seconds_sum')).toBeGreaterThan(0);
    expect(read('openqoe_alert_evaluation_cpu_seconds_total')).toBeGreaterThan(0);
  });
});
