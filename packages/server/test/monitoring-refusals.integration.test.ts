/**
 * A destination that refuses one payload for good must not hold the sink's
 * queue behind it: the HTTP sink on the delivery core (queue, retries, dead
 * letters) against a real
 * HTTP listener on 127.0.0.1 that answers 400 for one payload (moved to the
 * dead-letter directory byte for byte, counted, the rest delivered), 422
 * while the dead-letter directory cannot be written (kept and retried), and
 * 401 for a while (credentials: retried until fixed, nothing set aside); and the
 * real server CLI with an HTTP sink whose destination refuses its first
 * payload.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { DeadLetterDir } from '../src/outputs/delivery/dead-letter.js';
import { Delivery } from '../src/outputs/delivery/delivery.js';
import type { QueueRecord } from '../src/outputs/delivery/destination.js';
import { httpSink } from '../src/outputs/stream/sinks/http.js';
import { createMonitoringMetrics, sinkCounters } from '../src/outputs/stream/sinks/monitoring-metrics.js';
import {
  type ExpectedRecord,
  expectedRecords,
  postScriptedViews,
  recordsOfJsonPayloads,
  sortRecords,
} from './helpers/monitoring-script.js';
import {
  removeDir,
  type ServerProcess,
  settled,
  startServer,
  TEST_CONFIG,
  tempDataDir,
  waitFor,
} from './helpers/server-process.js';
import { slowTests } from './helpers/slow-tests.js';

slowTests(90_000);

interface Received {
  id: string;
  status: number;
  body: Buffer;
}

/** A listener whose answer for each request is decided by the test. */
async function startListener(answer: (id: string, n: number) => { status: number; body?: string }) {
  const received: Received[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const id = String(req.headers['x-openqoe-message-id']);
      const { status, body } = answer(id, received.length);
      received.push({ id, status, body: Buffer.concat(chunks) });
      res.writeHead(status, { 'content-type': 'application/json' }).end(body ?? '{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/ingest`,
    received,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** One series' value in Prometheus text (0 when absent). */
const seriesValue = (text: string, series: string) =>
  Number(
    text
      .split('\n')
      .find((l) => l.startsWith(`${series} `))
      ?.split(' ')
      .pop() ?? 0,
  );

/** Distinct JSON payloads, as the stream would queue them. */
const payloads = (n: number): QueueRecord[] =>
  Array.from({ length: n }, (_, i) => ({
    key: String(i % 2),
    id: `payload-${i}`,
    dueAtMs: Date.now(),
    payload: Buffer.from(
      JSON.stringify({ samples: [{ view_id: `view-${i}`, records: [{ duration_ms: i }] }] }),
    ),
  }));

const dirs: string[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  for (const d of dirs.splice(0)) removeDir(d);
});

/** The HTTP sink named `http` on the delivery core, as the monitoring stage wires it. */
async function startSink(url: string) {
  const dir = tempDataDir('openqoe-mon-ref-');
  dirs.push(dir);
  const registry = new Registry();
  const warnings: string[] = [];
  const sink = httpSink.create(
    {
      type: 'http',
      name: 'http',
      format: 'json',
      bufferMaxBytes: 1 << 20,
      whenFull: 'block',
      retryInitialBackoffMs: 20,
      retryMaxBackoffMs: 100,
      url,
      headers: {},
      timeoutMs: 5000,
    },
    { key: 'monitoring.sinks[0]', env: {} },
  );
  const delivery = await Delivery.open(sink, {
    label: 'monitoring sink http',
    nouns: ['payload', 'payloads'],
    dir: join(dir, 'buffer'),
    bufferMaxBytes: 1 << 20,
    whenFull: 'block',
    retry: { initialBackoffMs: 20, maxBackoffMs: 100 },
    limits: httpSink.limits,
    maxDelayMs: 0,
    deadLetters: new DeadLetterDir(join(dir, 'rejected'), 'json'),
    counters: sinkCounters(createMonitoringMetrics(registry), 'http'),
    log: { info: () => {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) },
  });
  cleanups.push(() => delivery.close());
  const metric = async (series: string) => seriesValue(await registry.metrics(), series);
  return { dir, delivery, warnings, metric };
}

describe('monitoring sink refusals', () => {
  it('moves a payload refused with 400 to the dead-letter directory and delivers the others', async () => {
    const refusal = '{"error":"samples[0].records: unknown field"}';
    const listener = await startListener((id) =>
      id === 'payload-2' ? { status: 400, body: refusal } : { status: 200 },
    );
    cleanups.push(listener.close);
    const s = await startSink(listener.url);
    const all = payloads(5);
    await s.delivery.offer(all);
    await waitFor(async () => s.delivery.queue.bytes === 0, 'the queue to drain', 10_000);

    // Every payload was POSTed once, in order; the refused one was not retried.
    expect(listener.received.map((r) => [r.id, r.status])).toEqual([
      ['payload-0', 200],
      ['payload-1', 200],
      ['payload-2', 400],
      ['payload-3', 200],
      ['payload-4', 200],
    ]);
    for (const r of listener.received) expect(r.body.equals(all[Number(r.id.slice(8))]!.payload)).toBe(true);
    // The refused payload, byte for byte, and why.
    expect(readFileSync(join(s.dir, 'rejected', 'payload-2.json')).equals(all[2]!.payload)).toBe(true);
    const index = readFileSync(join(s.dir, 'rejected', 'rejected.ndjson'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(index).toHaveLength(1);
    expect(index[0]).toMatchObject({
      id: 'payload-2',
      partition_key: '0',
      status: 400,
      reason: refusal,
      file: 'payload-2.json',
    });
    expect(await s.metric('openqoe_monitoring_rejected_payloads_total{sink="http",status="400"}')).toBe(1);
    expect(await s.metric('openqoe_monitoring_payloads_sent_total{sink="http"}')).toBe(4);
    expect(await s.metric('openqoe_monitoring_send_errors_total{sink="http"}')).toBe(0);
    // Logged once, with the reason.
    const logged = s.warnings.filter((w) => w.includes('payload-2'));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain('400');
    expect(logged[0]).toContain('unknown field');

    // Set aside for good: appending more does not bring it back.
    await s.delivery.offer(payloads(7).slice(5));
    await waitFor(async () => listener.received.length === 7, 'the later payloads', 10_000);
    expect(listener.received.slice(5).map((r) => [r.id, r.status])).toEqual([
      ['payload-5', 200],
      ['payload-6', 200],
    ]);
  });

  it('keeps a refused payload queued while it cannot be set aside, then moves on', async () => {
    const listener = await startListener((id) => (id === 'payload-1' ? { status: 422 } : { status: 200 }));
    cleanups.push(listener.close);
    const s = await startSink(listener.url);
    // A file where the dead-letter directory should be: writing there fails.
    writeFileSync(join(s.dir, 'rejected'), 'in the way');
    const all = payloads(3);
    await s.delivery.offer(all);
    await waitFor(
      async () => listener.received.filter((r) => r.id === 'payload-1').length >= 3,
      'the refused payload to be retried',
      10_000,
    );
    // Not acknowledged: payload-2 waits behind it, nothing was counted as set aside.
    expect(listener.received.some((r) => r.id === 'payload-2')).toBe(false);
    expect(await s.metric('openqoe_monitoring_rejected_payloads_total{sink="http",status="422"}')).toBe(0);
    // The listener has the third attempt before the runner has read its answer and counted it.
    const sendErrors = await settled(
      () => s.metric('openqoe_monitoring_send_errors_total{sink="http"}'),
      (n) => n >= 3,
    );
    expect(sendErrors).toBeGreaterThanOrEqual(3);
    expect(s.warnings.some((w) => w.includes('cannot set refused payload payload-1 aside'))).toBe(true);
    // Room again: it is set aside and the queue moves on.
    rmSync(join(s.dir, 'rejected'));
    await waitFor(async () => s.delivery.queue.bytes === 0, 'the queue to drain', 10_000);
    expect(readFileSync(join(s.dir, 'rejected', 'payload-1.json')).equals(all[1]!.payload)).toBe(true);
    expect(listener.received.filter((r) => r.status === 200).map((r) => r.id)).toEqual([
      'payload-0',
      'payload-2',
    ]);
    expect(await s.metric('openqoe_monitoring_rejected_payloads_total{sink="http",status="422"}')).toBe(1);
  });

  it('keeps retrying a 401 (credentials) until it is fixed, and sets nothing aside', async () => {
    // The key is "fixed" after four refusals.
    const listener = await startListener((_, n) => (n < 4 ? { status: 401 } : { status: 200 }));
    cleanups.push(listener.close);
    const s = await startSink(listener.url);
    const all = payloads(3);
    await s.delivery.offer(all);
    await waitFor(async () => s.delivery.queue.bytes === 0, 'the queue to drain', 10_000);

    expect(listener.received.map((r) => [r.id, r.status])).toEqual([
      ['payload-0', 401],
      ['payload-0', 401],
      ['payload-0', 401],
      ['payload-0', 401],
      ['payload-0', 200],
      ['payload-1', 200],
      ['payload-2', 200],
    ]);
    expect(existsSync(join(s.dir, 'rejected'))).toBe(false);
    expect(await s.metric('openqoe_monitoring_send_errors_total{sink="http"}')).toBe(4);
    expect(await s.metric('openqoe_monitoring_payloads_sent_total{sink="http"}')).toBe(3);
  });
});

describe('monitoring stream with a destination that refuses one payload (server CLI)', () => {
  let server: ServerProcess | undefined;
  afterEach(async () => {
    await server?.kill('SIGKILL');
    server = undefined;
  });

  it('dead-letters the refused payload under the data dir, counts it, and delivers every other record', async () => {
    const WINDOW = 10_000;
    let refusedId: string | undefined;
    const listener = await startListener((id) => {
      refusedId ??= id;
      return id === refusedId ? { status: 400, body: '{"error":"rejected by the test"}' } : { status: 204 };
    });
    cleanups.push(listener.close);
    const dataDir = tempDataDir('openqoe-mon-ref-srv-');
    dirs.push(dataDir);
    server = await startServer({
      dataDir,
      config: {
        ...TEST_CONFIG,
        views: { tickIntervalMs: 100 },
        monitoring: {
          intervalMs: WINDOW,
          allowedLatenessMs: 1000,
          ebvsDelayMs: 2000,
          sinks: [
            {
              type: 'http',
              name: 'http',
              format: 'json',
              url: listener.url,
              retryInitialDelayMs: 50,
              retryMaxDelayMs: 200,
            },
          ],
        },
      },
    });
    // Windows from the next boundary on: the beacon (sent at once, ahead of time) arrives before any is due.
    const t0 = Math.floor(Date.now() / WINDOW) * WINDOW + WINDOW;
    await postScriptedViews(server, t0);
    const expected = sortRecords(expectedRecords(t0));
    const accepted = () => listener.received.filter((r) => r.status === 204);
    const refused = () => listener.received.filter((r) => r.status === 400);
    const recordsOf = (rs: Received[]) => recordsOfJsonPayloads(rs.map((r) => JSON.parse(r.body.toString())));
    const key = (r: ExpectedRecord) => `${r.view_id}|${r.start_ms}|${r.duration_ms}`;
    await waitFor(
      async () => new Set(recordsOf(listener.received).map(key)).size >= expected.length,
      'every record to reach the listener',
      60_000,
    );
    // The listener has every record before the server has read the last answer and acknowledged
    // the payload: the counter and the gauge settle after that.
    const rejected = 'openqoe_monitoring_rejected_payloads_total{sink="http",status="400"}';
    const buffered = 'openqoe_monitoring_buffered_bytes{sink="http"}';
    const metrics = await settled(
      async () => (await fetch(`${server!.url}/metrics`)).text(),
      (text) => seriesValue(text, rejected) === 1 && seriesValue(text, buffered) === 0,
    );

    // Refused once, never sent again; everything else accepted; together exactly the hand-computed records.
    expect(refused()).toHaveLength(1);
    expect(listener.received.filter((r) => r.id === refusedId)).toHaveLength(1);
    const refusedRecords = recordsOf(refused());
    expect(refusedRecords.length).toBeGreaterThan(0);
    const acceptedKeys = new Set(recordsOf(accepted()).map(key));
    for (const r of refusedRecords) expect(acceptedKeys.has(key(r))).toBe(false);
    expect(sortRecords([...recordsOf(accepted()), ...refusedRecords])).toEqual(expected);
    // The refused payload, byte for byte, in the sink's dead-letter directory.
    const rejectedDir = join(dataDir, 'monitoring', 'rejected', 'http');
    expect(readdirSync(rejectedDir).sort()).toEqual([`${refusedId}.json`, 'rejected.ndjson']);
    expect(readFileSync(join(rejectedDir, `${refusedId}.json`)).equals(refused()[0]!.body)).toBe(true);
    expect(seriesValue(metrics, rejected)).toBe(1);
    expect(seriesValue(metrics, buffered)).toBe(0);
  });
});
