/**
 * New Relic events: `POST https://insights-collector.newrelic.com/v1/accounts/{account}/events`
 * (EU: insights-collector.eu01.nr-data.net) with `Api-Key` (license key) or
 * `X-Insert-Key`; the body is a JSON array of flat events, each with
 * `eventType`, `timestamp` and attributes. New Relic takes no nested
 * objects, so envelope sections become dotted names (`device.browser_name`)
 * and arrays are dropped. ≤ 1 MB per POST (gzip accepted), ≤ 255 attributes
 * per event.
 */
import type { BatchLimits, Destination, HttpRequest } from '../destination.js';
import { encodeBody, postHttp } from '../http-post.js';

export interface NewRelicSettings {
  url: string;
  apiKey: string;
  keyHeader: 'Api-Key' | 'X-Insert-Key';
  eventType: string;
  compression: 'gzip' | 'none';
  requestTimeoutMs: number;
}

/** 1 MB is the limit on the (compressed) POST; counting uncompressed bytes keeps well inside it. */
export const NEW_RELIC_LIMITS: BatchLimits = {
  maxEvents: 1000,
  maxBytes: 1_000_000,
  maxRecordBytes: 500_000,
};

const MAX_ATTRIBUTES = 254;

export const newRelicUrl = (accountId: string, region: string) =>
  `https://${region === 'eu' ? 'insights-collector.eu01.nr-data.net' : 'insights-collector.newrelic.com'}/v1/accounts/${accountId}/events`;

type Flat = Record<string, string | number | boolean>;

function flatten(value: unknown, prefix: string, out: Flat): void {
  if (value === null || value === undefined || Array.isArray(value)) return;
  if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>))
      flatten(v, prefix ? `${prefix}.${k}` : k, out);
    return;
  }
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    out[prefix] = value;
}

export function newRelicEvent(eventType: string, envelope: string): Flat {
  const parsed = JSON.parse(envelope) as { event: { timestamp: number; type: string } };
  const out: Flat = { eventType, timestamp: parsed.event.timestamp };
  const flat: Flat = {};
  flatten(parsed, '', flat);
  let n = 0;
  for (const [k, v] of Object.entries(flat)) {
    if (k === 'event.timestamp') continue;
    if (++n > MAX_ATTRIBUTES) break;
    out[k] = v;
  }
  return out;
}

export function buildNewRelicRequest(s: NewRelicSettings, records: readonly string[]): HttpRequest {
  return {
    url: s.url,
    headers: { [s.keyHeader]: s.apiKey, 'Content-Type': 'application/json' },
    body: Buffer.from(JSON.stringify(records.map((r) => newRelicEvent(s.eventType, r)))),
  };
}

export function newRelicDestination(s: NewRelicSettings): Destination {
  return {
    limits: NEW_RELIC_LIMITS,
    send: (records, signal) =>
      postHttp(encodeBody(buildNewRelicRequest(s, records), s.compression), s.requestTimeoutMs, signal),
  };
}
