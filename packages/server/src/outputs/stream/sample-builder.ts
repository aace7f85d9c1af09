/**
 * Builds the stream's messages: one `Sample` per view with its due records,
 * and payloads (`Samples`) of many samples, bounded in size, encoded as
 * protobuf or as the canonical protobuf JSON mapping with the proto's field
 * names. Only fields with a value are set, so the JSON omits defaults.
 */
import { createHash } from 'node:crypto';
import { create, toBinary, toJsonString } from '@bufbuild/protobuf';
import { monitoring as pb } from '@openqoe/schema';
import type { ActiveView } from '../../pipeline/view-model/active-views.js';
import { metricEntries, type StreamMetric, VIEW_METRICS } from '../../pipeline/view-model/view-metrics.js';
import type { InstantRecord, WindowTotals } from './window-tracker.js';

export type StreamFormat = 'json' | 'protobuf';

/** `customer_id` is numeric in the reference: the first 48 bits of the SHA-256 of the environment id. */
const customerIds = new Map<string, bigint>();
export function customerIdOf(envId: string): bigint {
  let id = customerIds.get(envId);
  if (id === undefined) {
    id = BigInt(`0x${createHash('sha256').update(envId).digest('hex').slice(0, 12)}`);
    if (customerIds.size > 10_000) customerIds.clear();
    customerIds.set(envId, id);
  }
  return id;
}

/** The partition a view's samples always go to: a hash bucket of its id, so its records stay in order. */
export function partitionOf(viewId: string, buckets: number): number {
  return createHash('sha256').update(viewId).digest().readUInt32BE(0) % buckets;
}

const T = pb.Metric_Type;

function metric(type: pb.Metric_Type, value: number): pb.Metric {
  return create(pb.MetricSchema, { type, value: BigInt(Math.round(value)) });
}

function timestamp(ms: number): pb.Timestamp {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.round((ms - seconds * 1000) * 1e6);
  // proto2: a zero `nanos` is left unset, not sent as 0.
  return create(pb.TimestampSchema, { seconds: BigInt(seconds), ...(nanos ? { nanos } : {}) });
}

/** A window's value of each stream metric, in the record's order; undefined: none in this window. */
const WINDOW_VALUES: Record<StreamMetric, (t: WindowTotals) => number | undefined> = {
  START_LATENCY_MS: (t) => t.startLatencyMs,
  WATCH_DURATION_MS: (t) => (t.watchMs > 0 ? t.watchMs : undefined),
  REBUFFER_DURATION_MS: (t) => (t.rebufferMs > 0 ? t.rebufferMs : undefined),
  REBUFFER_COUNT: (t) => (t.rebufferCount > 0 ? t.rebufferCount : undefined),
  SEEK_LATENCY_MS: (t) => (t.seekCount > 0 ? t.seekTotalMs / t.seekCount : undefined),
};
/** The stream metrics that carry a metric of the catalog. */
const STREAMED = new Set(metricEntries(VIEW_METRICS).map(([, e]) => e.stream));
const WINDOW_METRICS = (Object.keys(WINDOW_VALUES) as StreamMetric[]).filter((k) => STREAMED.has(k));

/** A window's record; undefined when no metric has a value (no metric → no record). */
export function windowRecord(startMs: number, durationMs: number, t: WindowTotals): pb.Record | undefined {
  const metrics = WINDOW_METRICS.flatMap((k) => {
    const v = WINDOW_VALUES[k](t);
    return v === undefined ? [] : [metric(T[k], v)];
  });
  if (metrics.length === 0) return undefined;
  return create(pb.RecordSchema, { start: timestamp(startMs), durationMs, metrics });
}

export function instantRecord(r: InstantRecord): pb.Record {
  const type = r.kind === 'playback_error' ? T.PLAYBACK_ERROR : T.EXIT_BEFORE_VIDEO_START;
  return create(pb.RecordSchema, {
    start: timestamp(r.atMs),
    durationMs: 0,
    metrics: [metric(type, r.valueMs)],
  });
}

type Init = { [k: string]: unknown };
/** Sets a field only when it carries something (proto2 presence: unset fields stay off the wire). */
function put(init: Init, key: string, value: string | number | boolean | bigint | undefined): void {
  if (value === undefined || value === '' || value === 0 || value === false || value === 0n) return;
  init[key] = value;
}

function withScheme(host: string): string {
  return /^[a-z]+:\/\//i.test(host) ? host : `https://${host}`;
}

