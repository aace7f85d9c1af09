/**
 * Datadog logs: `POST https://http-intake.logs.{site}/api/v2/logs` with
 * `DD-API-KEY`; the body is a JSON array of log entries. Each entry carries
 * ddsource, ddtags, hostname, service, a short `message`, the event time as
 * `timestamp` (ms, which Datadog's date remapper reads) and the envelope's
 * fields as attributes. Limits: ≤ 1000 entries, ≤ 5 MB uncompressed per
 * request, ≤ 1 MB per entry; gzip accepted.
 */
import { hostname } from 'node:os';
import { type ConnectorModule, postEach, secret } from '../connector-settings.js';

export const datadogLogs: ConnectorModule = {
  // 5 MB is the limit for the whole payload; each entry adds ~200 bytes of its own fields.
  limits: { maxEvents: 1000, maxBytes: 4_500_000, maxRecordBytes: 1_000_000 },
  create(c, { key, env }) {
    const url = c.url ?? `https://http-intake.logs.${c.site}/api/v2/logs`;
    const source = `{"ddsource":${JSON.stringify(c.source)},"ddtags":`;
    const host = `,"hostname":${JSON.stringify(c.host ?? hostname())},"service":${JSON.stringify(c.service)},"message":`;
    const headers = { 'DD-API-KEY': secret(c, 'apiKey', key, env) };
    // Entry fields go first, then the envelope's own (its text is embedded, not re-serialised).
    return postEach(c, { url, headers, compression: 'gzip' }, (envelopes) => {
      const entries = envelopes.map((e) => {
        const type = /"event":\{"type":"([^"]*)"/.exec(e)?.[1] ?? 'event';
        const env = /"environment_id":"([^"]*)"/.exec(e)?.[1] ?? '';
        const ts = /"timestamp":(\d+)/.exec(e)?.[1] ?? String(Date.now());
        const tags = [`env:${env}`, `event_type:${type}`, ...c.tags].join(',');
        return `${source}${JSON.stringify(tags)}${host}${JSON.stringify(`player ${type}`)},"timestamp":${ts},${e.slice(1)}`;
      });
      return `[${entries.join(',')}]`;
    });
  },
};
