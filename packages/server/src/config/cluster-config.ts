/**
 * Scale-out settings: which part of openqoe this process runs and, when the
 * parts run as separate processes, the NATS JetStream bus that joins them
 * (docs/deploy.md). The defaults are the embedded single process.
 */
import { int, oneOf, section, str } from './config-keys.js';

const HOUR_MS = 3_600_000;

export const ROLES = ['all', 'ingest', 'pipeline', 'api'] as const;

export const ClusterConfigSchema = section({
  role: oneOf(
    ROLES,
    'all',
    'What this process runs: all (intake, pipeline, store, APIs), ingest (intake only), pipeline (view model, monitoring stream, connectors), api (store writer and query APIs); roles other than all need a NATS bus',
  ),
  bus: str(
    '',
    'Empty: the embedded log in the data dir. nats://host:port[,nats://…]: NATS JetStream between the roles',
    { pattern: '^(|nats://.+)$' },
  ),
  partitions: int(
    { minimum: 1, maximum: 1024, default: 8 },
    'Partitions of the beacon stream (views are assigned by a hash of their id); the same on every node',
  ),
  ownPartitions: str(
    '',
    'Pipeline role: the partitions this worker consumes, e.g. 0-3 or 0,2,4 (empty: all of them)',
    { pattern: '^(|\\d+(-\\d+)?(,\\d+(-\\d+)?)*)$' },
  ),
  streamPrefix: str(
    'OPENQOE',
    'Prefix of the JetStream stream names (<prefix>_BEACONS, <prefix>_STORE) and subjects',
    { pattern: '^[A-Za-z0-9_-]+$' },
  ),
  beaconRetentionMs: int(
    { minimum: 60_000, default: 6 * HOUR_MS },
    'How long the beacon stream keeps messages: a restarted worker rebuilds its views from them, so keep it above pipeline.dedupeRetentionMs',
  ),
  realtimeReplyTimeoutMs: int(
    { minimum: 50, maximum: 60_000, default: 1000 },
    'Api role: how long a filtered real-time query asked for the first time waits for every pipeline worker to answer; past it the query answers 503 (QOE_ERR_REALTIME_INCOMPLETE) rather than a partial number',
  ),
  storeRetentionMs: int(
    { minimum: 60_000, default: 24 * HOUR_MS },
    'How long the stream of rows for the store writer keeps messages',
  ),
});
