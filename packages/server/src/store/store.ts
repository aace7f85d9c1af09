/**
 * The store seam. The pipeline writes one ledger row per beacon and view
 * together with its position in the bus (one atomic commit, so a replay
 * after a crash neither loses nor repeats rows); the intake records rejected payloads; the management API
 * keeps environments and access tokens. DuckDB implements it by default,
 * ClickHouse (store/clickhouse/) for deployments that outgrow one machine.
 */
import type { ErrorCode, FieldProblem, Permission } from '@openqoe/schema';
import type { RollupTables } from './rollup.js';
import type { SqlDialect } from './sql-dialect.js';
import type { ViewRow } from './view-row.js';

/** One accepted beacon's samples and events of one view: what arrived, when, and where it is in the log. */
export interface RawBeaconRow {
  envId: string;
  viewId: string;
  firstSeq: number;
  lastSeq: number;
  /** Distinct sequence numbers in the row; equal to last − first + 1 when they are contiguous. */
  seqCount: number;
  sampleCount: number;
  eventCount: number;
  receivedAtMs: number;
  /** Server receive time − the beacon's sentAt: add it to viewerTime to get event time. */
  clockOffsetMs: number;
  logId: string;
  /** Where the beacon's record starts in the log (held there for `bus.retainMs`). */
  logPosition: number;
}

export interface ConsumerCheckpoint {
  consumer: string;
  logId: string;
  position: number;
}

export interface RejectedPayload {
  id: string;
  receivedAtMs: number;
  envId: string | null;
  ip: string;
  userAgent: string;
  route: string;
  code: ErrorCode;
  messages: string[];
  fields: FieldProblem[];
  /** At most the configured number of bytes of the body as received (decompressed when possible). */
  body: string;
  bodyBytes: number;
  truncated: boolean;
}

export interface RawStore {
  writeRaw(rows: readonly RawBeaconRow[], checkpoint: ConsumerCheckpoint): Promise<void>;
  readCheckpoint(consumer: string): Promise<ConsumerCheckpoint | undefined>;
  /** Where the last ledger row of a log starts: what the store holds even when a checkpoint was lost. */
  lastLoggedPosition(logId: string): Promise<number | undefined>;
  insertRejected(rows: readonly RejectedPayload[]): Promise<void>;
  /** Inserts or replaces views by (env_id, view_id). */
  upsertViews(rows: readonly ViewRow[]): Promise<void>;
}

export interface Environment {
  id: string;
  name: string;
  key: string;
  createdAtMs: number;
}

export interface AccessTokenRecord {
  id: string;
  name: string;
  secretHash: string;
  permissions: Permission[];
  /** Environment ids the token covers; ignored when `allEnvironments`. */
  environmentIds: string[];
  allEnvironments: boolean;
  createdAtMs: number;
}

export interface MetaStore {
  listEnvironments(): Promise<Environment[]>;
  insertEnvironment(env: Environment): Promise<void>;
  deleteEnvironment(id: string): Promise<boolean>;
  listAccessTokens(): Promise<AccessTokenRecord[]>;
  insertAccessToken(token: AccessTokenRecord): Promise<void>;
  deleteAccessToken(id: string): Promise<boolean>;
}

/** A value read back: numbers as numbers, timestamps as epoch ms, text as strings. */
export type ReadValue = string | number | boolean | null;

export interface Store extends RawStore, MetaStore {
  /** How this store spells the query API's SQL. */
  readonly dialect: SqlDialect;
  /** A rollup of the views the query API may answer from (ClickHouse); none on DuckDB. */
  readonly rollup?: RollupTables | undefined;
  /** A parameterised read ($1, $2 … bound to `params`): request input only ever arrives as parameters. */
  select(sql: string, params: readonly unknown[]): Promise<Record<string, ReadValue>[]>;
  close(): Promise<void>;
}
