/**
 * Datadog logs: `POST https://http-intake.logs.{site}/api/v2/logs` with
 * `DD-API-KEY`; the body is a JSON array of log entries. Each entry carries
 * ddsource, ddtags, hostname, service, a short `message`, the event time as
 * `timestamp` (ms, which Datadog's date remapper reads) and the envelope's
 * fields as attributes. Limits: ≤ 1000 entries, ≤ 5 MB uncompressed per
 * request, ≤ 1 MB per entry; gzip accepted.
 */
import type { BatchLimits, Destination, HttpRequest } from '../destination.js';
import { encodeBody, postHttp } from '../http-post.js';

export interface DatadogLogsSettings {
  url: string;
  apiKey: string;
  hostname: string;
  service: string;
  ddsource: string;
  tags: string[];
  compression: 'gzip' | 'none';
  requestTimeoutMs: number;
}

export const DATADOG_LOGS_LIMITS: BatchLimits = {
  maxEvents: 1000,
  // 5 MB is the limit for the whole payload; each entry adds ~200 bytes of its own fields.
  maxBytes: 4_500_000,
  maxRecordBytes: 1_000_000,
};

export const datadogLogsUrl = (site: string) => `https://http-intake.logs.${site}/api/v2/logs`;

/** Entry fields go first, then the envelope's own (its text is embedded, not re-serialised). */
export function buildDatadogLogsRequest(s: DatadogLogsSettings, records: readonly string[]): HttpRequest {
  const entries = records.map((r) => {
    const type = /"event":\{"type":"([^"]*)"/.exec(r)?.[1] ?? 'event';
    const env = /"environment_id":"([^"]*)"/.exec(r)?.[1] ?? '';
    const ts = /"timestamp":(\d+)/.exec(r)?.[1] ?? String(Date.now());
    const tags = [`env:${env}`, `event_type:${type}`, ...s.tags].join(',');
    const head =
      `{"ddsource":${JSON.stringify(s.ddsource)},"ddtags":${JSON.stringify(tags)},` +
      `"hostname":${JSON.stringify(s.hostname)},"service":${JSON.stringify(s.service)},` +
      `"message":${JSON.stringify(`player ${type}`)},"timestamp":${ts},`;
    return head + r.slice(1);
  });
  return {
    url: s.url,
    headers: { 'DD-API-KEY': s.apiKey, 'Content-Type': 'application/json' },
    body: Buffer.from(`[${entries.join(',')}]`),
  };
}

export function datadogLogsDestination(s: DatadogLogsSettings): Destination {
  return {
    limits: DATADOG_LOGS_LIMITS,
    send: (records, signal) =>
      postHttp(encodeBody(buildDatadogLogsRequest(s, records), s.compression), s.requestTimeoutMs, signal),
  };
}
