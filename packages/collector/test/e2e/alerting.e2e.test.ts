/**
 * Alerting end to end with real players: hls.js in Chromium plays from two
 * CDN hosts (two media servers, each naming itself in `X-CDN`, the host the
 * collector reports), two views on each. The test holds every segment of
 * one host, so its viewers stall; a per-CDN rebuffering rule made through
 * the API opens an incident for that host only, and the receivers the test
 * runs get the trigger: a webhook and a Slack listener, a PagerDuty events
 * URL pointed at a local listener, a real Alertmanager (Debian's package)
 * and a real SMTP server. A kill -9 and restart while open keeps the
 * incident open with no second trigger; a rule on the whole environment (no
 * breakdown) opens its own incident whose root-cause hint names the held
 * host; releasing the segments resolves it
 * and sends the resolve; the same fault under a silence records a muted
 * incident and sends nothing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpRecorder, type RecordedRequest } from '../../../server/test/helpers/http-recorder.js';
import {
  type Alertmanager,
  readMail,
  receiverChannels,
  receiverReply,
  SMTP_LOGIN,
  type SmtpReceiver,
  startAlertmanager,
  startSmtpReceiver,
} from '../../../server/test/helpers/receivers.js';
import { startServer, tempDataDir } from '../../../server/test/helpers/server-process.js';
import { slowTests } from '../../../server/test/helpers/slow-tests.js';
import {
  buildCollector,
  ensureMedia,
  launchChromium,
  type MediaServer,
  newContext,
  playerPage,
  type RuleHandle,
  removeDir,
  type ServerProcess,
  serveLibraries,
  startMediaServer,
  stopOpenqoe,
  waitFor,
} from './kit/index.js';

slowTests(300_000);

const CDN_A = 'cdn-a.test';
const CDN_B = 'cdn-b.test';
const CONFIG = {
  logLevel: 'warn',
  intake: { rateLimit: { perIpPerSecond: 0, perEnvKeyPerSecond: 0 } },
  live: { rtmp: { port: 0 } },
  realtime: { tickMs: 1000 },
  notifications: { rateLimitPerMinute: 600, retryInitialBackoffMs: 100, retryMaxBackoffMs: 1000 },
};
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
    resolve_for_seconds: 4,
    min_audience: 2,
  },
  severity: 'critical',
};

/** The same fault seen on the whole environment: half the viewers stall, no channel (nothing sent). */
const WHOLE_RULE = {
  name: 'Rebuffering overall',
  metric: 'current_rebuffering_percentage',
  condition: {
    type: 'threshold',
    operator: '>',
    value: 25,
    resolve_value: 10,
    for_seconds: 2,
    min_audience: 2,
  },
};

// biome-ignore lint/suspicious/noExplicitAny: answers are JSON checked field by field
type Json = any;

/**
 * A 4-minute VOD playlist of one rendition: the kit's 12 s clip repeated with
 * discontinuities, its segments at `base` (so they come from that CDN host).
 */
