/**
 * Scale-out settings: which part of openqoe this process runs and, when the
 * parts run as separate processes, the NATS JetStream bus that joins them
 * (docs/deploy.md). The defaults are the embedded single process.
 */
import { Type } from '@sinclair/typebox';

const HOUR_MS = 3_600_000;

export const ROLES = ['all', 'ingest', 'pipeline', 'api'] as const;
export type Role = (typeof ROLES)[number];

export const ClusterConfigSchema = Type.Object(
  {
    role: Type.Union(
      ROLES.map((r) => Type.Literal(r)),
      {
        default: 'all',
        description:
          'What this process runs: all (intake, pipeline, store, APIs), ingest (intake only), pipeline (view model, monitoring stream, connectors), api (store writer and query APIs); roles other than all need a NATS bus',
      },
    ),
    bus: Type.String({
      default: '',
      pattern: '^(|nats://.+)$',
      description:
        'Empty: the embedded log in the data dir. nats://host:port[,nats://…]: NATS JetStream between the roles',
    }),
    partitions: Type.Integer({
      minimum: 1,
      maximum: 1024,
      default: 8,
      description:
        'Partitions of the beacon stream (views are assigned by a hash of their id); the same on every node',
    }),
    ownPartitions: Type.String({
      default: '',
      pattern: '^(|\\d+(-\\d+)?(,\\d+(-\\d+)?)*)$',
      description:
        'Pipeline role: the partitions this worker consumes, e.g. 0-3 or 0,2,4 (empty: all of them)',
    }),
    streamPrefix: Type.String({
      default: 'OPENQOE',
      pattern: '^[A-Za-z0-9_-]+$',
      description: 'Prefix of the JetStream stream names (<prefix>_BEACONS, <prefix>_STORE) and subjects',
    }),
    beaconRetentionMs: Type.Integer({
      minimum: 60_000,
      default: 6 * HOUR_MS,
      description:
        'How long the beacon stream keeps messages: a restarted worker rebuilds its views from them, so keep it above pipeline.dedupeRetentionMs',
    }),
    realtimeReplyTimeoutMs: Type.Integer({
      minimum: 50,
      maximum: 60_000,
      default: 1000,
      description:
        'Api role: how long a filtered real-time query asked for the first time waits for every pipeline worker to answer; past it the query answers 503 (QOE_ERR_REALTIME_INCOMPLETE) rather than a partial number',
    }),
    storeRetentionMs: Type.Integer({
      minimum: 60_000,
      default: 24 * HOUR_MS,
      description: 'How long the stream of rows for the store writer keeps messages',
    }),
  },
  { additionalProperties: false, default: {} },
);
