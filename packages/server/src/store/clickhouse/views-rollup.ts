/**
 * The views rollup in ClickHouse (docs/clickhouse.md, "Rollups"): partial
 * aggregation states per (environment, hour of the view's end, dimensions),
 * kept exact although views are upserted.
 *
 * An insert-triggered materialized view would add every version of a view,
 * so instead hours are recomputed from `views FINAL`:
 * - every views upsert first marks the hours it touches dirty: the hour each
 *   upserted view ends in, and the hours its earlier versions ended in
 *   (read back), since a view that moved leaves its old hour wrong;
 * - a refresh recomputes the oldest dirty hours into rows of a new
 *   generation, then marks them clean with that generation; older
 *   generations' rows are deleted afterwards, and never read meanwhile;
 * - a query reads the clean hours of its timeframe from the rollup (their
 *   current generation only) and every other hour from the views
 *   (api/data/views-rollup.ts), so an answer never depends on how recent
 *   the last refresh is.
 * Marks and refreshes run one at a time (the store serialises them); a
 * crash between steps leaves an hour dirty, which only means queries read
 * it from the views until the next refresh.
 */
import type { RollupDefinition, RollupTables } from '../rollup.js';
import { VIEW_COLUMNS, type ViewRow } from '../view-row.js';
import { type ChConnection, VersionClock } from './connection.js';
import { chString, type StoredVersions, viewKey } from './stored-versions.js';

const HOUR_MS = 3_600_000;
const ENV = VIEW_COLUMNS.findIndex((c) => c.name === 'env_id');
const END = VIEW_COLUMNS.findIndex((c) => c.name === 'view_end');

export const ROLLUP_HOURS_TABLE = 'rollup_hours';

const hourText = (hourMs: number): string => new Date(hourMs).toISOString().slice(0, 19).replace('T', ' ');

export interface RefreshResult {
  hours: number;
  rows: number;
}

export class ViewsRollup implements RollupTables {
  readonly hours = ROLLUP_HOURS_TABLE;
  private readonly versions = new VersionClock();

  private constructor(
    private readonly conn: ChConnection,
    readonly definition: RollupDefinition,
  ) {}

  /**
   * Creates the tables when missing, drops rollups of other definitions and marks dirty every hour
   * with views that this definition has no record of (a new or changed rollup is built by refreshes).
   */
  static async prepare(conn: ChConnection, definition: RollupDefinition): Promise<ViewsRollup> {
    const r = new ViewsRollup(conn, definition);
    await conn.command(
      `CREATE TABLE IF NOT EXISTS ${ROLLUP_HOURS_TABLE} (
        rollup LowCardinality(String),
        env_id String,
        hour DateTime('UTC'),
        dirty Bool,
        gen UInt64,
        version UInt64
      ) ENGINE = ReplacingMergeTree(version)
        ORDER BY (rollup, env_id, hour)`,
    );
    // The state columns' types are whatever ClickHouse gives the state expressions: made from the same SELECT.
    await conn.command(
      `CREATE TABLE IF NOT EXISTS ${definition.name}
        ENGINE = MergeTree PARTITION BY toYYYYMM(hour) ORDER BY (env_id, hour, gen, gset)
        EMPTY AS ${r.recomputeSelect('0', 'FALSE')}`,
    );
    const others = await conn.query(
      `SELECT name FROM system.tables WHERE database = currentDatabase() AND name LIKE 'views\\_rollup\\_%' AND name != {n:String}`,
      { n: definition.name },
    );
    for (const [name] of others.rows) await conn.command(`DROP TABLE IF EXISTS ${String(name)}`);
    await conn.command(
      `INSERT INTO ${ROLLUP_HOURS_TABLE}
       SELECT {n:String}, env_id, hour, true, 0, {v:UInt64}
       FROM (SELECT DISTINCT toString(env_id) AS env_id, toStartOfHour(view_end) AS hour FROM views)
       WHERE (env_id, hour) NOT IN (SELECT env_id, hour FROM ${ROLLUP_HOURS_TABLE} FINAL WHERE rollup = {n:String})`,
      { n: definition.name, v: r.versions.next() },
    );
    return r;
  }

  /**
   * The rollup's rows of `gen` for the views that `where` selects: each view counted once in every
   * grouping set (ARRAY JOIN), with the dimensions outside the set NULL.
   */
  private recomputeSelect(gen: string, where: string): string {
    const d = this.definition;
    const sets = d.groupingSets.map((_, i) => i);
    const dims = d.dims
      .map((dim) => {
        const inSets = sets.filter((i) => d.groupingSets[i]!.includes(dim));
        return `if(gset IN (${inSets.join(', ') || '-1'}), ${dim}, NULL) AS ${dim}`;
      })
      .join(', ');
    const states = d.states.map((s) => `${s.state} AS ${s.column}`).join(', ');
    return `SELECT env_id, toStartOfHour(view_end) AS hour, toUInt64(${gen}) AS gen, gset, ${dims}, ${states}
      FROM views FINAL ARRAY JOIN CAST([${sets.join(', ')}] AS Array(UInt8)) AS gset
      WHERE ${where} GROUP BY env_id, hour, gset, ${d.dims.join(', ')}`;
  }