export function sampleOf(view: ActiveView, records: pb.Record[], exitedBeforeStart: boolean): pb.Sample {
  const d = view.dims;
  const c = view.client;
  const m = view.machine;
  const init: Init = { customerId: customerIdOf(view.envId), viewId: view.viewId, records };
  if (d?.cdnHost) init['source'] = create(pb.SourceSchema, { hostname: withScheme(d.cdnHost) });
  put(init, 'ip', c.ip);
  put(init, 'asn', c.asn ? BigInt(c.asn) : undefined);
  put(init, 'viewerOsFamily', c.os);
  put(init, 'viewerOsVersion', c.osVersion);
  put(init, 'playerName', d?.playerName);
  put(init, 'viewerDeviceCategory', c.deviceCategory === 'unknown' ? '' : c.deviceCategory);
  put(init, 'viewHasAd', m.adMs > 0);
  put(init, 'videoStartupFailure', m.failed && m.failedBeforeStart);
  put(init, 'exitBeforeVideoStart', exitedBeforeStart);
  put(init, 'subPropertyId', d?.subPropertyId);
  put(init, 'streamType', d?.streamType);
  put(init, 'viewSessionId', d?.sessionId);
  put(init, 'playerErrorCode', m.failed ? m.errorCode : '');
  put(init, 'environmentId', view.envId);
  put(init, 'videoId', d?.videoId);
  put(init, 'videoTitle', d?.videoTitle);
  put(init, 'cdn', d?.cdnProvider);
  put(init, 'country', c.country);
  put(init, 'region', c.region);
  put(init, 'city', c.city);
  put(init, 'browser', c.browser);
  put(init, 'browserVersion', c.browserVersion);
  put(init, 'playerSoftware', d?.playerSoftware);
  put(init, 'playerSoftwareVersion', d?.playerVersion);
  put(init, 'streamFormat', d?.streamFormat);
  put(init, 'videoBitrateBps', d?.videoBitrateBps ? BigInt(d.videoBitrateBps) : undefined);
  put(init, 'videoWidth', d?.videoWidth);
  put(init, 'videoHeight', d?.videoHeight);
  return create(pb.SampleSchema, init as Parameters<typeof create<typeof pb.SampleSchema>>[1]);
}

export interface Payload {
  partitionKey: string;
  body: Buffer;
  samples: number;
  records: number;
}

/** A protobuf base-128 varint (also the length prefix of delimited files). */
export function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}

/** A sample as one element of `Samples.samples` (field 1, wire type 2), or as a JSON array element. */
export function encodeSample(sample: pb.Sample, format: StreamFormat): Buffer {
  if (format === 'json')
    return Buffer.from(toJsonString(pb.SampleSchema, sample, { useProtoFieldName: true }));
  const bytes = toBinary(pb.SampleSchema, sample);
  return Buffer.concat([Buffer.from([0x0a]), varint(bytes.length), bytes]);
}

const JSON_HEAD = Buffer.from('{"samples":[');
const JSON_TAIL = Buffer.from(']}');
const COMMA = Buffer.from(',');

/**
 * Packs samples of one partition into payloads of at most `maxBytes` (a
 * single sample larger than that still goes, alone). A protobuf payload is
 * the concatenation of its encoded elements, which is exactly `Samples`.
 */
export function packPayloads(
  partitionKey: string,
  encoded: { bytes: Buffer; records: number }[],
  format: StreamFormat,
  maxBytes: number,
): Payload[] {
  const out: Payload[] = [];
  let parts: Buffer[] = [];
  let size = 0;
  let records = 0;
  const overhead = format === 'json' ? JSON_HEAD.length + JSON_TAIL.length : 0;
  const flush = () => {
    if (parts.length === 0) return;
    const body =
      format === 'json'
        ? Buffer.concat([JSON_HEAD, ...parts.flatMap((p, i) => (i ? [COMMA, p] : [p])), JSON_TAIL])
        : Buffer.concat(parts);
    out.push({ partitionKey, body, samples: parts.length, records });
    parts = [];
    size = 0;
    records = 0;
  };
  for (const e of encoded) {
    const add = e.bytes.length + (format === 'json' && parts.length ? 1 : 0);
    if (parts.length && overhead + size + add > maxBytes) flush();
    size += e.bytes.length + (format === 'json' && parts.length ? 1 : 0);
    parts.push(e.bytes);
    records += e.records;
  }
  flush();
  return out;
}
