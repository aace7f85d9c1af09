/** Configuration of the monitoring samples stream (`monitoring` in the config file). */
import { type Static, Type } from '@sinclair/typebox';
import { int, oneOf, section, str, text } from './config-keys.js';
import { deliveryKeys } from './delivery-config.js';

const MiB = 1024 * 1024;

const common = {
  name: Type.String({
    minLength: 1,
    maxLength: 64,
    pattern: '^[A-Za-z0-9_-]+$',
    description: 'Unique sink name (labels its counters; names its buffer directory)',
  }),
  format: oneOf(
    ['json', 'protobuf'],
    'protobuf',
    'Payload encoding: protobuf (proto2 Samples) or json (canonical protobuf JSON mapping)',
  ),
  ...deliveryKeys({ bufferMaxBytes: 1024 * MiB, bufferMinBytes: 1024, retryMaxBackoffMs: 30_000 }),
};

/** A sink: its `type`, the keys every sink has, and its own. */
const sink = <T extends string, P extends Parameters<typeof Type.Object>[0]>(type: T, own: P) =>
  Type.Object({ type: Type.Literal(type), ...common, ...own }, { additionalProperties: false });

export const KinesisSinkSchema = sink('kinesis', {
  streamName: text('Kinesis stream name', { minLength: 1 }),
  region: str('us-east-1', 'AWS region'),
  endpoint: str('', 'Endpoint URL override ("" for AWS)'),
  accessKeyId: str('', 'Access key id ("" for the default AWS credential chain)'),
  secretAccessKey: str('', 'Secret access key'),
});

export const NatsSinkSchema = sink('nats', {
  servers: str('nats://127.0.0.1:4222', 'NATS server URLs, comma-separated'),
  subject: str('openqoe.monitoring.samples', 'Subject published to (a JetStream stream must capture it)', {
    minLength: 1,
  }),
  stream: str('', 'If set, this JetStream stream is created on start when missing, capturing the subject'),
});

export const HttpSinkSchema = sink('http', {
  url: text('URL the payloads are POSTed to', { minLength: 1 }),
  headers: Type.Record(Type.String(), Type.String(), {
    default: {},
    description: 'Extra request headers (e.g. authorization)',
  }),
  timeoutMs: int({ minimum: 1, default: 10_000 }, 'Request timeout'),
});

export const FileSinkSchema = sink('file', {
  directory: text('Directory of the stream files', { minLength: 1 }),
  maxFileBytes: int(
    { minimum: 1024, default: 64 * MiB },
    'A file is rotated (a new one started) beyond this size',
  ),
  maxFiles: int({ minimum: 1, default: 10 }, 'Rotated files kept (oldest deleted)'),
});

export const SinkSchema = Type.Union([KinesisSinkSchema, NatsSinkSchema, HttpSinkSchema, FileSinkSchema]);

export const MonitoringConfigSchema = section({
  intervalMs: int(
    { minimum: 100, default: 30_000 },
    'Window length; windows are aligned on epoch multiples of it, on event time',
  ),
  allowedLatenessMs: int(
    { minimum: 0, default: 15_000 },
    'A window is emitted this long after it ends (must exceed the collector heartbeat)',
  ),
  ebvsDelayMs: int(
    { minimum: 0, default: 60_000 },
    'Silence after which a view that never started is reported as an exit before video start',
  ),
  maxPayloadBytes: int(
    { minimum: 1024, maximum: MiB, default: 512 * 1024 },
    'Largest payload (a sample larger than this still goes alone); Kinesis allows 1 MiB',
  ),
  partitions: int(
    { minimum: 1, maximum: 4096, default: 64 },
    'Partition keys (hash buckets of the view id); all of a view’s samples use one',
  ),
  sinks: Type.Array(SinkSchema, { default: [], description: 'Where the stream goes; none: not computed' }),
});

export type MonitoringConfig = Static<typeof MonitoringConfigSchema>;
export type SinkConfig = Static<typeof SinkSchema>;
