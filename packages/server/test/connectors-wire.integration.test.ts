/**
 * Connectors against a real HTTP listener on 127.0.0.1: one real server with
 * one connector per destination, a beacon posted through the real intake,
 * and every request compared with the request each vendor documents
 * (written out here by hand: path, auth header, content type and encoding,
 * body framing). The envelope itself is checked field by field against
 * values worked out by hand from the beacon, including the device parsed
 * from the user agent and the geo looked up in the test MaxMind database.
 */
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeBeacon, makeEvent, makeSample } from '@openqoe/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpRecorder, type RecordedRequest } from './helpers/http-recorder.js';
import { buildTestDatabases } from './helpers/mmdb.js';
import {
  postBeacon,
  readMetric,
  removeDir,
  type ServerProcess,
  type StartOptions,
  settled,
  startServer,
  tempDataDir,
  waitFor,
} from './helpers/server-process.js';

const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.0 Mobile/15E148 Safari/604.1';
const SPLUNK_TOKEN = '11111111-2222-3333-4444-555555555555';
const DD_KEY = 'dd0123456789abcdef0123456789abcd';
const NR_KEY = 'eu01xxLICENSEKEYNRAL';
const HOOK_SECRET = 'hook-signing-secret';
const AWS_KEY_ID = 'AKIDEXAMPLE';
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const PACKAGE_VERSION = '0.1.0';

type Envelope = Record<string, unknown> & {
  event_id: string;
  event: { type: string; timestamp: number };
  ops_metadata: Record<string, unknown>;
};

function json<T = unknown>(r: RecordedRequest): T {
  return JSON.parse(r.body.toString('utf8')) as T;
}