  /**
   * Marks dirty the hours that upserting `rows` changes: the hour each ends in, and the hours its
   * stored versions end in (`stored`), since a view that moved leaves its old hour wrong. Call
   * before the upsert is written.
   */
  async markDirty(rows: readonly ViewRow[], stored: ReadonlyMap<string, StoredVersions>): Promise<void> {
    const hours = new Map<string, Set<number>>();
    const add = (env: string, hourMs: number) => {
      const set = hours.get(env) ?? new Set<number>();
      hours.set(env, set.add(hourMs));
    };
    for (const row of rows) {
      const env = String(row[ENV]);
      add(env, Math.floor(Number(row[END]) / HOUR_MS) * HOUR_MS);
      for (const h of stored.get(viewKey(row))?.endHoursMs ?? []) add(env, h);
    }
    const version = this.versions.next();
    const marks: unknown[][] = [];
    for (const [env, set] of hours)
      for (const h of set) marks.push([this.definition.name, env, hourText(h), true, 0, version]);
    await this.conn.insert(
      ROLLUP_HOURS_TABLE,
      ['rollup', 'env_id', 'hour', 'dirty', 'gen', 'version'],
      marks,
    );
  }

  /** Dirty hours of this rollup. */
  async dirtyHours(): Promise<number> {
    const r = await this.conn.query(
      `SELECT count() FROM ${ROLLUP_HOURS_TABLE} FINAL WHERE rollup = {n:String} AND dirty`,
      { n: this.definition.name },
    );
    return Number(r.rows[0]?.[0] ?? 0);
  }

  /**
   * Recomputes up to `limit` dirty hours, those marked longest ago first, among those not marked in
   * the last `settleMs`: an hour still being written to (the current one, or one whose views are
   * completing) would be dirty again at once, and is read from the views meanwhile anyway.
   */
  async refresh(limit: number, settleMs = 0): Promise<RefreshResult> {
    const n = this.definition.name;
    // Versions are microsecond clock readings at the mark (VersionClock), so this is "marked before".
    const cutoff = Math.max(0, (Date.now() - settleMs) * 1000);
    const dirty = await this.conn.query(
      `SELECT env_id, toUnixTimestamp(hour) * 1000 AS h FROM ${ROLLUP_HOURS_TABLE} FINAL
       WHERE rollup = {n:String} AND dirty AND version <= {c:UInt64}
       ORDER BY version, env_id, hour LIMIT {l:UInt32}`,
      { n, l: limit, c: cutoff },
    );
    if (dirty.rows.length === 0) return { hours: 0, rows: 0 };
    const hours = dirty.rows.map(([env, h]) => ({ env: String(env), hourMs: Number(h) }));
    // Ranges on view_end, not a set of (env, hour) tuples: the minmax index on view_end skips the rest.
    const where = hours
      .map(
        (x) =>
          `(env_id = ${chString(x.env)} AND view_end >= toDateTime64(${chString(hourText(x.hourMs))}, 3, 'UTC') AND view_end < toDateTime64(${chString(hourText(x.hourMs + HOUR_MS))}, 3, 'UTC'))`,
      )
      .join(' OR ');
    const gen = this.versions.next();
    await this.conn.command(`INSERT INTO ${n} ${this.recomputeSelect(String(gen), where)}`);
    const clean = this.versions.next();
    await this.conn.insert(
      ROLLUP_HOURS_TABLE,
      ['rollup', 'env_id', 'hour', 'dirty', 'gen', 'version'],
      hours.map((x) => [n, x.env, hourText(x.hourMs), false, gen, clean]),
    );
    // Earlier generations of these hours are no longer read; deleting them only saves space.
    const old = hours
      .map(
        (x) => `(env_id = ${chString(x.env)} AND hour = toDateTime(${chString(hourText(x.hourMs))}, 'UTC'))`,
      )
      .join(' OR ');
    await this.conn.command(`DELETE FROM ${n} WHERE gen < ${gen} AND (${old})`);
    const count = await this.conn.query(`SELECT count() FROM ${n} WHERE gen = {g:UInt64}`, { g: gen });
    return { hours: hours.length, rows: Number(count.rows[0]?.[0] ?? 0) };
  }
}
