/**
 * New Relic events: `POST https://insights-collector.newrelic.com/v1/accounts/{account}/events`
 * (EU: insights-collector.eu01.nr-data.net) with `Api-Key` (license key) or
 * `X-Insert-Key`; the body is a JSON array of flat events, each with
 * `eventType`, `timestamp` and attributes. New Relic takes no nested
 * objects, so envelope sections become dotted names (`device.browser_name`)
 * and arrays are dropped. ≤ 1 MB per POST (gzip accepted), ≤ 255 attributes
 * per event.
 */
import {
  ConnectorConfigError,
  type ConnectorModule,
  postEach,
  required,
  secret,
} from '../connector-settings.js';

const MAX_ATTRIBUTES = 254;

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

export const newRelic: ConnectorModule = {
  // 1 MB is the limit on the (compressed) POST; counting uncompressed bytes keeps well inside it.
  limits: { maxEvents: 1000, maxBytes: 1_000_000, maxRecordBytes: 500_000 },
  create(c, { key, env }) {
    const region = c.region ?? 'us';
    if (region !== 'us' && region !== 'eu')
      throw new ConnectorConfigError(`${key}.region: must be "us" or "eu" for type "new_relic"`);
    const host = region === 'eu' ? 'insights-collector.eu01.nr-data.net' : 'insights-collector.newrelic.com';
    const url = c.url ?? `https://${host}/v1/accounts/${required(c, 'accountId', key)}/events`;
    const headers = { [c.keyHeader]: secret(c, 'apiKey', key, env) };
    return postEach(c, { url, headers, compression: 'gzip' }, (envelopes) =>
      JSON.stringify(envelopes.map((e) => newRelicEvent(c.eventType, e))),
    );
  },
};
