/**
 * What every data query shares: which environments, which timeframe, which
 * filters. Parsed from the query string into a parameterised WHERE clause;
 * values are always parameters, identifiers only come from DIMENSIONS.
 *
 * - `timeframe[]=<from>&timeframe[]=<to>` (epoch seconds) or
 *   `timeframe[]=24:hours` (minutes, hours, days); default the last 24 hours.
 *   A view belongs to the timeframe its end falls in.
 * - `filters[]=country:DE` keeps views whose country is DE; several values of
 *   one dimension are alternatives (OR), different dimensions all apply
 *   (AND); `filters[]=!country:DE` excludes.
 * - `environment_id` narrows to one environment; without it, every
 *   environment the token covers. An environment the token does not cover is
 *   refused (403).
 */
import type { ErrorField } from '@openqoe/schema';
import type { AuthenticatedToken, Registry } from '../auth/registry.js';
import { ApiError } from '../http/api-error.js';
import { coveredEnvironmentIds } from '../http/target-environment.js';
import { DUCKDB_DIALECT, type SqlDialect } from '../store/sql-dialect.js';
import { DIMENSIONS } from './dimensions.js';

export interface ScopeQuery {
  'timeframe[]'?: string[];
  'filters[]'?: string[];
  environment_id?: string;
}

export interface Scope {
  fromMs: number;
  toMs: number;
  envIds: string[];
  where: string;
  /** The parts of `where`: the environments, and each filter (all ANDed with the timeframe). */
  envWhere: string;
  filterWhere: string[];
  /** Columns the filters read. */
  filterColumns: string[];
  /** Parameters of `where`; a query adds its own after them. */
  params: Params;
}

const UNIT_MS: Record<string, number> = {
  minute: 60_000,
  minutes: 60_000,
  hour: 3_600_000,
  hours: 3_600_000,
  day: 86_400_000,
  days: 86_400_000,
};
const MAX_TIMEFRAME_MS = 400 * 86_400_000;

/** Collects SQL parameters and hands out their placeholders. */
export class Params {
  readonly values: unknown[] = [];
  add(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

export function parseTimeframe(
  raw: string[] | undefined,
  nowMs: number,
  problems: ErrorField[],
): [number, number] {
  const tf = raw ?? [];
  if (tf.length === 0) return [nowMs - 86_400_000, nowMs];
  if (tf.length === 1) {
    const m = /^(\d+):(minutes?|hours?|days?)$/.exec(tf[0]!);
    if (!m) {
      problems.push({ path: 'timeframe[]', problem: 'must be "N:minutes|hours|days" or two epoch seconds' });
      return [0, 0];
    }
    return [nowMs - Number(m[1]) * UNIT_MS[m[2]!]!, nowMs];
  }
  if (tf.length !== 2 || !tf.every((x) => /^\d{1,12}$/.test(x))) {
    problems.push({
      path: 'timeframe[]',
      problem: 'must be "N:minutes|hours|days" or two epoch seconds (from, to)',
    });
    return [0, 0];
  }
  const from = Number(tf[0]) * 1000;
  const to = Number(tf[1]) * 1000;
  if (to <= from) problems.push({ path: 'timeframe[]', problem: 'the end must be after the start' });
  return [from, to];
}

export function dimensionColumn(name: string, path: string, problems: ErrorField[]): string | undefined {
  const col = DIMENSIONS[name];
  if (!col)
    problems.push({
      path,
      problem: `${JSON.stringify(name)} is not a dimension; see GET /data/v1/dimensions`,
    });
  return col;
}

export function buildScope(
  query: ScopeQuery,
  token: AuthenticatedToken,
  registry: Registry,
  nowMs = Date.now(),
  dialect: SqlDialect = DUCKDB_DIALECT,
): Scope {
  const problems: ErrorField[] = [];
  const [fromMs, toMs] = parseTimeframe(query['timeframe[]'], nowMs, problems);
  if (toMs - fromMs > MAX_TIMEFRAME_MS)
    problems.push({ path: 'timeframe[]', problem: 'must span at most 400 days' });

  let envIds: string[] = [];
  if (query.environment_id !== undefined && !registry.environment(query.environment_id)) {
    problems.push({ path: 'environment_id', problem: `no environment ${query.environment_id}` });
  } else envIds = coveredEnvironmentIds(registry, token, query.environment_id);

  const params = new Params();
  const clauses: string[] = [];
  const include = new Map<string, string[]>();
  const exclude = new Map<string, string[]>();
  (query['filters[]'] ?? []).forEach((f, i) => {
    const m = /^(!?)([a-z0-9_]+):(.*)$/s.exec(f);
    if (!m) {
      problems.push({ path: `filters[${i}]`, problem: 'must be "dimension:value" or "!dimension:value"' });
      return;
    }
    const col = dimensionColumn(m[2]!, `filters[${i}]`, problems);
    if (!col) return;
    const target = m[1] ? exclude : include;
    target.set(col, [...(target.get(col) ?? []), m[3]!]);
  });
  if (problems.length) throw new ApiError('QOE_ERR_INVALID_PARAMETERS', undefined, problems);

  const envWhere = envIds.length ? `env_id IN (${envIds.map((e) => params.add(e)).join(', ')})` : 'FALSE';
  clauses.push(envWhere);
  // Parameters bind as DOUBLE; the casts pick epoch_ms(BIGINT) → TIMESTAMP.
  clauses.push(
    `view_end >= ${dialect.msToTimestamp(params.add(fromMs))}`,
    `view_end < ${dialect.msToTimestamp(params.add(toMs))}`,
  );
  const filterWhere: string[] = [];
  for (const [col, values] of include)
    filterWhere.push(`${col} IN (${values.map((v) => params.add(v)).join(', ')})`);
  for (const [col, values] of exclude)
    filterWhere.push(`${col} NOT IN (${values.map((v) => params.add(v)).join(', ')})`);
  clauses.push(...filterWhere);
  return {
    fromMs,
    toMs,
    envIds,
    where: clauses.join(' AND '),
    envWhere,
    filterWhere,
    filterColumns: [...new Set([...include.keys(), ...exclude.keys()])],
    params,
  };
}
