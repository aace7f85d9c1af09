/**
 * The query API writes DuckDB-style positional parameters ($1, $2 …);
 * ClickHouse names them with a type ({p1:String}). The type follows the
 * value bound, so request input still only ever arrives as a parameter.
 */
export function bindPositional(
  sql: string,
  values: readonly unknown[],
): { sql: string; params: Record<string, unknown> } {
  const params: Record<string, unknown> = {};
  const out = sql.replace(/\$(\d+)/g, (_m, n: string) => {
    const i = Number(n) - 1;
    if (i < 0 || i >= values.length) throw new Error(`SQL parameter $${n} has no value`);
    const v = values[i];
    params[`p${n}`] = v === null || v === undefined ? null : v;
    return `{p${n}:${chType(v)}}`;
  });
  return { sql: out, params };
}

function chType(v: unknown): string {
  if (v === null || v === undefined) return 'Nullable(String)';
  if (typeof v === 'boolean') return 'Bool';
  if (typeof v === 'bigint') return 'Int64';
  if (typeof v === 'number') return Number.isInteger(v) ? 'Int64' : 'Float64';
  return 'String';
}
