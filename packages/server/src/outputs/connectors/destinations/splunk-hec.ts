/**
 * Splunk HTTP Event Collector: `POST {url}/services/collector/event` with
 * `Authorization: Splunk <token>`; the body is HEC event objects written one
 * after another (no array, no separator needed), each with `time` in epoch
 * seconds (fractional), host, source, sourcetype, optional index, and the
 * envelope as `event`. HEC accepts gzip; 503 means busy (retried).
 */
import type { BatchLimits, Destination, HttpRequest } from '../destination.js';
import { encodeBody, postHttp } from '../http-post.js';

export interface SplunkHecSettings {
  url: string;
  token: string;
  host: string;
  source: string;
  sourcetype: string;
  index: string | undefined;
  compression: 'gzip' | 'none';
  requestTimeoutMs: number;
}

/** HEC's max_content_length was 1 MB by default in older releases; the HEC wrapper adds ~120 bytes per event. */
export const SPLUNK_HEC_LIMITS: BatchLimits = { maxEvents: 1000, maxBytes: 800_000, maxRecordBytes: 700_000 };

export function buildSplunkHecRequest(s: SplunkHecSettings, records: readonly string[]): HttpRequest {
  const head = `{"time":`;
  const meta =
    `,"host":${JSON.stringify(s.host)},"source":${JSON.stringify(s.source)},"sourcetype":${JSON.stringify(s.sourcetype)}` +
    (s.index ? `,"index":${JSON.stringify(s.index)}` : '');
  // The envelope text is embedded as is: no parse and re-serialise per event.
  const body = records.map((r) => `${head}${epochSeconds(r)}${meta},"event":${r}}`).join('');
  return {
    url: `${s.url.replace(/\/+$/, '')}/services/collector/event`,
    headers: { Authorization: `Splunk ${s.token}`, 'Content-Type': 'application/json' },
    body: Buffer.from(body),
  };
}

/** The envelope's event timestamp (ms) as HEC's fractional epoch seconds. */
function epochSeconds(envelope: string): string {
  const m = /"timestamp":(\d+(?:\.\d+)?)/.exec(envelope);
  const ms = m ? Number(m[1]) : Date.now();
  return (ms / 1000).toFixed(3);
}

export function splunkHecDestination(s: SplunkHecSettings): Destination {
  return {
    limits: SPLUNK_HEC_LIMITS,
    send: (records, signal) =>
      postHttp(encodeBody(buildSplunkHecRequest(s, records), s.compression), s.requestTimeoutMs, signal),
  };
}
