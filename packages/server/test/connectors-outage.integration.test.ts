/**
 * A destination outage with a server crash in the middle: the listener
 * answers 503, then 429 with Retry-After, then disappears; meanwhile the
 * openqoe server is killed with SIGKILL and started again on the same data
 * dir (webhook, Splunk HEC and Firehose connectors). When the listener comes back, every event posted through the intake
 * must arrive at every connector, in order per view, with duplicates (if
 * any) carrying the same event_id.
 */
import { makeBeacon, makeEvent, type PlayerEvent } from '@openqoe/schema';
import { afterAll, describe, expect, it } from 'vitest';
import { HttpRecorder, type RecordedRequest } from './helpers/http-recorder.js';
import {
  postBeacon,
  removeDir,
  type ServerProcess,
  startServer,
  tempDataDir,
  waitFor,
} from './helpers/server-process.js';
import { slowTests } from './helpers/slow-tests.js';

slowTests(120_000);

interface Envelope {
  event_id: string;
  event: { type: string };
  user_details: { content_session_id: string };
  ops_metadata: { sequence_number: number };
}

const VIEWS = ['view-a', 'view-b', 'view-c'];
const EVENTS_PER_VIEW_PER_BEACON = 2;

async function metricsText(server: ServerProcess): Promise<string> {
  return (await fetch(`${server.url}/metrics`)).text();
}

