/**
 * The `connectors` section: a list of destinations that receive enriched
 * player events (docs/connectors.md). One flat object per connector, so a bad
 * key is named precisely by the loader; what each destination requires
 * (url, token, …) is checked when the connectors are built, with the same
 * kind of message (`connectors[0].url: is required for type "webhook"`).
 */
import { type Static, Type } from '@sinclair/typebox';
import { int, num, oneOf, str, text } from './config-keys.js';
import { deliveryKeys } from './delivery-config.js';

export const CONNECTOR_TYPES = [
  'splunk_hec',
  'datadog_logs',
  'datadog_metrics',
  'new_relic',
  'firehose',
  'webhook',
] as const;
export type ConnectorType = (typeof CONNECTOR_TYPES)[number];

/** Secrets never sit in the config file: it names where to read them. */
export const SecretRefSchema = Type.Object(
  {
    env: Type.Optional(text('Environment variable holding the secret', { minLength: 1 })),
    file: Type.Optional(text('File holding the secret (surrounding whitespace ignored)', { minLength: 1 })),
  },
  { additionalProperties: false, description: 'Where to read a secret: {"env": NAME} or {"file": PATH}' },
);
export type SecretRef = Static<typeof SecretRefSchema>;

const MiB = 1024 * 1024;

export const ConnectorConfigSchema = Type.Object(
  {
    name: text('Unique name: buffer directory, metric label and log prefix', {
      pattern: '^[a-z0-9][a-z0-9_-]{0,62}$',
    }),
    type: Type.Union(
      CONNECTOR_TYPES.map((t) => Type.Literal(t)),
      { description: 'Destination kind' },
    ),
    enabled: Type.Boolean({ default: true }),
    eventTypes: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description: 'Envelope event types to send (e.g. "rendition_change"); empty for all',
    }),
    environments: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description: 'Environment ids to send; empty for all',
    }),
    sampleRate: num(
      { minimum: 0, maximum: 1, default: 1 },
      'Share of views sent (decided per view, so a sampled view is complete)',
    ),
    batchMaxEvents: Type.Optional(
      int({ minimum: 1 }, "Events per request (default and ceiling: the destination's)"),
    ),
    batchMaxBytes: Type.Optional(
      int({ minimum: 1024 }, "Uncompressed bytes per request (default and ceiling: the destination's)"),
    ),
    batchMaxDelayMs: int({ minimum: 0, default: 1000 }, 'Longest an event waits for its batch to fill'),
    compression: Type.Optional(
      Type.Union([Type.Literal('gzip'), Type.Literal('none')], {
        description: 'Request body encoding (default gzip where the destination accepts it)',
      }),
    ),
    requestTimeoutMs: Type.Integer({ minimum: 100, default: 30_000 }),
    ...deliveryKeys({ bufferMaxBytes: 256 * MiB, bufferMinBytes: 64 * 1024, retryMaxBackoffMs: 60_000 }),

    url: Type.Optional(
      text(
        'splunk_hec: base URL (https://splunk:8088); webhook: target; others: overrides the vendor endpoint',
        { minLength: 1 },
      ),
    ),
    token: Type.Optional(SecretRefSchema),
    apiKey: Type.Optional(SecretRefSchema),
    signingSecret: Type.Optional(SecretRefSchema),
    signatureHeader: str(
      'X-Openqoe-Signature',
      'webhook: header carrying "sha256=<hex HMAC of the body as sent>"',
    ),
    headers: Type.Record(Type.String(), Type.String(), {
      default: {},
      description: 'webhook: extra request headers',
    }),
    index: Type.Optional(text('splunk_hec: target index', { minLength: 1 })),
    source: str('openqoe', 'splunk_hec source / datadog ddsource'),
    sourcetype: str('openqoe:player_event', 'splunk_hec sourcetype'),
    host: Type.Optional(text('splunk_hec host / datadog hostname (default: this host)')),
    site: str('datadoghq.com', 'datadog: site (datadoghq.eu, us5.datadoghq.com…)'),
    service: str('openqoe', 'datadog: service'),
    tags: Type.Array(Type.String(), { default: [], description: 'datadog: extra tags (key:value)' }),
    metricsIntervalMs: int(
      { minimum: 100, default: 60_000 },
      'datadog_metrics: aggregation interval of the QoE series',
    ),
    accountId: Type.Optional(text('new_relic: account id', { pattern: '^[0-9]+$' })),
    region: Type.Optional(text('new_relic: "us" or "eu"; firehose: AWS region', { minLength: 1 })),
    keyHeader: oneOf(
      ['Api-Key', 'X-Insert-Key'],
      'Api-Key',
      'new_relic: license key (Api-Key) or insert key (X-Insert-Key)',
    ),
    eventType: str('OpenQoePlayerEvent', 'new_relic: eventType of the events', {
      pattern: '^[A-Za-z0-9_:]{1,255}$',
    }),
    deliveryStreamName: Type.Optional(text('firehose: delivery stream', { minLength: 1 })),
    accessKeyId: Type.Optional(SecretRefSchema),
    secretAccessKey: Type.Optional(SecretRefSchema),
  },
  { additionalProperties: false },
);
export type ConnectorConfig = Static<typeof ConnectorConfigSchema>;

export const ConnectorsConfigSchema = Type.Array(ConnectorConfigSchema, {
  default: [],
  description: 'Destinations for enriched player events (config file only; see docs/connectors.md)',
});
