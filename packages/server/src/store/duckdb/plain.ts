/** What DuckDB returns, as the store interface reads it: plain JSON-able values, timestamps as epoch ms. */
import { DuckDBTimestampValue } from '@duckdb/node-api';
import type { ReadValue } from '../store.js';

export function plain(v: unknown): ReadValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (v instanceof DuckDBTimestampValue) return Number(v.micros / 1000n);
  return String(v);
}
