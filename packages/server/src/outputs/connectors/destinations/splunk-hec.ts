/**
 * Splunk HTTP Event Collector: `POST {url}/services/collector/event` with
 * `Authorization: Splunk <token>`; the body is HEC event objects written one
 * after another (no array, no separator needed), each with `time` in epoch
 * seconds (fractional), host, source, sourcetype, optional index, and the
 * envelope as `event`. HEC accepts gzip; 503 means busy (retried).
 */
import { hostname } from 'node:os';
import { type ConnectorModule, postEach, required, secret } from '../connector-settings.js';

export const splunkHec: ConnectorModule = {
  // HEC's max_content_length was 1 MB by default in older releases; the HEC wrapper adds ~120 bytes per event.
  limits: { maxEvents: 1000, maxBytes: 800_000, maxRecordBytes: 700_000 },
  create(c, { key, env }) {
    const url = `${required(c, 'url', key).replace(/\/+$/, '')}/services/collector/event`;
    const authorization = `Splunk ${secret(c, 'token', key, env)}`;
    const meta =
      `,"host":${JSON.stringify(c.host ?? hostname())},"source":${JSON.stringify(c.source)},` +
      `"sourcetype":${JSON.stringify(c.sourcetype)}${c.index ? `,"index":${JSON.stringify(c.index)}` : ''}`;
    // The envelope text is embedded as is: no parse and re-serialise per event.
    return postEach(c, { url, headers: { Authorization: authorization }, compression: 'gzip' }, (envelopes) =>
      envelopes.map((e) => `{"time":${epochSeconds(e)}${meta},"event":${e}}`).join(''),
    );
  },
};

/** The envelope's event timestamp (ms) as HEC's fractional epoch seconds. */
function epochSeconds(envelope: string): string {
  const m = /"timestamp":(\d+(?:\.\d+)?)/.exec(envelope);
  const ms = m ? Number(m[1]) : Date.now();
  return (ms / 1000).toFixed(3);
}
