/**
 * Filter sets on the wire, shared by the api node (realtime-filters.ts) and
 * the pipeline workers (worker-filter-sets.ts): the subjects, a set's
 * serialisable form, and how a worker turns a tick into a set's items.
 */
import type { ErrorField } from '@openqoe/schema';
import { realtimeSubject } from '../bus/partitions.js';
import { REALTIME_DIMENSIONS } from '../pipeline/realtime/realtime-catalog.js';
import {
  aggregateFiltered,
  breakdownFiltered,
  type RealtimeTick,
} from '../pipeline/realtime/realtime-tracker.js';
import {
  parseRealtimeFilters,
  type RealtimeFilter,
  viewMatches,
} from '../query/realtime/monitoring-filters.js';
import { rowItems, toWire, type WireItem } from './realtime-wire.js';

/** The api node's tracked filter sets (re-sent every tick, so a restarted worker learns them). */
export const filtersSubject = (prefix: string) => `${realtimeSubject(prefix)}.filters`;
/** Scatter-gather: a filter set's numbers at the latest tick, asked of every worker. */
export const askSubject = (prefix: string) => `${realtimeSubject(prefix)}.ask`;

/**
 * Rows a worker sends per dimension of a filtered breakdown: its most-watched
 * values (as many as a breakdown answer may list), so a dimension with
 * very many values cannot swell the tick.
 */
export const FILTERED_ROWS_PER_DIMENSION = 1000;

/** A filter set as workers receive it: its key, its filters as the API takes them, the dimensions to break down by. */
export interface FilterSpec {
  envId: string;
  key: string;
  filters: string[];
  dims: string[];
}

/** Head of a filters message (its items are FilterSpecs). */
export interface FiltersHead {
  /** Which api node sent it: workers keep each api node's list. */
  api: string;
  seq: number;
}

/** Head of a scatter request (no items). */
export interface AskRequest {
  /** The api node's latest tick: a worker answers from its tick of the same window when it has it. */
  atMs: number;
  spec: FilterSpec;
}

/** Head of a worker's reply (its items: `fo` and `fd` of the set). */
export interface AskReplyHead {
  worker: string;
  atMs: number;
  windowMs: number;
}

/** The filters of a set, as `filters[]` strings ("dim:value", "!dim:value"). */
export function filterStrings(f: RealtimeFilter): string[] {
  const list = (tag: string, m: Map<string, Set<string>>) =>
    [...m].flatMap(([d, vs]) => [...vs].map((v) => `${tag}${d}:${v}`));
  return [...list('', f.include), ...list('!', f.exclude)];
}

/** A spec's filter again; undefined (and the set ignored) if it names something this worker does not know. */
export function specFilter(spec: FilterSpec): RealtimeFilter | undefined {
  const problems: ErrorField[] = [];
  const f = parseRealtimeFilters(spec.filters, problems);
  return problems.length || spec.dims.some((d) => !REALTIME_DIMENSIONS[d]) ? undefined : f;
}

/** The items of one filter set over a worker's tick: its overall aggregate and a breakdown per asked dimension. */
export function setItems(
  t: RealtimeTick,
  key: string,
  filter: RealtimeFilter,
  dims: readonly string[],
): string[] {
  const keep = (v: Parameters<typeof viewMatches>[0]) => viewMatches(v, filter);
  const items: string[] = [];
  let overall = dims.length ? undefined : aggregateFiltered(t, keep);
  for (const d of dims) {
    const b = breakdownFiltered(t, d, keep);
    overall ??= b.overall;
    const rows = [...b.rows]
      .sort((x, y) => y[1].concurrent - x[1].concurrent || (x[0] < y[0] ? -1 : 1))
      .slice(0, FILTERED_ROWS_PER_DIMENSION);
    items.push(...rowItems((r) => ({ k: 'fd', f: key, d, r }), rows));
  }
  items.unshift(JSON.stringify({ k: 'fo', f: key, a: toWire(overall!) } satisfies WireItem));
  return items;
}
