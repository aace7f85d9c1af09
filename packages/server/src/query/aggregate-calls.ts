/**
 * Finds the aggregate calls in the metric catalog's SQL (ClickHouse
 * spelling) and spells each as a partial aggregation state and as the merge
 * of such states. A rollup stores the states per (environment, hour,
 * dimensions); a query merges them, which gives the same number as the
 * aggregate over the views themselves: sums and counts add, an average
 * keeps its sum and count, the exact quantiles keep their values and an
 * exact distinct count its set.
 */

export interface AggregateCall {
  /** The call as written, whitespace collapsed: the key that names its state column. */
  key: string;
  /** Function name without parameters: count, sum, avg, min, max, quantile(s)ExactInclusive, uniqExact. */
  fn: string;
  /** Parametric functions' parameters with their parentheses, e.g. "(0.5, 0.95)"; else "". */
  params: string;
  /** Argument list as written ("" for count(*)). */
  args: string;
  /** The FILTER (WHERE …) condition, if any. */
  cond: string | undefined;
  start: number;
  end: number;
}

const CALL =
  /(count|sum|avg|min|max|quantileExactInclusive|quantilesExactInclusive|uniqExact)(\([\d., ]+\))?\(/y;
const FILTER = /\s*FILTER\s*\(\s*WHERE\s+/iy;

/** Index just past the parenthesis that closes the one before `from`, skipping quoted text. */
function closing(sql: string, from: number): number {
  let depth = 1;
  for (let i = from; i < sql.length; i++) {
    const c = sql[i];
    if (c === "'") {
      i++;
      while (i < sql.length && sql[i] !== "'") i += sql[i] === '\\' ? 2 : 1;
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i + 1;
  }
  throw new Error(`unbalanced parentheses in ${JSON.stringify(sql)}`);
}

const collapse = (s: string) => s.replace(/\s+/g, ' ').trim();

export function findAggregateCalls(sql: string): AggregateCall[] {
  const calls: AggregateCall[] = [];
  let i = 0;
  while (i < sql.length) {
    const prev = i > 0 ? sql[i - 1]! : ' ';
    CALL.lastIndex = i;
    const m = /[A-Za-z0-9_.]/.test(prev) ? null : CALL.exec(sql);
    if (!m) {
      i++;
      continue;
    }
    const argsStart = CALL.lastIndex;
    let end = closing(sql, argsStart);
    const rawArgs = sql.slice(argsStart, end - 1).trim();
    let cond: string | undefined;
    FILTER.lastIndex = end;
    const f = FILTER.exec(sql);
    if (f) {
      const condEnd = closing(sql, FILTER.lastIndex);
      cond = collapse(sql.slice(FILTER.lastIndex, condEnd - 1));
      end = condEnd;
    }
    calls.push({
      key: collapse(sql.slice(i, end)),
      fn: m[1]!,
      params: m[2] ?? '',
      args: rawArgs === '*' ? '' : collapse(rawArgs),
      cond,
      start: i,
      end,
    });
    i = end;
  }
  return calls;
}

/** The call as a partial state: sumIfState(x, cond), quantileExactInclusiveState(0.5)(x), countState(). */
export function stateSql(c: AggregateCall): string {
  const args = [c.args, c.cond].filter((a) => a !== undefined && a !== '').join(', ');
  return `${c.fn}${c.cond ? 'If' : ''}State${c.params}(${args})`;
}

/** The merge of a state column made by `stateSql`. */
export function mergeSql(c: AggregateCall, column: string): string {
  return `${c.fn}${c.cond ? 'If' : ''}Merge${c.params}(${column})`;
}

/**
 * `sql` with every aggregate call replaced by the merge of its state column
 * (`columnOf` gives it by the call's key), or undefined when a call has none.
 */
export function rewriteToMerges(
  sql: string,
  columnOf: (key: string) => string | undefined,
): string | undefined {
  let out = '';
  let at = 0;
  for (const c of findAggregateCalls(sql)) {
    const column = columnOf(c.key);
    if (column === undefined) return undefined;
    out += sql.slice(at, c.start) + mergeSql(c, column);
    at = c.end;
  }
  return out + sql.slice(at);
}