function longPlaylist(mediaDir: string, base: string): string {
  const clip = readFileSync(join(mediaDir, 'hls-ts/v0/index.m3u8'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('#EXTINF') || l.endsWith('.ts'))
    .map((l) => (l.endsWith('.ts') ? `${base}/media/hls-ts/v0/${l}` : l));
  const parts = Array.from({ length: 20 }, (_, i) => [...(i > 0 ? ['#EXT-X-DISCONTINUITY'] : []), ...clip]);
  return [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    '#EXT-X-TARGETDURATION:2',
    '#EXT-X-MEDIA-SEQUENCE:0',
    '#EXT-X-PLAYLIST-TYPE:VOD',
    ...parts.flat(),
    '#EXT-X-ENDLIST',
    '',
  ].join('\n');
}

describe('alerting with real players on two CDN hosts', () => {
  let mediaA: MediaServer;
  let mediaB: MediaServer;
  let server: ServerProcess;
  let port = '';
  const dataDir = tempDataDir('openqoe-alerting-e2e-');
  const hooks = new HttpRecorder();
  let smtp: SmtpReceiver;
  let am: Alertmanager;
  const pages: Page[] = [];
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let ruleId = '';
  let wholeRuleId = '';
  let incidentId = '';
  let hold: RuleHandle | undefined;

  const call = async (
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Json }> => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        authorization: server.adminAuth(),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: res.status === 204 ? null : await res.json() };
  };
  const incidents = async (): Promise<Json[]> =>
    (await call('GET', `/data/v1/incidents?rule_id=${ruleId}&limit=100`)).body.data;
  const start = (args: string[] = []) => startServer({ dataDir, config: CONFIG, args });

  /** What each receiver got, as (incident, transition) keys; Slack and email by the incident link and verb. */
  const json = (r: RecordedRequest) => JSON.parse(r.body.toString('utf8')) as Json;
  const received = async () => {
    const keys = (list: string[]) => list.filter((k) => k.startsWith(incidentId));
    const verb = (text: string, t: string) =>
      text.includes(incidentId) && text.includes(t === 'trigger' ? 'opened' : 'resolved');
    const both = (text: string) =>
      ['trigger', 'resolve'].filter((t) => verb(text, t)).map((t) => `${incidentId}:${t}`);
    return {
      webhook: keys(
        hooks
          .to('/webhook')
          .flatMap((r) => json(r).batches.flatMap((b: Json) => b.notices.map((n: Json) => n.dedup_key))),
      ),
      slack: hooks.to('/slack').flatMap((r) => both(JSON.stringify(json(r)))),
      pagerduty: hooks
        .to('/pagerduty')
        .map((r) => json(r))
        .filter((e) => e.dedup_key === incidentId)
        .map((e) => `${incidentId}:${e.event_action}`),
      email: smtp.mails.flatMap((m) => {
        const { subject, body } = readMail(m.raw);
        return body.includes(incidentId) ? both(`${subject} ${incidentId}`) : [];
      }),
      alertmanager: (await am.held())
        .filter((a) => a.labels['incident_id'] === incidentId)
        .map(() => `${incidentId}:trigger`),
    };
  };
  /** Notifications sent by the server (Alertmanager's own webhook aside). */
  const sent = () => hooks.requests.filter((r) => !r.path.startsWith('/am-hook')).length + smtp.mails.length;
  /** Host B's current rebuffering as the monitoring API has it (undefined: no row). */
  const stallingOnB = async (): Promise<number | undefined> => {
    const { body } = await call(
      'GET',
      '/data/v1/monitoring/metrics/current_rebuffering_percentage/breakdown?dimension=cdn',
    );
    return (body.data as Json[]).find((r) => r.value === CDN_B)?.metric_value;
  };
  /** Lets `n` real-time ticks (1 s each) pass: the engine judges the series meanwhile. */
  const ticks = async (n: number) => {
    const from = Date.now();
    await waitFor(async () => Date.now() - from > n * 1000, `${n} ticks`, 60_000);
  };

  /** A viewer of its own browser context playing the long playlist from one CDN host. */
  async function view(media: MediaServer, id: string): Promise<Page> {
    const setup = `
const video = document.getElementById('v');
watchFrames(video);
// One segment of buffer, so a held segment stalls at once; a held segment is waited for, not given up on.
const wait = { maxTimeToFirstByteMs: 600000, maxLoadTimeMs: 600000, timeoutRetry: null, errorRetry: { maxNumRetry: 100, retryDelayMs: 500, maxRetryDelayMs: 1000 } };
const hls = new Hls({ maxBufferLength: 2, maxMaxBufferLength: 2, backBufferLength: 0, fragLoadPolicy: { default: wait } });
openqoe.monitor(hls, { beaconUrl: ${JSON.stringify(`http://127.0.0.1:${port}/v1/beacon`)}, envKey: ${JSON.stringify(
      server.bootstrap().environment.key,
    )}, heartbeatMs: 2000, flushIntervalMs: 1000, data: { videoId: '${id}', videoTitle: 'alerting ${id}' } });
