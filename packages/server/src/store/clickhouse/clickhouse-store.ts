/**
 * The store on ClickHouse, for deployments that outgrow one machine
 * (docs/clickhouse.md). Same interfaces as the DuckDB store; the query API
 * reads it through CLICKHOUSE_DIALECT.
 *
 * Durability: every write method resolves only once ClickHouse has written
 * the rows. ClickHouse has no multi-table transaction, so the pipeline's
 * commit writes the ledger rows first and the consumer position second: a
 * crash between the two leaves rows past the position, which the pipeline
 * already handles (it resumes from the ledger's end, and its de-duplication
 * drops what it had), and a retried ledger insert collapses on the table's
 * key. Insert size comes from the pipeline's pacing: one commit (and one
 * views upsert) per `pipeline.commitIntervalMs`, which a ClickHouse store
 * raises to at least `clickhouse.minInsertIntervalMs`.
 */
import type { Permission } from '@openqoe/schema';
import { type MigrationRun, runMigrations, StoreAheadError } from '../migrations/runner.js';
import type { RollupDefinition } from '../rollup.js';
import { Serial } from '../serial.js';
import type {
  AccessTokenRecord,
  ConsumerCheckpoint,
  Environment,
  RawBeaconRow,
  ReadValue,
  RejectedPayload,
  Store,
} from '../store.js';
import { type Column, VIEW_COLUMNS, type ViewRow } from '../view-row.js';
import { CLICKHOUSE_DIALECT } from './clickhouse-dialect.js';
import { type ChConnection, type ChResult, chTime, VersionClock } from './connection.js';
import { ClickHouseMigrationTarget } from './migration-ledger.js';
import { clickhouseMigrations } from './migrations.js';
import { bindPositional } from './params.js';
import { readStoredVersions, viewKey } from './stored-versions.js';
import { type RefreshResult, ViewsRollup } from './views-rollup.js';

export interface ClickHouseStoreOptions {
  /** The views rollup the query API reads (api/data/views-rollup.ts); none without it. */
  rollup?: RollupDefinition | undefined;
  /** How often dirty rollup hours are recomputed; 0 never (queries then read the views). */
  rollupRefreshIntervalMs?: number;
  rollupHoursPerRefresh?: number;
  /** An hour is recomputed only once it has not been marked for this long. */
  rollupSettleMs?: number;
  onRollupRefresh?: ((result: RefreshResult, dirtyHours: number) => void) | undefined;
  onRollupError?: ((err: Error) => void) | undefined;
  /** The views layout (VIEW_COLUMNS); a test passes a longer one to add a column with its migration. */
  viewColumns?: readonly Column[];
}

/** Columns of the inserts, in the order of the values of their rows. */
const BEACON_COLUMNS = `env_id view_id first_seq last_seq seq_count sample_count event_count
  received_at clock_offset_ms log_id log_position`.split(/\s+/);
const REJECTED_COLUMNS = `id received_at env_id ip user_agent route code messages fields body
  body_bytes truncated`.split(/\s+/);
const FIRST_RECEIVED = VIEW_COLUMNS.findIndex((c) => c.name === 'first_received_at');

/** ClickHouse JSON values → what the store interface reads: timestamps as epoch ms. */
function plainRows(r: ChResult): Record<string, ReadValue>[] {
  const isTime = r.types.map((t) => /DateTime/.test(t));
  return r.rows.map((row) => {
    const out: Record<string, ReadValue> = {};
    for (let i = 0; i < r.names.length; i++) {
      const v = row[i];
      if (v === null || v === undefined) out[r.names[i]!] = null;
      else if (isTime[i]) out[r.names[i]!] = Date.parse(`${String(v).replace(' ', 'T')}Z`);
      else if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') out[r.names[i]!] = v;
      else out[r.names[i]!] = JSON.stringify(v);
    }
    return out;
  });
}

export class ClickHouseStore implements Store {
  readonly dialect = CLICKHOUSE_DIALECT;
  /** Versions of checkpoint rows: strictly increasing within this process. */
  private readonly versions = new VersionClock();
  rollup: ViewsRollup | undefined;
  /** Rollup marks, view upserts and refreshes must not interleave. */
  private readonly serial = new Serial();
  private refreshTimer: NodeJS.Timeout | undefined;
  private refreshing: Promise<unknown> | undefined;
  /** What this open did to the schema (store/migrations/runner.ts). */
  migrations: MigrationRun = { applied: [], current: 0 };
  private readonly viewColumns: readonly Column[];
  private readonly viewColumnNames: string[];

