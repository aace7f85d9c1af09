/**
 * Real destinations for the monitoring stream tests: kinesalite (the Kinesis
 * API, in this process; from tools/kinesalite, which `npm test` installs), a TCP proxy that can take an endpoint away and
 * bring it back, an HTTP proxy that makes PutRecords fail chosen records,
 * and `protoc --decode` with a reference-only `.proto`
 * written here from the public field table (an independent decoder).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { createRequire } from 'node:module';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  CreateStreamCommand,
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { ExpectedRecord } from './monitoring-script.js';
import { waitFor } from './patience.js';

/** Test-only, with a native module (leveldown): kept out of the default install, like tools/chdb. */
const KINESALITE_DIR = resolve(import.meta.dirname, '../../../../tools/kinesalite');

export async function startKinesalite(): Promise<{ port: number; close(): Promise<void> }> {
  if (!existsSync(join(KINESALITE_DIR, 'node_modules', 'kinesalite'))) {
    throw new Error(`kinesalite is not installed: npm install --prefix ${KINESALITE_DIR} (npm test does)`);
  }
  const require = createRequire(join(KINESALITE_DIR, 'package.json'));
  const kinesalite = require('kinesalite') as (o: object) => Server;
  const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return { port, close: () => new Promise((r) => server.close(() => r())) };
}

export function kinesisClient(port: number): KinesisClient {
  return new KinesisClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    requestHandler: new NodeHttpHandler(),
  });
}

export async function createStream(client: KinesisClient, name: string, shards: number): Promise<void> {
  await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  await waitFor(
    async () =>
      (await client.send(new DescribeStreamCommand({ StreamName: name }))).StreamDescription?.StreamStatus ===
      'ACTIVE',
    `Kinesis stream ${name} to be active`,
    5000,
  );
}

