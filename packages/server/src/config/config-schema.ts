/**
 * The configuration: one schema with defaults. The loader merges a file,
 * environment variables and flags into it and validates once at start.
 */
import { type Static, Type } from '@sinclair/typebox';
import { AlertsConfigSchema } from './alerts-config.js';
import { ClickHouseConfigSchema } from './clickhouse-config.js';
import { ClusterConfigSchema } from './cluster-config.js';
import { CompatConfigSchema } from './compat-config.js';
import { ConnectorsConfigSchema } from './connectors-config.js';
import { DemoConfigSchema } from './demo-config.js';
import { LiveConfigSchema } from './live-config.js';
import { MonitoringConfigSchema } from './monitoring-config.js';
import { NotificationsConfigSchema } from './notifications-config.js';
import { RealtimeConfigSchema } from './realtime-config.js';
import { UiConfigSchema } from './ui-config.js';

const MiB = 1024 * 1024;

export const ConfigSchema = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1', description: 'Address to listen on (0.0.0.0 to expose)' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: 'HTTP port' }),
    dataDir: Type.String({
      minLength: 1,
      default: './data',
      description: 'Where the log and the database live',
    }),
    trustProxy: Type.Boolean({
      default: false,
      description: 'Take the client address from X-Forwarded-For (only behind a proxy you run)',
    }),
    logLevel: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      { default: 'info', description: 'Server log level (logs go to stdout as JSON lines)' },
    ),
    shutdownTimeoutMs: Type.Integer({
      minimum: 0,
      default: 10_000,
      description:
        'On SIGTERM, how long to let the pipeline catch up before exiting (the rest stays in the log)',
    }),
    intake: Type.Object(
      {
        maxBodyBytes: Type.Integer({
          minimum: 1024,
          default: MiB,
          description: 'Largest body as sent (compressed)',
        }),
        maxDecompressedBytes: Type.Integer({
          minimum: 1024,
          default: 4 * MiB,
          description: 'Largest body once decompressed',
        }),
        rateLimit: Type.Object(
          {
            perEnvKeyPerSecond: Type.Number({
              minimum: 0,
              default: 5000,
              description: 'Beacons per second per environment (token bucket); 0 disables',
            }),
            perEnvKeyBurst: Type.Number({
              minimum: 1,
              default: 10_000,
              description: 'Bucket size per environment',
            }),
            perIpPerSecond: Type.Number({
              minimum: 0,
              default: 50,
              description: 'Beacons per second per client IP; 0 disables',
            }),
            perIpBurst: Type.Number({ minimum: 1, default: 200, description: 'Bucket size per client IP' }),
          },
          { additionalProperties: false, default: {} },
        ),
        rejected: Type.Object(
          {
            maxStoredBodyBytes: Type.Integer({
              minimum: 0,
              maximum: 65_536,
              default: 8192,
              description: 'Bytes of a refused body kept in rejected_payloads',
            }),
            maxPerEnvironmentPerHour: Type.Integer({
              minimum: 0,
              default: 1000,
              description: 'Refused payloads kept per environment per hour; the rest are only counted',
            }),
          },
          { additionalProperties: false, default: {} },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    bus: Type.Object(
      {
        segmentBytes: Type.Integer({
          minimum: 1024 * 64,
          default: 64 * MiB,
          description: 'Size of one log segment file',
        }),
        maxBacklogBytes: Type.Integer({
          minimum: MiB,
          default: 2048 * MiB,
          description: 'Log bytes not yet processed beyond which the intake answers 429',
        }),
        memoryTailBytes: Type.Integer({
          minimum: MiB,
          default: 128 * MiB,
          description:
            'Recent records kept in memory for the pipeline; beyond it the pipeline reads the log from disk',
        }),
        groupCommitMaxDelayMs: Type.Number({
          minimum: 0,
          maximum: 5,
          default: 2,
          description:
            'Longest a publish waits for others to share its fsync (0: only those of the same tick)',
        }),
        fsync: Type.Boolean({ default: true, description: 'Turn off only for throwaway test data' }),
        directIo: Type.Boolean({
          default: true,
          description:
            'Write the log with O_DIRECT, past the page cache (less CPU per beacon); the log falls back to the page cache where the filesystem refuses it',
        }),
        retainMs: Type.Integer({
          minimum: 0,
          default: 65 * 60 * 1000,
          description:
            'How long processed beacons stay in the log: a start rebuilds views in progress and de-duplication from them, so keep it at least pipeline.dedupeRetentionMs. Size the disk for this much traffic',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    pipeline: Type.Object(
      {
        maxBatchRecords: Type.Integer({
          minimum: 1,
          default: 5000,
          description: 'Most beacons the pipeline commits to the store in one transaction',
        }),
        commitIntervalMs: Type.Integer({
          minimum: 0,
          maximum: 5000,
          default: 1000,
          description:
            'Least time between two store commits of the pipeline (ledger and position, and view upserts). Beacons are applied at once; a commit costs ~5 ms of CPU whatever it carries, so under load each one should carry hundreds of beacons',
        }),
        dedupeRetentionMs: Type.Integer({
          minimum: 1000,
          default: 65 * 60 * 1000,
          description: 'How long a view is remembered for de-duplication after its last beacon',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    views: Type.Object(
      {
        idleCompleteMs: Type.Integer({
          minimum: 100,
          default: 60_000,
          description: 'A view with no data for this long is complete (provisionally: more data reopens it)',
        }),
        finalAfterMs: Type.Integer({
          minimum: 1000,
          default: 3_600_000,
          description: 'A view with no data for this long is final; later data with its id starts a new view',
        }),
        endedRetentionMs: Type.Integer({
          minimum: 0,
          default: 300_000,
          description: 'How long a view that ended explicitly stays in memory for late retries',
        }),
        stuckRebufferMs: Type.Integer({
          minimum: 1000,
          default: 300_000,
          description: 'Continuous rebuffering longer than this completes the view',
        }),
        gapTimeoutMs: Type.Integer({
          minimum: 0,
          default: 5000,
          description:
            'How long data ahead of a missing sequence number waits for it before the gap is skipped',
        }),
        minStallMs: Type.Integer({
          minimum: 0,
          default: 250,
          description: 'Stalls shorter than this are not rebuffers',
        }),
        tickIntervalMs: Type.Integer({
          minimum: 10,
          default: 1000,
          description: 'How often the view lifecycle timers run',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    enrich: Type.Object(
      {
        geoDatabase: Type.String({
          default: 'bundled',
          description:
            'Path of a MaxMind-format City or Country database (country, region, city); "bundled": the country database shipped with openqoe (below); "" for none',
        }),
        asnDatabase: Type.String({
          default: '',
          description: 'Path of a MaxMind-format ASN database; "" for none',
        }),
        truncateIp: Type.Boolean({
          default: false,
          description: 'Store client addresses truncated (IPv4 /24, IPv6 /48) after the lookups',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    store: Type.Object(
      {
        checkpointThreshold: Type.String({
          default: '256MB',
          description:
            'DuckDB checkpoint_threshold: rare checkpoints cost less per row (docs/architecture.md)',
        }),
        memoryLimit: Type.String({
          default: '2GB',
          description:
            'DuckDB memory_limit (e.g. 2GB, 512MB; "" for DuckDB’s own default of 80 % of RAM). Beyond it DuckDB spills to disk',
        }),
        threads: Type.Integer({ minimum: 0, default: 0, description: '0 keeps DuckDB’s default' }),
      },
      { additionalProperties: false, default: {} },
    ),
    clickhouse: ClickHouseConfigSchema,
    live: LiveConfigSchema,
    monitoring: MonitoringConfigSchema,
    realtime: RealtimeConfigSchema,
    metrics: Type.Object(
      {
        requireToken: Type.Boolean({ default: false, description: 'Require an access token for /metrics' }),
      },
      { additionalProperties: false, default: {} },
    ),
    connectors: ConnectorsConfigSchema,
    notifications: NotificationsConfigSchema,
    demo: DemoConfigSchema,
    ui: UiConfigSchema,
    alerts: AlertsConfigSchema,
    compat: CompatConfigSchema,
    cluster: ClusterConfigSchema,
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