  private constructor(
    private readonly conn: ChConnection,
    private readonly options: ClickHouseStoreOptions,
  ) {
    this.viewColumns = options.viewColumns ?? VIEW_COLUMNS;
    this.viewColumnNames = this.viewColumns.map((c) => c.name);
  }

  static async open(conn: ChConnection, options: ClickHouseStoreOptions = {}): Promise<ClickHouseStore> {
    const store = new ClickHouseStore(conn, options);
    try {
      const migrations = clickhouseMigrations(store.viewColumns);
      store.migrations = await runMigrations(new ClickHouseMigrationTarget(conn), migrations);
      if (options.rollup) store.rollup = await ViewsRollup.prepare(conn, options.rollup);
    } catch (err) {
      await conn.close().catch(() => {});
      // It names the store and what to do already.
      if (err instanceof StoreAheadError) throw err;
      throw new Error(`cannot prepare the ClickHouse store at ${conn.where}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const every = options.rollupRefreshIntervalMs ?? 0;
    if (store.rollup && every > 0) {
      const limit = options.rollupHoursPerRefresh ?? 24;
      // A backlog (a backfill, a new rollup) is worked off refresh after refresh, not one per interval.
      const drain = async () => {
        while (store.refreshTimer && (await store.refreshRollup()).hours >= limit);
      };
      store.refreshTimer = setInterval(() => {
        if (!store.refreshing)
          store.refreshing = drain().finally(() => {
            store.refreshing = undefined;
          });
      }, every);
      store.refreshTimer.unref();
    }
    return store;
  }

  /**
   * Recomputes the dirty rollup hours (at most `rollupHoursPerRefresh` per call), between upserts.
   * Errors are reported, not thrown: the hours stay dirty and are read from the views meanwhile.
   */
  async refreshRollup(): Promise<RefreshResult> {
    const rollup = this.rollup;
    if (!rollup) return { hours: 0, rows: 0 };
    try {
      const result = await this.serial.run(() =>
        rollup.refresh(this.options.rollupHoursPerRefresh ?? 24, this.options.rollupSettleMs ?? 0),
      );
      this.options.onRollupRefresh?.(result, await rollup.dirtyHours());
      return result;
    } catch (err) {
      this.options.onRollupError?.(err as Error);
      return { hours: 0, rows: 0 };
    }
  }

  get where(): string {
    return this.conn.where;
  }

  private async rows(sql: string, values: readonly unknown[] = []): Promise<Record<string, ReadValue>[]> {
    const bound = bindPositional(sql, values);
    if (!/^\s*(SELECT|WITH)\b/i.test(sql)) {
      await this.conn.command(bound.sql, bound.params);
      return [];
    }
    return plainRows(await this.conn.query(bound.sql, bound.params));
  }

  async writeRaw(rows: readonly RawBeaconRow[], checkpoint: ConsumerCheckpoint): Promise<void> {
    // Ledger first: a position is never stored ahead of the rows it covers.
    await this.conn.insert(
      'beacons',
      BEACON_COLUMNS,
      rows.map((r) => [
        r.envId,
        r.viewId,
        r.firstSeq,
        r.lastSeq,
        r.seqCount,
        r.sampleCount,
        r.eventCount,
        chTime(r.receivedAtMs),
        r.clockOffsetMs,
        r.logId,
        r.logPosition,
      ]),
    );
    await this.conn.insert(
      'consumer_checkpoints',
      ['consumer', 'log_id', 'position', 'version'],
      [[checkpoint.consumer, checkpoint.logId, checkpoint.position, this.versions.next()]],
    );
  }

  async readCheckpoint(consumer: string): Promise<ConsumerCheckpoint | undefined> {
    const [row] = await this.rows(
      // argMax, not FINAL: the newest version even before the rows merge, in one pass.
      `SELECT argMax(log_id, version) AS log_id, argMax(position, version) AS position, count() AS n
       FROM consumer_checkpoints WHERE consumer = $1`,
      [consumer],
    );
    if (!row || Number(row['n']) === 0) return undefined;
    return { consumer, logId: String(row['log_id']), position: Number(row['position']) };
  }

  async lastLoggedPosition(logId: string): Promise<number | undefined> {
    const [row] = await this.rows(
      'SELECT max(log_position) AS p, count() AS n FROM beacons WHERE log_id = $1',
      [logId],
    );
    return !row || Number(row['n']) === 0 ? undefined : Number(row['p']);
  }

  async upsertViews(rows: readonly ViewRow[]): Promise<void> {
    if (rows.length === 0) return;
    // One row per view per insert: the latest of a batch is the one that counts anyway.
    const latest = new Map<string, ViewRow>();
    for (const row of rows) latest.set(viewKey(row), row);
    const rollup = this.rollup;
    await this.serial.run(async () => {
      const stored = await readStoredVersions(this.conn, latest.values());
      const out = [...latest].map(([key, row]) => {
        // The first data's hour leads the sorting key: a view keeps the earliest it ever had.
        const first = stored.get(key)?.firstReceivedMs;
        return row.map((v, i) =>
          i === FIRST_RECEIVED && first !== undefined && first < Number(v)
            ? chTime(first)
            : v !== null && this.viewColumns[i]!.type === 'TIMESTAMP'
              ? chTime(Number(v))
              : v,
        );
      });
      // Hours first: a crash after the marks leaves them dirty (read from the views), never stale.
      if (rollup) await rollup.markDirty([...latest.values()], stored);
      await this.conn.insert('views', this.viewColumnNames, out);
    });
  }

  async insertRejected(rows: readonly RejectedPayload[]): Promise<void> {
    await this.conn.insert(
      'rejected_payloads',
      REJECTED_COLUMNS,
      rows.map((r) => [
        r.id,
        chTime(r.receivedAtMs),
        r.envId,
        r.ip,
        r.userAgent,
        r.route,
        r.code,
        JSON.stringify(r.messages),
        JSON.stringify(r.fields),
        r.body,
        r.bodyBytes,
        r.truncated,
      ]),
    );
  }

  async listEnvironments(): Promise<Environment[]> {
    const rows = await this.rows(
      'SELECT id, name, key, created_at FROM environments FINAL ORDER BY created_at, id',
    );
    return rows.map((r) => ({
      id: String(r['id']),
      name: String(r['name']),
      key: String(r['key']),
      createdAtMs: Number(r['created_at']),
    }));
  }

  async insertEnvironment(env: Environment): Promise<void> {
    // The key must stay unique, as DuckDB's UNIQUE constraint keeps it.
    const [dup] = await this.rows('SELECT count() AS n FROM environments FINAL WHERE key = $1 OR id = $2', [
      env.key,
      env.id,
    ]);
    if (Number(dup?.['n'] ?? 0) > 0) throw new Error(`environment ${env.id} or its key already exists`);
    await this.conn.insert(
      'environments',
      ['id', 'name', 'key', 'created_at'],
      [[env.id, env.name, env.key, chTime(env.createdAtMs)]],
    );
  }

  deleteEnvironment(id: string): Promise<boolean> {
    return this.deleteById('environments', id);
  }

  async listAccessTokens(): Promise<AccessTokenRecord[]> {
    const rows = await this.rows(
      `SELECT id, name, secret_hash, toJSONString(permissions) AS permissions,
              toJSONString(environment_ids) AS environment_ids, all_environments, created_at
       FROM access_tokens FINAL ORDER BY created_at, id`,
    );
    return rows.map((r) => ({
      id: String(r['id']),
      name: String(r['name']),
      secretHash: String(r['secret_hash']),
      permissions: JSON.parse(String(r['permissions'])) as Permission[],
      environmentIds: JSON.parse(String(r['environment_ids'])) as string[],
      allEnvironments: Boolean(r['all_environments']),
      createdAtMs: Number(r['created_at']),
    }));
  }

  async insertAccessToken(t: AccessTokenRecord): Promise<void> {
    await this.conn.insert(
      'access_tokens',
      ['id', 'name', 'secret_hash', 'permissions', 'environment_ids', 'all_environments', 'created_at'],
      [
        [
          t.id,
          t.name,
          t.secretHash,
          t.permissions,
          t.environmentIds,
          t.allEnvironments,
          chTime(t.createdAtMs),
        ],
      ],
    );
  }

  deleteAccessToken(id: string): Promise<boolean> {
    return this.deleteById('access_tokens', id);
  }

  private async deleteById(table: string, id: string): Promise<boolean> {
    const [r] = await this.rows(`SELECT count() AS n FROM ${table} WHERE id = $1`, [id]);
    if (Number(r?.['n'] ?? 0) === 0) return false;
    await this.rows(`DELETE FROM ${table} WHERE id = $1`, [id]);
    return true;
  }

  /** The live ingest's statements (live/live-store.ts), already in this store's dialect. */
  execute(sql: string, params: readonly unknown[] = []): Promise<Record<string, ReadValue>[]> {
    return this.rows(sql, params);
  }

  select(sql: string, params: readonly unknown[]): Promise<Record<string, ReadValue>[]> {
    return this.rows(sql, params);
  }

  async close(): Promise<void> {
    clearInterval(this.refreshTimer);
    this.refreshTimer = undefined;
    await this.refreshing;
    await this.serial.run(() => this.conn.close());
  }
}