/** Every record of every shard, in shard order, via GetRecords. */
export async function readStream(
  client: KinesisClient,
  name: string,
): Promise<{ shard: string; partitionKey: string; data: Buffer }[]> {
  const d = await client.send(new DescribeStreamCommand({ StreamName: name }));
  const out: { shard: string; partitionKey: string; data: Buffer }[] = [];
  for (const shard of d.StreamDescription?.Shards ?? []) {
    let it = (
      await client.send(
        new GetShardIteratorCommand({
          StreamName: name,
          ShardId: shard.ShardId!,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      )
    ).ShardIterator;
    while (it) {
      const r = await client.send(new GetRecordsCommand({ ShardIterator: it, Limit: 1000 }));
      for (const rec of r.Records ?? [])
        out.push({ shard: shard.ShardId!, partitionKey: rec.PartitionKey!, data: Buffer.from(rec.Data!) });
      if (!r.Records?.length) break;
      it = r.NextShardIterator;
    }
  }
  return out;
}

/** Forwards 127.0.0.1:port → target; `down()` refuses connections and cuts open ones. */
export async function startProxy(targetPort: number) {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const up = async () => {
    server = createServer((client) => {
      const upstream = tcpConnect(targetPort, '127.0.0.1');
      sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
    await new Promise<void>((r) => server!.listen(port, '127.0.0.1', () => r()));
    port = (server.address() as { port: number }).port;
  };
  await up();
  return {
    get port() {
      return port;
    },
    up,
    down: async () => {
      for (const s of sockets) s.destroy();
      sockets.clear();
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
      server = undefined;
    },
  };
}

export interface PutRecordsSeen {
  /** The records of the request as the client sent it, in order. */
  records: { partitionKey: string; data: Buffer }[];
  /** Indexes the proxy marked failed (not stored). */
  failed: number[];
}

interface PutRecordsOutput {
  FailedRecordCount: number;
  Records: Record<string, string>[];
}

/** Splices throttling failures at `failed` indexes between the entries of the records stored. */
function withFailures(out: PutRecordsOutput, failed: number[]): PutRecordsOutput {
  const stored = [...out.Records];
  const total = stored.length + failed.length;
  return {
    FailedRecordCount: out.FailedRecordCount + failed.length,
    Records: Array.from({ length: total }, (_, i) =>
      failed.includes(i)
        ? {
            ErrorCode: 'ProvisionedThroughputExceededException',
            ErrorMessage: 'Rate exceeded for shard shardId-000000000000 in stream samples.',
          }
        : stored.shift()!,
    ),
  };
}

/**
 * An HTTP proxy on 127.0.0.1 in front of kinesalite that records every
 * PutRecords request and, for the requests `failOn` names (by their order
 * among PutRecords calls), fails the records at the given indexes the way
 * Kinesis does: it forwards the request without them, then splices
 * `ProvisionedThroughputExceededException` entries into kinesalite's real
 * response at their indexes and raises `FailedRecordCount`.
 */
export async function startFaultProxy(targetPort: number, failOn: Map<number, number[]>) {
  const seen: PutRecordsSeen[] = [];
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      let failed: number[] = [];
      const isPut = String(req.headers['x-amz-target']).endsWith('.PutRecords');
      if (isPut) {
        const request = JSON.parse(body.toString()) as { Records: { Data: string; PartitionKey: string }[] };
        failed = failOn.get(seen.length) ?? [];
        seen.push({
          records: request.Records.map((r) => ({
            partitionKey: r.PartitionKey,
            data: Buffer.from(r.Data, 'base64'),
          })),
          failed,
        });
        if (failed.length) {
          request.Records = request.Records.filter((_, i) => !failed.includes(i));
          body = Buffer.from(JSON.stringify(request));
        }
      }
      if (failed.length && seen.at(-1)!.records.length === failed.length) {
        // Every record fails: kinesalite refuses an empty PutRecords, so answer without it.
        const answer = Buffer.from(
          JSON.stringify(withFailures({ FailedRecordCount: 0, Records: [] }, failed)),
        );
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'content-length': answer.length });
        res.end(answer);
        return;
      }
      const headers = { ...req.headers, 'content-length': String(body.length) };
      const upstream = httpRequest(
        { host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers },
        (up) => {
          const parts: Buffer[] = [];
          up.on('data', (c: Buffer) => parts.push(c));
          up.on('end', () => {
            let answer = Buffer.concat(parts);
            if (failed.length && up.statusCode === 200) {
              answer = Buffer.from(JSON.stringify(withFailures(JSON.parse(answer.toString()), failed)));
            }
            const { 'transfer-encoding': _te, ...rest } = up.headers;
            res.writeHead(up.statusCode ?? 502, { ...rest, 'content-length': String(answer.length) });
            res.end(answer);
          });
        },
      );
      upstream.on('error', () => res.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as { port: number }).port,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** The reference messages only (numbers and types from the public table); no openqoe field. */
const REFERENCE_PROTO = `syntax = "proto2";
package reference;
message Timestamp { optional int64 seconds = 1; optional int32 nanos = 2; }
message Source { optional string hostname = 1; optional bytes ip = 2; optional string host_id = 3; }
message Metric {
  enum Type { UNKNOWN = 0; START_LATENCY_MS = 1; EXIT_BEFORE_VIDEO_START = 2; WATCH_DURATION_MS = 3;
    SEEK_LATENCY_MS = 4; REBUFFER_DURATION_MS = 5; REBUFFER_COUNT = 6; PLAYBACK_ERROR = 7; TOTAL_BITS = 8; }
  optional Type type = 1; optional int64 value = 2;
}
message Record { optional Timestamp start = 1; optional uint32 duration_ms = 2; repeated Metric metrics = 3; }
message Sample {
  optional bytes view_id_raw = 1; optional bytes ip_raw = 2; optional uint32 ip_mask = 3;
  optional uint64 customer_id = 4; repeated Record records = 5; optional Source source = 6;
  optional string view_id = 7; optional string ip = 8; optional int64 asn = 9;
  optional string viewer_os_family = 10; optional string viewer_os_version = 11;
  optional string player_source_stream_type = 12; optional string player_name = 13;
  optional string viewer_device_category = 14; optional bool view_has_ad = 15;
  optional bool video_startup_failure = 16; optional bool exit_before_video_start = 17;
  optional string sub_property_id = 18; optional string stream_type = 19;
  optional string view_session_id = 20; optional string player_error_code = 21;
  optional Source previous_source = 22;
}
message Samples { repeated Sample samples = 1; }
`;

type TextNode = { [k: string]: (string | TextNode)[] };

function push(node: TextNode, key: string, value: string | TextNode): void {
  const list = node[key] ?? [];
  list.push(value);
  node[key] = list;
}

/** Parses protoc's text format output (nested `name { … }` blocks and `name: value` lines). */
function parseText(text: string): TextNode {
  const root: TextNode = {};
  const stack: TextNode[] = [root];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const top = stack[stack.length - 1]!;
    if (line === '}') stack.pop();
    else if (line.endsWith('{')) {
      const child: TextNode = {};
      const name = line.slice(0, -1).trim();
      push(top, name, child);
      stack.push(child);
    } else {
      const i = line.indexOf(':');
      const value = line
        .slice(i + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1');
      push(top, line.slice(0, i), value);
    }
  }
  return root;
}

export interface ReferenceDecoded {
  records: ExpectedRecord[];
  /** Field names protoc printed at the top of each sample (unknown fields appear as numbers). */
  sampleFields: string[][];
  /** Each sample's reference scalar fields as protoc printed them, keyed by view and first record. */
  samples: Map<string, Record<string, string>>;
}

/** The key under which a sample is compared across encodings. */
export const sampleKey = (viewId: string, firstStartSeconds: string, firstDurationMs: number) =>
  `${viewId}|${firstStartSeconds}|${firstDurationMs}`;

/** Decodes `Samples` payloads with protoc and the reference-only schema. */
export function decodeWithProtoc(payloads: Buffer[]): ReferenceDecoded {
  const dir = mkdtempSync(join(tmpdir(), 'openqoe-ref-proto-'));
  writeFileSync(join(dir, 'reference.proto'), REFERENCE_PROTO);
  const records: ExpectedRecord[] = [];
  const sampleFields: string[][] = [];
  const samples = new Map<string, Record<string, string>>();
  // Tests call this while polling: the schema's directory goes as soon as protoc has read it.
  let texts: string[];
  try {
    texts = payloads.map((p) =>
      execFileSync('protoc', ['-I', dir, '--decode=reference.Samples', 'reference.proto'], {
        input: p,
      }).toString(),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  for (const text of texts) {
    const root = parseText(text);
    for (const s of (root['samples'] ?? []) as TextNode[]) {
      sampleFields.push(Object.keys(s));
      const scalars: Record<string, string> = {};
      for (const [k, v] of Object.entries(s)) {
        if (/^[a-z_]+$/.test(k) && typeof v[0] === 'string') scalars[k] = v[0];
      }
      const source = s['source']?.[0] as TextNode | undefined;
      if (source?.['hostname']) scalars['source.hostname'] = source['hostname'][0] as string;
      const first = s['records']?.[0] as TextNode | undefined;
      const firstStart = (first?.['start']?.[0] as TextNode | undefined)?.['seconds']?.[0] as string;
      samples.set(
        sampleKey(s['view_id']?.[0] as string, firstStart ?? '0', Number(first?.['duration_ms']?.[0] ?? 0)),
        scalars,
      );
      const viewId = s['view_id']?.[0] as string;
      for (const r of (s['records'] ?? []) as TextNode[]) {
        const start = (r['start']?.[0] ?? {}) as TextNode;
        const metrics: Record<string, number> = {};
        for (const m of (r['metrics'] ?? []) as TextNode[]) {
          metrics[m['type']?.[0] as string] = Number(m['value']?.[0] ?? 0);
        }
        records.push({
          view_id: viewId,
          start_ms:
            Number(start['seconds']?.[0] ?? 0) * 1000 + Math.round(Number(start['nanos']?.[0] ?? 0) / 1e6),
          duration_ms: Number(r['duration_ms']?.[0] ?? 0),
          metrics,
        });
      }
    }
  }
  return { records, sampleFields, samples };
}