function metricValue(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

type Kind = 'webhook' | 'splunk' | 'firehose';

/** What a destination accepted (answered 2xx), as envelopes in arrival order. */
function accepted(requests: RecordedRequest[], kind: Kind): Envelope[] {
  const out: Envelope[] = [];
  for (const r of requests) {
    if (r.status !== 200) continue;
    const text = r.body.toString('utf8');
    if (kind === 'webhook') out.push(...(JSON.parse(text) as Envelope[]));
    else if (kind === 'firehose') {
      for (const rec of (JSON.parse(text) as { Records: { Data: string }[] }).Records)
        out.push(JSON.parse(Buffer.from(rec.Data, 'base64').toString('utf8')) as Envelope);
    } else {
      // HEC objects follow one another; each starts with {"time": at the top level.
      for (const part of text.split(/(?=\{"time":)/))
        out.push((JSON.parse(part) as { event: Envelope }).event);
    }
  }
  return out;
}

const FIREHOSE_TARGET = 'Firehose_20150804.PutRecordBatch';

describe('connectors: outage and crash', () => {
  const dataDir = tempDataDir('openqoe-connectors-outage-');
  const listener = new HttpRecorder();
  let server: ServerProcess | undefined;
  let mode: 'ok' | 'busy' | 'throttle' = 'busy';
  const nextSeq = new Map(VIEWS.map((v) => [v, 0]));
  let posted = 0;

  afterAll(async () => {
    await server?.kill('SIGKILL');
    await listener.stop();
    removeDir(dataDir);
  });

  async function start(): Promise<ServerProcess> {
    const common = {
      batchMaxEvents: 5,
      batchMaxDelayMs: 100,
      retryInitialBackoffMs: 100,
      retryMaxBackoffMs: 800,
    };
    return startServer({
      dataDir,
      env: {
        TEST_HEC_TOKEN: 'outage-token',
        TEST_AWS_KEY_ID: 'AKIDOUTAGE',
        TEST_AWS_SECRET: 'outage-secret',
      },
      config: {
        logLevel: 'warn',
        intake: { rateLimit: { perIpPerSecond: 0, perEnvKeyPerSecond: 0 } },
        connectors: [
          { name: 'hook', type: 'webhook', url: `${listener.url}/hook`, ...common },
          {
            name: 'splunk',
            type: 'splunk_hec',
            url: listener.url,
            token: { env: 'TEST_HEC_TOKEN' },
            compression: 'none',
            ...common,
          },
          {
            name: 'firehose',
            type: 'firehose',
            url: listener.url,
            region: 'us-east-1',
            deliveryStreamName: 'outage',
            accessKeyId: { env: 'TEST_AWS_KEY_ID' },
            secretAccessKey: { env: 'TEST_AWS_SECRET' },
            ...common,
          },
        ],
      },
    });
  }

  /** One beacon with two events for each view, sequence numbers continuing. */
  async function postRound(s: ServerProcess): Promise<void> {
    const key = s.bootstrap().environment.key;
    const events: PlayerEvent[] = [];
    const now = Date.now();
    for (const viewId of VIEWS) {
      for (let i = 0; i < EVENTS_PER_VIEW_PER_BEACON; i++) {
        const seq = nextSeq.get(viewId)!;
        nextSeq.set(viewId, seq + 1);
        events.push(
          makeEvent({
            viewId,
            sequenceNumber: seq,
            type: seq % 2 === 0 ? 'play' : 'pause',
            state: seq % 2 === 0 ? 'playing' : 'paused',
            viewerTime: now - 1000 + seq,
          }),
        );
      }
    }
    const res = await postBeacon(s.url, JSON.stringify(makeBeacon({ envKey: key, sentAt: now, events })));
    expect(res.status).toBe(202);
    posted += events.length;
  }

  it('delivers every event after 503, 429 and a vanished destination, across a SIGKILL', async () => {
    await listener.start();
    listener.respond = (req) => {
      const firehose = req.headers['x-amz-target'] === FIREHOSE_TARGET;
      const amz = { 'content-type': 'application/x-amz-json-1.1' };
      if (mode === 'busy')
        return firehose
          ? {
              status: 503,
              headers: amz,
              body: '{"__type":"ServiceUnavailableException","message":"Slow down."}',
            }
          : { status: 503, body: '{"text":"Server is busy","code":9}' };
      if (mode === 'throttle') return { status: 429, headers: { 'retry-after': '2' }, body: '' };
      if (firehose) {
        const n = (JSON.parse(req.body.toString()) as { Records: unknown[] }).Records.length;
        const responses = Array.from({ length: n }, (_, i) => ({ RecordId: `r${i}` }));
        return {
          status: 200,
          headers: amz,
          body: JSON.stringify({ FailedPutCount: 0, Encrypted: false, RequestResponses: responses }),
        };
      }
      return { status: 200, body: '{"text":"Success","code":0}' };
    };
    server = await start();

    // 1. The destination is busy: events pile up in the buffers.
    for (let i = 0; i < 4; i++) await postRound(server);
    await waitFor(async () => {
      const m = await metricsText(server!);
      return (
        metricValue(m, 'openqoe_connector_buffered_events{connector="hook"}') === posted &&
        metricValue(m, 'openqoe_connector_retries_total{connector="hook",reason="503"}') >= 2 &&
        metricValue(m, 'openqoe_connector_retries_total{connector="splunk",reason="503"}') >= 2 &&
        metricValue(m, 'openqoe_connector_retries_total{connector="firehose",reason="503"}') >= 2
      );
    }, 'retries on 503 with everything buffered');

    // 2. Throttled with Retry-After: 2 s. The next attempt waits for it, not for the 100 ms backoff.
    mode = 'throttle';
    await waitFor(async () => listener.to('/hook').filter((r) => r.status === 429).length >= 2, 'two 429s');
    const throttled = listener.to('/hook').filter((r) => r.status === 429);
    expect(throttled[1]!.atMs - throttled[0]!.atMs).toBeGreaterThanOrEqual(1900);

    // 3. The destination disappears; more events come in.
    await listener.stop();
    for (let i = 0; i < 4; i++) await postRound(server);
    await waitFor(
      async () =>
        metricValue(
          await metricsText(server!),
          'openqoe_connector_retries_total{connector="splunk",reason="network"}',
        ) >= 1,
      'a network retry',
    );

    // 4. The server is killed and started again on the same data dir; more events come in.
    await server.kill('SIGKILL');
    server = await start();
    for (let i = 0; i < 4; i++) await postRound(server);
    await waitFor(
      async () =>
        metricValue(await metricsText(server!), 'openqoe_connector_buffered_events{connector="splunk"}') >=
        posted,
      'the buffers to hold every event after the restart',
    );

    // 5. The destination comes back.
    mode = 'ok';
    await listener.start();
    const expected = VIEWS.flatMap((v) =>
      Array.from({ length: nextSeq.get(v)! }, (_, seq) => `${v}#${seq}`),
    ).sort();
    expect(expected).toHaveLength(72);
    const firehoseRequests = () =>
      listener.requests.filter((r) => r.headers['x-amz-target'] === FIREHOSE_TARGET);
    const key = (e: Envelope) => `${e.user_details.content_session_id}#${e.ops_metadata.sequence_number}`;
    await waitFor(
      async () =>
        new Set(accepted(listener.to('/hook'), 'webhook').map(key)).size === 72 &&
        new Set(accepted(listener.to('/services/collector/event'), 'splunk').map(key)).size === 72 &&
        new Set(accepted(firehoseRequests(), 'firehose').map(key)).size === 72,
      'every event at every destination',
      60_000,
    );

    const destinations: [Kind, () => RecordedRequest[]][] = [
      ['webhook', () => listener.to('/hook')],
      ['splunk', () => listener.to('/services/collector/event')],
      ['firehose', firehoseRequests],
    ];
    for (const [kind, requests] of destinations) {
      const got = accepted(requests(), kind);
      // None lost.
      expect([...new Set(got.map(key))].sort()).toEqual(expected);
      // Duplicates only with the same event_id; different events never share one.
      const idByKey = new Map<string, string>();
      for (const e of got) {
        const seen = idByKey.get(key(e));
        if (seen !== undefined) expect(e.event_id).toBe(seen);
        idByKey.set(key(e), e.event_id);
      }
      expect(new Set(idByKey.values()).size).toBe(72);
      // In order per view: first arrivals of each view have increasing sequence numbers.
      for (const v of VIEWS) {
        const firsts: number[] = [];
        for (const e of got) {
          if (e.user_details.content_session_id !== v) continue;
          const seq = e.ops_metadata.sequence_number;
          if (!firsts.includes(seq)) firsts.push(seq);
        }
        expect(firsts).toEqual(Array.from({ length: 24 }, (_, i) => i));
      }
      // The event type follows the posted events (even sequence numbers were plays).
      for (const e of got)
        expect(e.event.type).toBe(e.ops_metadata.sequence_number % 2 === 0 ? 'play' : 'pause');
    }
    await waitFor(
      async () =>
        metricValue(await metricsText(server!), 'openqoe_connector_buffered_events{connector="hook"}') === 0,
      'the buffer to empty',
    );
  });
});
