/**
 * What the ClickHouse store has already stored of the views it is about to
 * upsert, read by view id before each upsert (one statement per
 * environment and 5 000 views):
 * - the earliest `first_received_at` of any stored version, which the new
 *   version keeps: that time's hour leads the views table's sorting key, and
 *   a view whose key changed would be two views (a pipeline rebuilt after a
 *   restart may see a long view's first data later than it was);
 * - the hours its stored versions end in, which the rollup marks dirty.
 */
import { VIEW_COLUMNS, type ViewRow } from '../view-row.js';
import type { ChConnection } from './connection.js';

const ENV = VIEW_COLUMNS.findIndex((c) => c.name === 'env_id');
const VIEW = VIEW_COLUMNS.findIndex((c) => c.name === 'view_id');
/** View ids per statement, inlined as literals (a parameter would travel in the URL). */
const CHUNK = 5000;

export interface StoredVersions {
  firstReceivedMs: number;
  /** Start of each hour a stored version ends in, epoch ms. */
  endHoursMs: number[];
}

/** A ClickHouse string literal. */
export const chString = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** `env_id \0 view_id` of a row: the key of `readStoredVersions`' answer. */
export const viewKey = (row: ViewRow): string => `${row[ENV]}\u0000${row[VIEW]}`;

export async function readStoredVersions(
  conn: ChConnection,
  rows: Iterable<ViewRow>,
): Promise<Map<string, StoredVersions>> {
  const idsByEnv = new Map<string, string[]>();
  for (const row of rows) {
    const env = String(row[ENV]);
    const ids = idsByEnv.get(env) ?? [];
    if (ids.length === 0) idsByEnv.set(env, ids);
    ids.push(String(row[VIEW]));
  }
  const out = new Map<string, StoredVersions>();
  for (const [env, ids] of idsByEnv) {
    for (let i = 0; i < ids.length; i += CHUNK) {
      const list = ids
        .slice(i, i + CHUNK)
        .map(chString)
        .join(', ');
      // Every stored version, not only the newest: versions not yet merged count too.
      const r = await conn.query(
        `SELECT view_id, toUnixTimestamp64Milli(min(first_received_at)) AS fr,
                groupUniqArray(toUnixTimestamp(toStartOfHour(view_end))) AS hours
         FROM views WHERE env_id = {e:String} AND view_id IN (${list}) GROUP BY view_id`,
        { e: env },
      );
      for (const [id, fr, hours] of r.rows)
        out.set(`${env}\u0000${String(id)}`, {
          firstReceivedMs: Number(fr),
          endHoursMs: (hours as unknown[]).map((h) => Number(h) * 1000),
        });
    }
  }
  return out;
}
