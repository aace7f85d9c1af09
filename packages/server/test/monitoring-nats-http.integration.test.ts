/**
 * The monitoring stream to a real `nats-server -js` (read back by a
 * JetStream consumer) and to a real HTTP listener that refuses the first
 * POSTs with 503: both receive exactly the hand-computed records.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { fromBinary, toJson } from '@bufbuild/protobuf';
import { monitoring as pb } from '@openqoe/schema';
import { AckPolicy, connect, type NatsConnection } from 'nats';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeWithProtoc, sampleKey } from './helpers/monitoring-infra.js';
import {
  type ExpectedRecord,
  expectedRecords,
  postScriptedViews,
  recordsOfJsonPayloads,
  sortRecords,
} from './helpers/monitoring-script.js';
import { spawnTracked } from './helpers/processes.js';
import {
  removeDir,
  type ServerProcess,
  startServer,
  TEST_CONFIG,
  tempDataDir,
  waitFor,
} from './helpers/server-process.js';
import { slowTests } from './helpers/slow-tests.js';

slowTests(90_000);

const WINDOW = 10_000;

async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

function unique(records: ExpectedRecord[]): ExpectedRecord[] {
  const byId = new Map<string, ExpectedRecord>();
  for (const r of records) {
    const id = `${r.view_id}|${r.start_ms}|${r.duration_ms}`;
    const seen = byId.get(id);
    if (seen) expect(r).toEqual(seen);
    byId.set(id, r);
  }
  return sortRecords([...byId.values()]);
}

describe('monitoring stream to NATS JetStream and HTTP', () => {
  let nats: ChildProcess | undefined;
  let http: Server | undefined;
  let server: ServerProcess | undefined;
  let nc: NatsConnection | undefined;
  const dirs: string[] = [];

  afterAll(async () => {
    await nc?.close();
    await server?.kill('SIGKILL');
    nats?.kill('SIGKILL');
    await new Promise((r) => (http ? http.close(r) : r(undefined)));
    for (const d of dirs) removeDir(d);
  });

  it('delivers the hand-computed records to both', async () => {
    const natsDir = tempDataDir('openqoe-nats-');
    const dataDir = tempDataDir('openqoe-mon-nh-');
    dirs.push(natsDir, dataDir);
    const natsPort = await freePort();
    nats = spawnTracked(
      'nats-server',
      ['-js', '-a', '127.0.0.1', '-p', String(natsPort), '-sd', natsDir],
      { stdio: 'ignore' },
      'nats-server',
    );
    await waitFor(async () => {
      try {
        const c = await connect({ servers: `127.0.0.1:${natsPort}` });
        await c.close();
        return true;
      } catch {
        return false;
      }
    }, 'nats-server to accept connections');

    const bodies: { body: Buffer; type: string; id: string }[] = [];
    let refused = 0;
    http = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        // The destination is down for its first two requests.
        if (refused < 2) {
          refused++;
          res.writeHead(503).end();
          return;
        }
        bodies.push({
          body: Buffer.concat(chunks),
          type: String(req.headers['content-type']),
          id: String(req.headers['x-openqoe-message-id']),
        });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => http!.listen(0, '127.0.0.1', () => r()));
    const httpPort = (http.address() as { port: number }).port;

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
              type: 'nats',
              name: 'nats',
              format: 'json',
              servers: `nats://127.0.0.1:${natsPort}`,
              subject: 'qoe.samples',
              stream: 'SAMPLES',
            },
            {
              type: 'http',
              name: 'http',
              format: 'protobuf',
              url: `http://127.0.0.1:${httpPort}/ingest`,
              retryInitialDelayMs: 50,
              retryMaxDelayMs: 200,
            },
          ],
        },
      },
    });
    const t0 = Math.floor(Date.now() / WINDOW) * WINDOW + WINDOW;
    await postScriptedViews(server, t0);
    const expected = sortRecords(expectedRecords(t0));

    // HTTP: protobuf bodies, decoded by protoc with the reference schema, after two 503s.
    await waitFor(
      async () => unique(decodeWithProtoc(bodies.map((b) => b.body)).records).length >= expected.length,
      'every record over HTTP',
      45_000,
    );
    expect(refused).toBe(2);
    expect(unique(decodeWithProtoc(bodies.map((b) => b.body)).records)).toEqual(expected);
    for (const b of bodies) {
      expect(b.type).toBe('application/x-protobuf');
      expect(b.id).toMatch(/^[0-9a-f]{32}$/);
    }

    // NATS: a JetStream consumer reads the stream the sink created; JSON payloads with message ids.
    nc = await connect({ servers: `127.0.0.1:${natsPort}` });
    const jsm = await nc.jetstreamManager();
    await jsm.consumers.add('SAMPLES', { durable_name: 'test', ack_policy: AckPolicy.Explicit });
    const consumer = await nc.jetstream().consumers.get('SAMPLES', 'test');
    const payloads: unknown[] = [];
    const ids: string[] = [];
    await waitFor(
      async () => {
        const batch = await consumer.fetch({ max_messages: 100, expires: 1000 });
        for await (const m of batch) {
          payloads.push(m.json());
          ids.push(m.headers?.get('Nats-Msg-Id') ?? '');
          m.ack();
        }
        return unique(recordsOfJsonPayloads(payloads)).length >= expected.length;
      },
      'every record over NATS',
      20_000,
    );
    expect(unique(recordsOfJsonPayloads(payloads))).toEqual(expected);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
    // Sample by sample, the reference fields protoc reads from the protobuf payloads equal the JSON ones.
    const reference = decodeWithProtoc(bodies.map((b) => b.body)).samples;
    let compared = 0;
    for (const p of payloads as { samples: Record<string, unknown>[] }[]) {
      for (const js of p.samples) {
        const first = (js['records'] as { start: { seconds: string }; duration_ms?: number }[])[0]!;
        const ref = reference.get(
          sampleKey(String(js['view_id']), first.start.seconds, first.duration_ms ?? 0),
        );
        expect(ref).toBeDefined();
        const fromJson: Record<string, string> = {};
        for (const [k, v] of Object.entries(js)) {
          if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number')
            fromJson[k] = String(v);
        }
        const source = js['source'] as { hostname?: string } | undefined;
        if (source?.hostname) fromJson['source.hostname'] = source.hostname;
        // Our additions (100+) are unknown to the reference schema; every other field must agree.
        const ours = new Set(pb.SampleSchema.fields.filter((f) => f.number >= 100).map((f) => f.name));
        for (const k of Object.keys(fromJson)) if (ours.has(k)) delete fromJson[k];
        expect(ref).toEqual(fromJson);
        compared++;
      }
    }
    expect(compared).toBeGreaterThanOrEqual(4);
    // The JSON and the protobuf encodings carry the same messages.
    const viaOurDecoder = bodies.map((b) =>
      toJson(pb.SamplesSchema, fromBinary(pb.SamplesSchema, b.body), { useProtoFieldName: true }),
    );
    expect(unique(recordsOfJsonPayloads(viaOurDecoder))).toEqual(expected);
  });
});
