/**
 * The configuration: one schema with defaults. The loader merges a file,
 * environment variables and flags into it and validates once at start.
 */
import { type Static, Type } from '@sinclair/typebox';

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
      { default: 'info' },
    ),
    /** Seconds to wait for in-flight work on SIGTERM before exiting anyway. */
    shutdownTimeoutMs: Type.Integer({ minimum: 0, default: 10_000 }),
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
            perEnvKeyPerSecond: Type.Number({ minimum: 0, default: 5000, description: '0 disables' }),
            perEnvKeyBurst: Type.Number({ minimum: 1, default: 10_000 }),
            perIpPerSecond: Type.Number({ minimum: 0, default: 50, description: '0 disables' }),
            perIpBurst: Type.Number({ minimum: 1, default: 200 }),
          },
          { additionalProperties: false, default: {} },
        ),
        rejected: Type.Object(
          {
            maxStoredBodyBytes: Type.Integer({ minimum: 0, maximum: 65_536, default: 8192 }),
            maxPerEnvironmentPerHour: Type.Integer({ minimum: 0, default: 1000 }),
          },
          { additionalProperties: false, default: {} },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    bus: Type.Object(
      {
        segmentBytes: Type.Integer({ minimum: 1024 * 64, default: 64 * MiB }),
        /** Beyond this backlog (bytes not yet consumed) the intake answers 429. */
        maxBacklogBytes: Type.Integer({ minimum: MiB, default: 2048 * MiB }),
        /** Records kept in memory for the consumer before it must read from disk. */
        memoryTailBytes: Type.Integer({ minimum: MiB, default: 128 * MiB }),
        /** Longest a publish waits for others to share its fsync. */
        groupCommitMaxDelayMs: Type.Number({ minimum: 0, maximum: 5, default: 2 }),
        fsync: Type.Boolean({ default: true, description: 'Turn off only for throwaway test data' }),
      },
      { additionalProperties: false, default: {} },
    ),
    pipeline: Type.Object(
      {
        maxBatchRecords: Type.Integer({ minimum: 1, default: 5000 }),
        /** How long a view is remembered for de-duplication after its last beacon (60 min + slack). */
        dedupeRetentionMs: Type.Integer({ minimum: 1000, default: 65 * 60 * 1000 }),
      },
      { additionalProperties: false, default: {} },
    ),
    store: Type.Object(
      {
        /** DuckDB checkpoint threshold; large values batch checkpoints (measured in docs/benchmarks.md). */
        checkpointThreshold: Type.String({ default: '256MB' }),
        memoryLimit: Type.String({
          default: '',
          description: 'DuckDB memory_limit; "" keeps DuckDB’s default',
        }),
        threads: Type.Integer({ minimum: 0, default: 0, description: '0 keeps DuckDB’s default' }),
      },
      { additionalProperties: false, default: {} },
    ),
    metrics: Type.Object(
      {
        requireToken: Type.Boolean({ default: false, description: 'Require an access token for /metrics' }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
