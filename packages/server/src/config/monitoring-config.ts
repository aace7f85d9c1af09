/** Configuration of the monitoring samples stream (`monitoring` in the config file). */
import { type Static, Type } from '@sinclair/typebox';
import { deliveryKeys } from './delivery-config.js';

const MiB = 1024 * 1024;

const common = {
  name: Type.String({
    minLength: 1,
    maxLength: 64,
    pattern: '^[A-Za-z0-9_-]+$',
    description: 'Unique sink name (labels its counters; names its buffer directory)',
  }),
  format: Type.Union([Type.Literal('json'), Type.Literal('protobuf')], {
    default: 'protobuf',
    description: 'Payload encoding: protobuf (proto2 Samples) or json (canonical protobuf JSON mapping)',
  }),
  ...deliveryKeys({ bufferMaxBytes: 1024 * MiB, bufferMinBytes: 1024, retryMaxBackoffMs: 30_000 }),
};

export const KinesisSinkSchema = Type.Object(
  {
    type: Type.Literal('kinesis'),
    ...common,
    streamName: Type.String({ minLength: 1, description: 'Kinesis stream name' }),
    region: Type.String({ default: 'us-east-1', description: 'AWS region' }),
    endpoint: Type.String({ default: '', description: 'Endpoint URL override ("" for AWS)' }),
    accessKeyId: Type.String({
      default: '',
      description: 'Access key id ("" for the default AWS credential chain)',
    }),
    secretAccessKey: Type.String({ default: '', description: 'Secret access key' }),
  },
  { additionalProperties: false },
);

export const NatsSinkSchema = Type.Object(
  {
    type: Type.Literal('nats'),
    ...common,
    servers: Type.String({
      default: 'nats://127.0.0.1:4222',
      description: 'NATS server URLs, comma-separated',
    }),
    subject: Type.String({
      minLength: 1,
      default: 'openqoe.monitoring.samples',
      description: 'Subject published to (a JetStream stream must capture it)',
    }),
    stream: Type.String({
      default: '',
      description: 'If set, this JetStream stream is created on start when missing, capturing the subject',
    }),
  },
  { additionalProperties: false },
);

export const HttpSinkSchema = Type.Object(
  {
    type: Type.Literal('http'),
    ...common,
    url: Type.String({ minLength: 1, description: 'URL the payloads are POSTed to' }),
    headers: Type.Record(Type.String(), Type.String(), {
      default: {},
      description: 'Extra request headers (e.g. authorization)',
    }),
    timeoutMs: Type.Integer({ minimum: 1, default: 10_000, description: 'Request timeout' }),
  },
  { additionalProperties: false },
);

export const FileSinkSchema = Type.Object(
  {
    type: Type.Literal('file'),
    ...common,
    directory: Type.String({ minLength: 1, description: 'Directory of the stream files' }),
    maxFileBytes: Type.Integer({
      minimum: 1024,
      default: 64 * MiB,
      description: 'A file is rotated (a new one started) beyond this size',
    }),
    maxFiles: Type.Integer({ minimum: 1, default: 10, description: 'Rotated files kept (oldest deleted)' }),
  },
  { additionalProperties: false },
);

export const SinkSchema = Type.Union([KinesisSinkSchema, NatsSinkSchema, HttpSinkSchema, FileSinkSchema]);

export const MonitoringConfigSchema = Type.Object(
  {
    intervalMs: Type.Integer({
      minimum: 100,
      default: 30_000,
      description: 'Window length; windows are aligned on epoch multiples of it, on event time',
    }),
    allowedLatenessMs: Type.Integer({
      minimum: 0,
      default: 15_000,
      description: 'A window is emitted this long after it ends (must exceed the collector heartbeat)',
    }),
    ebvsDelayMs: Type.Integer({
      minimum: 0,
      default: 60_000,
      description: 'Silence after which a view that never started is reported as an exit before video start',
    }),
    maxPayloadBytes: Type.Integer({
      minimum: 1024,
      maximum: MiB,
      default: 512 * 1024,
      description: 'Largest payload (a sample larger than this still goes alone); Kinesis allows 1 MiB',
    }),
    partitions: Type.Integer({
      minimum: 1,
      maximum: 4096,
      default: 64,
      description: 'Partition keys (hash buckets of the view id); all of a view’s samples use one',
    }),
    sinks: Type.Array(SinkSchema, { default: [], description: 'Where the stream goes; none: not computed' }),
  },
  { additionalProperties: false, default: {} },
);

export type MonitoringConfig = Static<typeof MonitoringConfigSchema>;
export type SinkConfig = Static<typeof SinkSchema>;
