/**
 * The configuration: one schema with defaults. The loader merges a file,
 * environment variables and flags into it and validates once at start.
 */
import { type Static, Type } from '@sinclair/typebox';
import { AlertsConfigSchema } from './alerts-config.js';
import { ClusterConfigSchema } from './cluster-config.js';
import { bool, int, num, oneOf, section, str } from './config-keys.js';
import { ConnectionsConfigSchema } from './connections-config.js';
import { ConnectorsConfigSchema } from './connectors-config.js';
import { MonitoringConfigSchema } from './monitoring-config.js';
import { NotificationsConfigSchema } from './notifications-config.js';

const MiB = 1024 * 1024;

/** A drop-in SDK's own key → an openqoe environment key. */
const envKeyMap = (what: string) =>
  Type.Record(Type.String({ minLength: 1, maxLength: 128 }), Type.String({ minLength: 1, maxLength: 64 }), {
    default: {},
    description: `${what} → openqoe environment key (config file only). A key that is itself an openqoe environment key needs no entry`,
  });

export const ConfigSchema = Type.Object(
  {
    host: str('127.0.0.1', 'Address to listen on (0.0.0.0 to expose)'),
    port: int({ minimum: 0, maximum: 65535, default: 8080 }, 'HTTP port'),
    dataDir: str('./data', 'Where the log and the database live', { minLength: 1 }),
    trustProxy: bool(false, 'Take the client address from X-Forwarded-For (only behind a proxy you run)'),
    logLevel: oneOf(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      'info',
      'Server log level (logs go to stdout as JSON lines)',
    ),
    connections: ConnectionsConfigSchema,
    shutdownTimeoutMs: int(
      { minimum: 0, default: 10_000 },
      'On SIGTERM, how long to let the pipeline catch up before exiting (the rest stays in the log)',
    ),
    intake: section({
      maxBodyBytes: int({ minimum: 1024, default: MiB }, 'Largest body as sent (compressed)'),
      maxDecompressedBytes: int({ minimum: 1024, default: 4 * MiB }, 'Largest body once decompressed'),
      rateLimit: section({
        perEnvKeyPerSecond: num(
          { minimum: 0, default: 5000 },
          'Beacons per second per environment (token bucket); 0 disables',
        ),
        perEnvKeyBurst: num({ minimum: 1, default: 10_000 }, 'Bucket size per environment'),
        perIpPerSecond: num({ minimum: 0, default: 50 }, 'Beacons per second per client IP; 0 disables'),
        perIpBurst: num({ minimum: 1, default: 200 }, 'Bucket size per client IP'),
      }),
      rejected: section({
        maxStoredBodyBytes: int(
          { minimum: 0, maximum: 65_536, default: 8192 },
          'Bytes of a refused body kept in rejected_payloads',
        ),
        maxPerEnvironmentPerHour: int(
          { minimum: 0, default: 1000 },
          'Refused payloads kept per environment per hour; the rest are only counted',
        ),
      }),
    }),
    bus: section({
      segmentBytes: int({ minimum: 1024 * 64, default: 64 * MiB }, 'Size of one log segment file'),
      maxBacklogBytes: int(
        { minimum: MiB, default: 2048 * MiB },
        'Log bytes not yet processed beyond which the intake answers 429',
      ),
      memoryTailBytes: int(
        { minimum: MiB, default: 128 * MiB },
        'Recent records kept in memory for the pipeline; beyond it the pipeline reads the log from disk',
      ),
      groupCommitMaxDelayMs: num(
        { minimum: 0, maximum: 5, default: 2 },
        'Longest a publish waits for others to share its fsync (0: only those of the same tick)',
      ),
      fsync: bool(true, 'Turn off only for throwaway test data'),
      directIo: bool(
        true,
        'Write the log with O_DIRECT, past the page cache (less CPU per beacon); the log falls back to the page cache where the filesystem refuses it',
      ),
      retainMs: int(
        { minimum: 0, default: 65 * 60 * 1000 },
        'How long processed beacons stay in the log: a start rebuilds views in progress and de-duplication from them, so keep it at least pipeline.dedupeRetentionMs. Size the disk for this much traffic',
      ),
    }),
    pipeline: section({
      maxBatchRecords: int(
        { minimum: 1, default: 5000 },
        'Most beacons the pipeline commits to the store in one transaction',
      ),
      commitIntervalMs: int(
        { minimum: 0, maximum: 5000, default: 1000 },
        'Least time between two store commits of the pipeline (ledger and position, and view upserts). Beacons are applied at once; a commit costs ~5 ms of CPU whatever it carries, so under load each one should carry hundreds of beacons',
      ),
      dedupeRetentionMs: int(
        { minimum: 1000, default: 65 * 60 * 1000 },
        'How long a view is remembered for de-duplication after its last beacon',
      ),
    }),
    views: section({
      idleCompleteMs: int(
        { minimum: 100, default: 60_000 },
        'A view with no data for this long is complete (provisionally: more data reopens it)',
      ),
      finalAfterMs: int(
        { minimum: 1000, default: 3_600_000 },
        'A view with no data for this long is final; later data with its id starts a new view',
      ),
      endedRetentionMs: int(
        { minimum: 0, default: 300_000 },
        'How long a view that ended explicitly stays in memory for late retries',
      ),
      stuckRebufferMs: int(
        { minimum: 1000, default: 300_000 },
        'Continuous rebuffering longer than this completes the view',
      ),
      gapTimeoutMs: int(
        { minimum: 0, default: 5000 },
        'How long data ahead of a missing sequence number waits for it before the gap is skipped',
      ),
      minStallMs: int({ minimum: 0, default: 250 }, 'Stalls shorter than this are not rebuffers'),
      tickIntervalMs: int({ minimum: 10, default: 1000 }, 'How often the view lifecycle timers run'),
    }),
    enrich: section({
      geoDatabase: str(
        'bundled',
        'Path of a MaxMind-format City or Country database (country, region, city); "bundled": the country database shipped with openqoe (below); "" for none',
      ),
      asnDatabase: str('', 'Path of a MaxMind-format ASN database; "" for none'),
      truncateIp: bool(false, 'Store client addresses truncated (IPv4 /24, IPv6 /48) after the lookups'),
    }),
    store: section({
      checkpointThreshold: str(
        '256MB',
        'DuckDB checkpoint_threshold: rare checkpoints cost less per row (docs/architecture.md)',
      ),
      memoryLimit: str(
        '2GB',
        'DuckDB memory_limit (e.g. 2GB, 512MB; "" for DuckDB’s own default of 80 % of RAM). Beyond it DuckDB spills to disk',
      ),
      threads: int({ minimum: 0, default: 0 }, '0 keeps DuckDB’s default'),
    }),
    // Where the store lives when one machine is not enough (docs/clickhouse.md).
    clickhouse: section({
      url: str(
        '',
        'Store in ClickHouse instead of the embedded DuckDB: clickhouse://user:password@host:8123/database (clickhouses:// for TLS), or chdb:///path (chdb: alone for <dataDir>/clickhouse) for the embedded ClickHouse engine installed in tools/chdb. "" keeps DuckDB. Also `serve --store`',
        { pattern: '^$|^(clickhouses?|chdb):' },
      ),
      minInsertIntervalMs: int(
        { minimum: 0, default: 1000 },
        'With ClickHouse, the pipeline commits (one ledger insert, one views insert) at most this often, so each insert carries many rows: ClickHouse wants about one insert per second per table',
      ),
      asyncInsert: bool(
        false,
        'Send inserts with async_insert=1 and wait_for_async_insert=1: the server merges inserts of many pipeline workers and answers once they are written',
      ),
      rollups: bool(
        true,
        'Keep a rollup of the views per hour and common dimensions, and answer metrics queries from it where they allow (docs/clickhouse.md, "Rollups"). Off: every query reads the views',
      ),
      rollupRefreshIntervalMs: int(
        { minimum: 100, default: 30_000 },
        'How often hours changed since their last refresh are recomputed into the rollup. Until then queries read those hours from the views, so answers never lag; only their cost does',
      ),
      rollupSettleMs: int(
        { minimum: 0, default: 300_000 },
        'An hour is recomputed only once no view of it has changed for this long: hours still being written to (the current one, views completing) are read from the views instead of being recomputed again and again',
      ),
      rollupHoursPerRefresh: int(
        { minimum: 1, default: 24 },
        'Hours recomputed per refresh at most (oldest change first)',
      ),
      requestTimeoutMs: int({ minimum: 1000, default: 60_000 }, 'HTTP request timeout towards ClickHouse'),
    }),
    // The live ingest (RTMP), its drift tracker and the stats API; defaults follow the reference.
    live: section({
      rtmp: section({
        enabled: bool(true, 'Accept RTMP pushes from encoders'),
        host: str('', 'Address the RTMP listener binds to ("" uses the HTTP host)'),
        port: int(
          { minimum: 0, maximum: 65535, default: 1935 },
          'RTMP port (0 picks a free one; the log says which)',
        ),
      }),
      drift: section({
        rollingWindowMs: int(
          { minimum: 1000, default: 30_000 },
          'Window of the rolling average that stream_drift_deviation_from_rolling_avg compares with',
        ),
        warmUpMs: int(
          { minimum: 0, default: 5000 },
          'First part of a connection during which a late first packet or a start-up burst moves time zero instead of reading as drift',
        ),
        idleUnknownMs: int(
          { minimum: 100, default: 120_000 },
          'With no video from the encoder for this long, the health status is unknown',
        ),
        historyIntervalMs: int(
          { minimum: 100, default: 10_000 },
          'How often the health of each connected stream is written to live_stream_health',
        ),
      }),
      counts: section({
        refreshMs: int(
          { minimum: 0, default: 1000 },
          'Viewer counts are recomputed from the active views at most this often (0: every request)',
        ),
      }),
    }),
    monitoring: MonitoringConfigSchema,
    // The real-time numbers behind the monitoring API (docs/monitoring-api.md); timers short in tests.
    realtime: section({
      tickMs: int(
        { minimum: 100, maximum: 60_000, default: 5000 },
        'How often the real-time numbers are recomputed (ticks fall on epoch multiples)',
      ),
      historyMs: int(
        { minimum: 60_000, maximum: 6 * 3_600_000, default: 30 * 60_000 },
        'How much tick history the monitoring timeseries keep',
      ),
      attemptWindowMs: int(
        { minimum: 1000, default: 60_000 },
        'Trailing window over which start attempts, startup failures, exits before video start and playback failures are counted',
      ),
      historyRowsPerDimension: int(
        { minimum: 1, maximum: 1000, default: 50 },
        'Breakdown rows kept per dimension and tick for breakdown-timeseries (the most-watched values)',
      ),
    }),
    metrics: section({ requireToken: bool(false, 'Require an access token for /metrics') }),
    readiness: section({
      minFreeDiskBytes: int(
        { minimum: 0, default: 256 * MiB },
        "/readyz answers 503 while the data dir's filesystem has less free space than this",
      ),
      minFreeDiskPercent: num(
        { minimum: 0, maximum: 100, default: 2 },
        "/readyz answers 503 while the data dir's filesystem has less than this share of its size free",
      ),
    }),
    connectors: ConnectorsConfigSchema,
    notifications: NotificationsConfigSchema,
    // The demo page (`/demo/`): a local test video with the collector attached.
    demo: section({
      enabled: bool(
        true,
        'Serve /demo/: a test video (made with ffmpeg on first visit) playing with the collector, sending to this server',
      ),
    }),
    // The web dashboard served under /ui/.
    ui: section({
      enabled: bool(true, 'Serve the dashboard under /ui/ (and redirect / to it)'),
      distDir: str(
        '',
        'Folder of the built dashboard; empty: packages/dashboard/dist next to the server (npm run build makes it)',
      ),
    }),
    alerts: AlertsConfigSchema,
    // The drop-in intakes: the Mux beacon protocol on its own TLS listener, CMCD on POST /v1/cmcd/{env_key}.
    compat: section({
      mux: section({
        enabled: bool(
          false,
          'Serve the Mux Data beacon protocol (POST / and /android) on its own TLS listener (off by default: it opens a second port)',
        ),
        host: str('', 'Address of the TLS listener ("" for the server’s own `host`)'),
        port: int(
          { minimum: 0, maximum: 65535, default: 8443 },
          'TLS port of the Mux-protocol intake (0 picks a free one; the log says which)',
        ),
        certPath: str(
          '',
          'PEM certificate (chain) of the listener; "" generates a self-signed pair into {dataDir}/compat-tls (development only)',
        ),
        keyPath: str('', 'PEM private key of the listener'),
        envKeys: envKeyMap('Mux `env_key` sent by the SDK'),
        maxEventsPerBeacon: int(
          { minimum: 1, default: 1000 },
          'Most events one POST may carry (mux-embed sends at most 300)',
        ),
      }),
      cmcd: section({
        enabled: bool(
          true,
          'Accept CMCD reports on POST /v1/cmcd/{env_key} (event mode body, CMCD= query, CMCD-* headers)',
        ),
        envKeys: envKeyMap('`{env_key}` in the CMCD target URL'),
        maxReportsPerBody: int({ minimum: 1, default: 1000 }, 'Most reports (lines) one POST may carry'),
      }),
    }),
    cluster: ClusterConfigSchema,
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