hls.on(Hls.Events.MANIFEST_PARSED, () => { markPlay(); video.play().catch(() => {}); });
hls.loadSource('${media.url}/long.m3u8');
hls.attachMedia(video);
`;
    mediaA.page(
      `/${id}.html`,
      playerPage(['/lib/hls.js', '/collector/openqoe.iife.js', '/collector/openqoe-hlsjs.iife.js'], setup),
    );
    const page = await (await newContext(browser)).newPage();
    await page.goto(`${mediaA.url}/${id}.html`);
    pages.push(page);
    return page;
  }
  const playing = (page: Page, beyondS: number) =>
    waitFor(
      async () =>
        (await page.evaluate(() => (document.getElementById('v') as HTMLVideoElement).currentTime)) > beyondS,
      'the player playing',
      60_000,
    );

  beforeAll(async () => {
    buildCollector();
    const dir = ensureMedia();
    await hooks.start();
    hooks.respond = receiverReply;
    [browser, mediaA, mediaB, server, smtp, am] = await Promise.all([
      launchChromium(),
      startMediaServer(dir, { cdnHeader: CDN_A }),
      startMediaServer(dir, { cdnHeader: CDN_B }),
      start(),
      startSmtpReceiver(SMTP_LOGIN.user, SMTP_LOGIN.password),
      startAlertmanager(join(dataDir, 'alertmanager'), `${hooks.url}/am-hook`, '5m'),
    ]);
    port = new URL(server.url).port;
    serveLibraries(mediaA);
    for (const m of [mediaA, mediaB])
      m.text('/long.m3u8', 'application/vnd.apple.mpegurl', () => longPlaylist(dir, m.url));
  });

  afterAll(async () => {
    hold?.release();
    await browser?.close();
    await mediaA?.close();
    await mediaB?.close();
    await am?.stop();
    await smtp?.stop();
    await stopOpenqoe(server);
    await hooks.stop();
    removeDir(dataDir);
  });

  it('opens an incident for the stalling CDN host only, and every receiver gets the trigger', async () => {
    const channel = async (type: string, settings: Json) => {
      const res = await call('POST', '/system/v1/notification-channels', { name: type, type, settings });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.data.id as string;
    };
    const channelIds: string[] = [];
    for (const c of receiverChannels(hooks.url, smtp)) channelIds.push(await channel(c.type, c.settings));
    channelIds.push(await channel('alertmanager', { url: am.url }));
    const created = await call('POST', '/system/v1/alert-rules', { ...RULE, channel_ids: channelIds });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    ruleId = created.body.data.id;
    const whole = await call('POST', '/system/v1/alert-rules', WHOLE_RULE);
    expect(whole.status, JSON.stringify(whole.body)).toBe(201);
    wholeRuleId = whole.body.data.id;

    const onA = [await view(mediaA, 'a-0'), await view(mediaA, 'a-1')];
    const onB = [await view(mediaB, 'b-0'), await view(mediaB, 'b-1')];
    for (const p of [...onA, ...onB]) await playing(p, 1);
    // From now on host B answers no segment: its viewers stall once their one segment of buffer is played.
    hold = mediaB.rule({ match: /\.ts$/, holdMs: 3_600_000 });
    await waitFor(async () => (await incidents()).length > 0, 'an incident of the rule', 90_000);
    const [inc] = await incidents();
    expect(inc).toMatchObject({
      status: 'open',
      breakdown: 'cdn',
      breakdown_value: CDN_B,
      severity: 'critical',
    });
    expect(inc.open_value).toBeGreaterThan(50);
    expect(inc.audience).toBeGreaterThanOrEqual(2);
    incidentId = inc.id;
    const trigger = [`${incidentId}:trigger`];
    await waitFor(
      async () => Object.values(await received()).every((keys) => keys.length > 0),
      'the trigger at every receiver',
      60_000,
    ).catch(async (e) => {
      throw new Error(`${(e as Error).message}: ${JSON.stringify(await received())}`);
    });
    expect(await received()).toEqual({
      webhook: trigger,
      slack: trigger,
      pagerduty: trigger,
      email: trigger,
      alertmanager: trigger,
    });
    // Host A's viewers kept playing: no incident names it.
    expect((await incidents()).map((i) => i.breakdown_value)).toEqual([CDN_B]);
    // The whole environment's incident: its hint names the held host as where the added rebuffering is.
    const wholeIncidents = async (): Promise<Json[]> =>
      (await call('GET', `/data/v1/incidents?rule_id=${wholeRuleId}`)).body.data;
    await waitFor(async () => (await wholeIncidents()).length > 0, 'the whole-environment incident', 60_000);
    const [overall] = await wholeIncidents();
    expect(overall).toMatchObject({ breakdown: null, breakdown_value: null });
    expect(overall.root_cause, JSON.stringify(overall)).not.toBeNull();
    expect(overall.root_cause.contributors).toContainEqual(
      expect.objectContaining({ dimension: 'cdn', value: CDN_B }),
    );
    expect(overall.root_cause.summary).toContain(`CDN ${CDN_B}`);
  });

  it('keeps it open across a kill -9 and restart, with no second trigger at the receivers', async () => {
    // Past the transition's hand-over, so what the receivers got is all there is to send.
    await waitFor(
      async () =>
        (await call('GET', `/data/v1/incidents/${incidentId}`)).body.data.transitions[0].delivery ===
        'queued',
      'the trigger queued',
    );
    await server.kill('SIGKILL');
    // The same port: the pages keep sending to it.
    server = await start(['--port', port]);
    const { body } = await call('GET', `/data/v1/incidents/${incidentId}`);
    expect(body.data.status).toBe('open');
    // The restarted server sees host B's viewers still stalling (their next beacons), for longer than for_seconds.
    const before = sent();
    await waitFor(
      async () => ((await stallingOnB()) ?? 0) > RULE.condition.value,
      'the restarted server seeing host B stall',
      60_000,
    );
    await ticks(RULE.condition.for_seconds + 2);
    const all = await incidents();
    expect(all.map((i) => [i.id, i.status])).toEqual([[incidentId, 'open']]);
    expect(
      (await call('GET', `/data/v1/incidents/${incidentId}`)).body.data.transitions.map(
        (t: Json) => t.transition,
      ),
    ).toEqual(['trigger']);
    const trigger = [`${incidentId}:trigger`];
    const got = await received();
    expect({ ...got, alertmanager: got.alertmanager.slice(0, 1) }).toEqual({
      webhook: trigger,
      slack: trigger,
      pagerduty: trigger,
      email: trigger,
      alertmanager: trigger,
    });
    // Alertmanager re-sends aside, nothing new reached a receiver.
    expect(sent()).toBe(before);
  });

  it('resolves it once the segments flow again, and every receiver gets the resolve', async () => {
    hold!.release();
    hold = undefined;
    await waitFor(
      async () => (await call('GET', `/data/v1/incidents/${incidentId}`)).body.data.status === 'resolved',
      'the incident resolved',
      90_000,
    );
    const both = [`${incidentId}:trigger`, `${incidentId}:resolve`];
    await waitFor(
      async () => {
        const got = await received();
        return (
          got.webhook.length === 2 &&
          got.slack.length === 2 &&
          got.pagerduty.length === 2 &&
          got.email.length === 2 &&
          got.alertmanager.length === 0
        );
      },
      'the resolve at every receiver',
      60_000,
    ).catch(async (e) => {
      throw new Error(`${(e as Error).message}: ${JSON.stringify(await received())}`);
    });
    const got = await received();
    expect(got).toEqual({ webhook: both, slack: both, pagerduty: both, email: both, alertmanager: [] });
    const { body } = await call('GET', `/data/v1/incidents/${incidentId}`);
    expect(body.data.transitions.map((t: Json) => [t.transition, t.dedup_key])).toEqual([
      ['trigger', `${incidentId}:trigger`],
      ['resolve', `${incidentId}:resolve`],
    ]);
  });

  it('records the same fault under a silence as a muted incident, and sends nothing', async () => {
    const silence = await call('POST', '/system/v1/silences', {
      rule_id: ruleId,
      breakdown: 'cdn',
      breakdown_value: CDN_B,
      ends_at: new Date(Date.now() + 3_600_000).toISOString(),
      comment: 'CDN maintenance',
    });
    expect(silence.status).toBe(201);
    const sentBefore = sent();
    hold = mediaB.rule({ match: /\.ts$/, holdMs: 3_600_000 });
    await waitFor(async () => (await incidents()).length === 2, 'a second incident', 90_000);
    const [latest] = await incidents();
    expect(latest).toMatchObject({ status: 'open', muted: true, breakdown_value: CDN_B });
    const { body } = await call('GET', `/data/v1/incidents/${latest.id}`);
    expect(body.data.transitions.map((t: Json) => t.delivery)).toEqual(['muted']);
    // A few more ticks of the fault: still nothing sent.
    await ticks(3);
    expect(sent()).toBe(sentBefore);
    expect((await am.held()).filter((a) => a.labels['incident_id'] === latest.id)).toEqual([]);
  });
});