describe('connectors: wire formats', () => {
  const dataDir = tempDataDir('openqoe-connectors-wire-');
  const listener = new HttpRecorder();
  let server: ServerProcess;
  let serverOptions: StartOptions = {};
  let envId = '';
  const t0 = Date.now() - 60_000;
  /** Firehose answers: the first call to the limits stream fails its second record once. */
  let failSecondRecordOnce = true;

  beforeAll(async () => {
    await listener.start();
    listener.respond = (req) => {
      if (req.headers['x-amz-target'] === 'Firehose_20150804.PutRecordBatch') {
        const body = json<{ Records: unknown[] }>(req);
        const responses = body.Records.map((_, i) =>
          failSecondRecordOnce && i === 1
            ? { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' }
            : { RecordId: `rec-${i}` },
        );
        const failed = responses.filter((r) => 'ErrorCode' in r).length;
        failSecondRecordOnce = false;
        return {
          status: 200,
          headers: { 'content-type': 'application/x-amz-json-1.1' },
          body: JSON.stringify({ FailedPutCount: failed, Encrypted: false, RequestResponses: responses }),
        };
      }
      if (req.path.startsWith('/services/collector'))
        return { status: 200, body: '{"text":"Success","code":0}' };
      if (req.path === '/api/v2/logs') return { status: 202, body: '{}' };
      if (req.path === '/api/v2/series') return { status: 202, body: '{"errors":[]}' };
      if (req.path.startsWith('/v1/accounts/')) return { status: 200, body: '{"success":true}' };
      return { status: 200, body: 'ok' };
    };
    const db = buildTestDatabases(dataDir);
    const secretFile = join(dataDir, 'hook.secret');
    writeFileSync(secretFile, `${HOOK_SECRET}\n`);
    const common = { batchMaxDelayMs: 200, retryInitialBackoffMs: 50, retryMaxBackoffMs: 500 };
    serverOptions = {
      dataDir,
      env: {
        TEST_SPLUNK_TOKEN: SPLUNK_TOKEN,
        TEST_DD_KEY: DD_KEY,
        TEST_NR_KEY: NR_KEY,
        TEST_AWS_KEY_ID: AWS_KEY_ID,
        TEST_AWS_SECRET: AWS_SECRET,
      },
      config: {
        logLevel: 'warn',
        trustProxy: true,
        intake: { rateLimit: { perIpPerSecond: 0, perEnvKeyPerSecond: 0 } },
        views: { tickIntervalMs: 50 },
        enrich: { geoDatabase: db.geo, asnDatabase: db.asn, truncateIp: false },
        connectors: [
          {
            name: 'hook',
            type: 'webhook',
            url: `${listener.url}/hooks/qoe`,
            signingSecret: { file: secretFile },
            headers: { 'X-Team': 'video' },
            ...common,
          },
          {
            name: 'splunk',
            type: 'splunk_hec',
            url: listener.url,
            token: { env: 'TEST_SPLUNK_TOKEN' },
            host: 'qoe-test',
            index: 'video',
            ...common,
          },
          {
            name: 'dd-logs',
            type: 'datadog_logs',
            url: `${listener.url}/api/v2/logs`,
            apiKey: { env: 'TEST_DD_KEY' },
            host: 'qoe-test',
            tags: ['team:video'],
            ...common,
          },
          {
            name: 'dd-metrics',
            type: 'datadog_metrics',
            url: `${listener.url}/api/v2/series`,
            apiKey: { env: 'TEST_DD_KEY' },
            metricsIntervalMs: 500,
            ...common,
          },
          {
            name: 'newrelic',
            type: 'new_relic',
            url: `${listener.url}/v1/accounts/1234567/events`,
            apiKey: { env: 'TEST_NR_KEY' },
            ...common,
          },
          {
            name: 'firehose',
            type: 'firehose',
            url: listener.url,
            region: 'eu-west-1',
            deliveryStreamName: 'qoe-events',
            accessKeyId: { env: 'TEST_AWS_KEY_ID' },
            secretAccessKey: { env: 'TEST_AWS_SECRET' },
            ...common,
          },
          {
            name: 'firehose-limits',
            type: 'firehose',
            url: listener.url,
            region: 'eu-west-1',
            deliveryStreamName: 'qoe-limits',
            accessKeyId: { env: 'TEST_AWS_KEY_ID' },
            secretAccessKey: { env: 'TEST_AWS_SECRET' },
            eventTypes: ['ad_start'],
            ...common,
          },
          {
            name: 'other-env',
            type: 'webhook',
            url: `${listener.url}/hooks/other`,
            environments: ['no-such-environment'],
            ...common,
          },
          {
            name: 'stalls-only',
            type: 'webhook',
            url: `${listener.url}/hooks/stalls`,
            eventTypes: ['stall_start'],
            ...common,
          },
        ],
      },
    };
    server = await startServer(serverOptions);
    envId = server.bootstrap().environment.id;
    const key = server.bootstrap().environment.key;
    const view = 'v-wire';
    const beacon = makeBeacon({
      envKey: key,
      sentAt: t0 + 9700,
      events: [
        makeEvent({ viewId: view, sequenceNumber: 0, type: 'playrequest', state: 'startup', viewerTime: t0 }),
        makeEvent({
          viewId: view,
          sequenceNumber: 2,
          type: 'firstframe',
          state: 'playing',
          viewerTime: t0 + 600,
        }),
        makeEvent({
          viewId: view,
          sequenceNumber: 4,
          type: 'qualitychange',
          state: 'playing',
          viewerTime: t0 + 9600,
          playheadMs: 9000,
          videoBitrateBps: 5_000_000,
          videoWidth: 1920,
          videoHeight: 1080,
        }),
      ],
      samples: [
        makeSample({
          viewId: view,
          sequenceNumber: 1,
          state: 'startup',
          viewerTime: t0 + 600,
          timestamp: t0,
          durationMs: 600,
          playedMs: 0,
          startupMs: 600,
          requestCount: 0,
          requestBytes: 0,
          requestTtfbTotalMs: 0,
          requestTransferTotalMs: 0,
          customData1: 'premium',
        }),
        makeSample({
          viewId: view,
          sequenceNumber: 3,
          state: 'playing',
          viewerTime: t0 + 9600,
          timestamp: t0 + 600,
          durationMs: 9000,
          playedMs: 9000,
          requestCount: 1,
          requestBytes: 1_250_000,
          requestTtfbTotalMs: 50,
          requestTransferTotalMs: 1000,
          customData1: 'premium',
        }),
      ],
    });
    const res = await postBeacon(server.url, JSON.stringify(beacon), {
      'content-type': 'text/plain',
      'user-agent': IPHONE,
      'x-forwarded-for': '89.160.20.112',
    });
    expect(res.status).toBe(202);
    await waitFor(
      async () =>
        listener.to('/hooks/qoe').length >= 1 &&
        listener.to('/services/collector').length >= 1 &&
        listener.to('/api/v2/logs').length >= 1 &&
        listener.to('/v1/accounts/').length >= 1 &&
        listener.requests.filter((r) => r.body.includes('"qoe-events"')).length >= 2,
      'every destination to receive the events',
    );
  });

  afterAll(async () => {
    await server?.kill('SIGTERM');
    await listener.stop();
    removeDir(dataDir);
  });

  /** The envelopes as the webhook received them, in order. */
  const hookEnvelopes = () => json<Envelope[]>(listener.to('/hooks/qoe')[0]!);

  it('builds the enriched envelope: cumulative metrics, time since, device from the user agent, geo from the database', () => {
    const envelopes = hookEnvelopes();
    expect(envelopes.map((e) => e.event.type)).toEqual([
      'play_request',
      'playback_start',
      'rendition_change',
    ]);
    const e = envelopes[2]!;
    const offset = e.ops_metadata['server_ts_offset_ms'] as number;
    // The server's clock offset is its receive time minus sentAt; everything else is fixed by the beacon.
    expect(offset).toBe((e.ops_metadata['server_received_at_ms'] as number) - (t0 + 9700));
    expect(e).toEqual({
      event_id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
      event: {
        type: 'rendition_change',
        timestamp: t0 + 9600 + offset,
        metrics: {
          engagement_duration_ms: 9600,
          playback_duration_ms: 9000,
          buffer_duration_ms: 600,
          stall_count: 0,
          stall_duration_ms: 0,
          seek_count: 0,
          video_startup_time_ms: 600,
          // 1 250 000 bytes in 1000 ms of transfer = 10 Mbit/s.
          bandwidth_kbps: 10_000,
          playhead_position_sec: 9,
          rendition_height: 1080,
          rendition_width: 1920,
          rendition_name: '1080p',
          rendition_video_bitrate_kbps: 5000,
          rendition_change_count: 1,
          dropped_frames: 0,
          player_state: 'playing',
          event_count: 3,
          time_since_last_play_request_ms: 9600,
          time_since_last_playback_start_ms: 9000,
          time_since_last_play_ms: null,
          time_since_last_pause_ms: null,
          time_since_last_seek_start_ms: null,
          time_since_last_stall_start_ms: null,
          time_since_last_stall_end_ms: null,
          time_since_last_rendition_change_ms: null,
          time_since_last_error_ms: null,
          time_since_last_ad_start_ms: null,
          // The playing sample ended at t0 + 9600, when the switch happened.
          time_since_last_heartbeat_ms: 0,
          time_since_request_ms: 9600,
          time_since_started_ms: 9000,
        },
        attributes: { abs_shift: 'up', rendition_video_bitrate_kbps: 5000 },
      },
      user_details: {
        app_session_id: 'session-1',
        content_session_id: 'v-wire',
        viewer_id: 'viewer-1',
        viewer_user_id: '',
        client_ip: '89.160.20.112',
        user_agent: IPHONE,
        page_url: 'https://www.example.com/watch/1',
      },
      player: {
        player_name: 'main player',
        player_software: 'hls.js',
        player_version: '1.6.0',
        player_instance_id: 'player-1',
        streaming_protocol: 'hls',
        sdk_name: 'openqoe-collector',
        sdk_version: '0.1.0',
      },
      device: {
        browser_name: 'Mobile Safari',
        browser_version: '26.0',
        os_name: 'iOS',
        os_version: '18.6',
        device_type: 'mobile',
        device_brand: 'Apple',
        device_model: 'iPhone',
      },
      geo_location: {
        country_code: 'SE',
        region: 'E',
        city: 'Linköping',
        asn: 29518,
        as_org: 'Bredband2 AB',
      },
      video: {
        media_type: 'vod',
        video_id: 'video-1',
        title: 'Big Buck Bunny',
        asset_id: '',
        playback_id: '',
        live_stream_id: '',
        codec: 'avc1.64001f',
        cdn_host: 'cdn.example.com',
        cdn_provider: 'example-cdn',
        player_width: 1280,
        player_height: 720,
      },
      custom: { custom_data_1: 'premium' },
      ops_metadata: {
        environment_id: envId,
        sequence_number: 4,
        server_ts_offset_ms: offset,
        server_received_at_ms: e.ops_metadata['server_received_at_ms'],
        viewer_time_ms: t0 + 9600,
        producer: `openqoe/${PACKAGE_VERSION}`,
        collector_observability: [],
      },
    });
    // The first event: nothing before it, so every time_since_last_* is null.
    const first = envelopes[0]!.event as unknown as { metrics: Record<string, unknown> };
    expect(first.metrics['time_since_last_play_request_ms']).toBeNull();
    expect(first.metrics['time_since_last_heartbeat_ms']).toBeNull();
    expect(first.metrics['event_count']).toBe(1);
    // Three different events of one view: three different ids.
    expect(new Set(envelopes.map((x) => x.event_id)).size).toBe(3);
  });

  it('webhook: JSON array POSTed to the URL, HMAC-SHA256 of the body in X-Openqoe-Signature', () => {
    const [req] = listener.to('/hooks/qoe');
    expect(req!.method).toBe('POST');
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.headers['content-encoding']).toBeUndefined();
    expect(req!.headers['x-team']).toBe('video');
    const expected = `sha256=${createHmac('sha256', HOOK_SECRET).update(req!.raw).digest('hex')}`;
    expect(req!.headers['x-openqoe-signature']).toBe(expected);
    expect(req!.raw.toString()[0]).toBe('[');
  });

  it('Splunk HEC: concatenated event objects with epoch-second time, Splunk token auth, gzip', () => {
    const envelopes = hookEnvelopes();
    const reqs = listener.to('/services/collector');
    const [req] = reqs;
    // From the HEC documentation: POST /services/collector/event, "Authorization: Splunk <token>",
    // batched events are JSON objects one after the other:
    // {"time": 1426279439, "host": "localhost", "source": "random-data-generator", "sourcetype": "my_sample_data", "index": "main", "event": {...}}{"time": ...}
    expect(req!.method).toBe('POST');
    expect(req!.path).toBe('/services/collector/event');
    expect(req!.headers['authorization']).toBe(`Splunk ${SPLUNK_TOKEN}`);
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.headers['content-encoding']).toBe('gzip');
    const example = envelopes
      .map(
        (e) =>
          `{"time":${(e.event.timestamp / 1000).toFixed(3)},"host":"qoe-test","source":"openqoe",` +
          `"sourcetype":"openqoe:player_event","index":"video","event":${JSON.stringify(e)}}`,
      )
      .join('');
    expect(req!.body.toString('utf8')).toBe(example);
  });

  it('Datadog logs: JSON array with ddsource, ddtags, hostname, service, DD-API-KEY, gzip', () => {
    const envelopes = hookEnvelopes();
    const [req] = listener.to('/api/v2/logs');
    // From the Datadog Logs API v2: POST https://http-intake.logs.<site>/api/v2/logs, header DD-API-KEY,
    // body [{"ddsource": "nginx", "ddtags": "env:staging,version:5.1", "hostname": "i-012345678",
    //        "message": "...", "service": "payment", ...attributes}]
    expect(req!.method).toBe('POST');
    expect(req!.headers['dd-api-key']).toBe(DD_KEY);
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.headers['content-encoding']).toBe('gzip');
    expect(json(req!)).toEqual(
      envelopes.map((e) => ({
        ddsource: 'openqoe',
        ddtags: `env:${envId},event_type:${e.event.type},team:video`,
        hostname: 'qoe-test',
        service: 'openqoe',
        message: `player ${e.event.type}`,
        timestamp: e.event.timestamp,
        ...e,
      })),
    );
  });

  it('Datadog metrics: series of gauges (type 3) with epoch-second points, DD-API-KEY', async () => {
    await waitFor(
      async () =>
        listener
          .to('/api/v2/series')
          .some((r) =>
            json<{ series: { metric: string; points: { value: number }[] }[] }>(r).series.some(
              (s) => s.metric === 'openqoe.current_concurrent_viewers' && s.points[0]!.value === 1,
            ),
          ),
      'a concurrent-viewers point',
    );
    const req = listener
      .to('/api/v2/series')
      .find((r) => r.body.includes('"openqoe.current_concurrent_viewers"') && r.body.includes('"value":1'))!;
    expect(req.headers['dd-api-key']).toBe(DD_KEY);
    expect(req.headers['content-type']).toBe('application/json');
    const { series } = json<{ series: { metric: string; type: number; points: { timestamp: number }[] }[] }>(
      req,
    );
    const ccv = series.find((s) => s.metric === 'openqoe.current_concurrent_viewers')!;
    // From the Datadog Metrics API v2: {"series": [{"metric": "system.load.1", "type": 0,
    //   "points": [{"timestamp": 1636629071, "value": 0.7}], "tags": ["environment:test"]}]}
    expect(ccv).toEqual({
      metric: 'openqoe.current_concurrent_viewers',
      type: 3,
      points: [{ timestamp: ccv.points[0]!.timestamp, value: 1 }],
      tags: [`env:${envId}`],
    });
    expect(ccv.points[0]!.timestamp % 1).toBe(0);
    expect(Math.abs(ccv.points[0]!.timestamp - Date.now() / 1000)).toBeLessThan(600);
    expect(
      series.find((s) => s.metric === 'openqoe.current_rebuffering_percentage')?.points[0],
    ).toMatchObject({
      value: 0,
    });
  });

  it('New Relic: JSON array of flat events with eventType and timestamp, Api-Key, gzip', () => {
    const envelopes = hookEnvelopes();
    const [req] = listener.to('/v1/accounts/');
    // From the Event API: POST https://insights-collector.newrelic.com/v1/accounts/{accountId}/events,
    // header Api-Key, body [{"eventType": "Purchase", "account": 3, "amount": 259.54}]; no nested objects.
    expect(req!.path).toBe('/v1/accounts/1234567/events');
    expect(req!.headers['api-key']).toBe(NR_KEY);
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.headers['content-encoding']).toBe('gzip');
    const events = json<Record<string, unknown>[]>(req!);
    expect(events).toHaveLength(3);
    for (const ev of events) {
      for (const v of Object.values(ev)) expect(typeof v === 'object' && v !== null).toBe(false);
    }
    const e = envelopes[2]!;
    expect(events[2]).toMatchObject({
      eventType: 'OpenQoePlayerEvent',
      timestamp: e.event.timestamp,
      event_id: e.event_id,
      'event.type': 'rendition_change',
      'event.metrics.stall_count': 0,
      'event.metrics.rendition_height': 1080,
      'event.attributes.abs_shift': 'up',
      'device.browser_name': 'Mobile Safari',
      'device.device_type': 'mobile',
      'geo_location.country_code': 'SE',
      'geo_location.city': 'Linköping',
      'user_details.content_session_id': 'v-wire',
      'custom.custom_data_1': 'premium',
      'ops_metadata.environment_id': envId,
    });
    // Null metrics are left out rather than sent as nested or null values.
    expect('event.metrics.time_since_last_pause_ms' in events[2]!).toBe(false);
  });

  it('Firehose: JSON 1.1 PutRecordBatch with base64 newline-delimited records, SigV4, failed records retried alone', () => {
    const envelopes = hookEnvelopes();
    const reqs = listener.requests.filter((r) => r.body.includes('"qoe-events"'));
    // From the Firehose API reference: POST / with X-Amz-Target: Firehose_20150804.PutRecordBatch,
    // Content-Type: application/x-amz-json-1.1, body {"DeliveryStreamName": "...", "Records": [{"Data": <base64>}]}
    for (const req of reqs) {
      expect(req.method).toBe('POST');
      expect(req.path).toBe('/');
      expect(req.headers['x-amz-target']).toBe('Firehose_20150804.PutRecordBatch');
      expect(req.headers['content-type']).toBe('application/x-amz-json-1.1');
      expect(req.headers['authorization']).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/firehose\/aws4_request, SignedHeaders=.*x-amz-target.*, Signature=[0-9a-f]{64}$/,
      );
    }
    const data = (req: RecordedRequest) =>
      json<{ DeliveryStreamName: string; Records: { Data: string }[] }>(req);
    expect(data(reqs[0]!)).toEqual({
      DeliveryStreamName: 'qoe-events',
      Records: envelopes.map((e) => ({ Data: Buffer.from(`${JSON.stringify(e)}\n`).toString('base64') })),
    });
    // The second record failed (FailedPutCount 1): only it is sent again.
    expect(data(reqs[1]!)).toEqual({
      DeliveryStreamName: 'qoe-events',
      Records: [{ Data: Buffer.from(`${JSON.stringify(envelopes[1])}\n`).toString('base64') }],
    });
  });

  it('filters: an environment filter and an event-type filter leave events out (counted)', async () => {
    expect(listener.requests.filter((r) => r.body.includes('"qoe-limits"'))).toHaveLength(0);
    expect(listener.to('/hooks/stalls')).toHaveLength(0);
    expect(listener.to('/hooks/other')).toHaveLength(0);
    const series = [
      'openqoe_connector_events_skipped_total{connector="other-env",reason="environment"} 3',
      'openqoe_connector_events_skipped_total{connector="stalls-only",reason="event_type"} 3',
      'openqoe_connector_events_sent_total{connector="splunk"} 3',
      'openqoe_connector_events_sent_total{connector="firehose"} 3',
      'openqoe_connector_retries_total{connector="firehose",reason="partial"} 1',
    ];
    // A destination has a request before the connector has read the answer and counted it.
    const metrics = await settled(
      async () => (await fetch(`${server.url}/metrics`)).text(),
      (text) => series.every((s) => text.includes(s)),
    );
    for (const s of series) expect(metrics).toContain(s);
    // Secrets never reach the logs.
    for (const secret of [SPLUNK_TOKEN, DD_KEY, NR_KEY, HOOK_SECRET, AWS_SECRET])
      expect(server.output()).not.toContain(secret);
    expect(await readMetric(server, 'openqoe_pipeline_events_stored_total')).toBe(3);
  });

  it('batch limits: 600 events reach Firehose in calls of at most 500 records, in order', async () => {
    const key = server.bootstrap().environment.key;
    const events = Array.from({ length: 600 }, (_, i) =>
      makeEvent({ viewId: 'v-many', sequenceNumber: i, type: 'adstart', state: 'ad', viewerTime: t0 + i }),
    );
    const res = await postBeacon(server.url, JSON.stringify(makeBeacon({ envKey: key, events })));
    expect(res.status).toBe(202);
    const calls = () => listener.requests.filter((r) => r.body.includes('"qoe-limits"'));
    const records = () =>
      calls().flatMap((r) =>
        json<{ Records: { Data: string }[] }>(r).Records.map(
          (x) => JSON.parse(Buffer.from(x.Data, 'base64').toString()) as Envelope,
        ),
      );
    await waitFor(async () => records().length >= 600, 'the 600 records');
    expect(calls().length).toBeGreaterThanOrEqual(2);
    for (const call of calls())
      expect(json<{ Records: unknown[] }>(call).Records.length).toBeLessThanOrEqual(500);
    expect(records().map((e) => e.ops_metadata['sequence_number'])).toEqual(
      Array.from({ length: 600 }, (_, i) => i),
    );
  });

  it('keeps event counts and time-since fields over a clean restart', async () => {
    await server.kill('SIGTERM');
    server = await startServer(serverOptions);
    const key = server.bootstrap().environment.key;
    const pause = makeEvent({
      viewId: 'v-wire',
      sequenceNumber: 5,
      type: 'pause',
      state: 'paused',
      viewerTime: t0 + 12_000,
      playheadMs: 11_400,
    });
    const res = await postBeacon(
      server.url,
      JSON.stringify(makeBeacon({ envKey: key, sentAt: t0 + 12_100, events: [pause] })),
    );
    expect(res.status).toBe(202);
    const find = () =>
      listener
        .to('/hooks/qoe')
        .flatMap((r) => json<Envelope[]>(r))
        .find(
          (e) =>
            e.ops_metadata['sequence_number'] === 5 &&
            (e['user_details'] as Record<string, string>)['content_session_id'] === 'v-wire',
        );
    await waitFor(async () => find() !== undefined, 'the pause event after the restart');
    const metrics = (find()!.event as unknown as { metrics: Record<string, unknown> }).metrics;
    // The fourth event of the view; the switch was at t0 + 9600, the play request at t0, the last sample ended at t0 + 9600.
    expect(metrics['event_count']).toBe(4);
    expect(metrics['time_since_last_rendition_change_ms']).toBe(2400);
    expect(metrics['time_since_last_play_request_ms']).toBe(12_000);
    expect(metrics['time_since_last_heartbeat_ms']).toBe(2400);
    expect(metrics['player_state']).toBe('paused');
  });
});
