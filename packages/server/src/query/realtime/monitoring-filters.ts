/**
 * `filters[]` of the monitoring API, as in the data API: "dimension:value"
 * keeps, "!dimension:value" excludes; values of one dimension are ORed,
 * dimensions ANDed. Only the real-time dimensions can be used.
 */
import type { ErrorField } from '@openqoe/schema';
import { entry } from '../../pipeline/realtime/map-entry.js';
import { REALTIME_DIMENSIONS } from '../../pipeline/realtime/realtime-catalog.js';
import type { ActiveView } from '../../pipeline/view-model/active-views.js';

export interface RealtimeFilter {
  include: Map<string, Set<string>>;
  exclude: Map<string, Set<string>>;
  /** Canonical form: the same filters in any order track one series. */
  key: string;
  /** Set when the filter is exactly one included value. */
  singleInclude: { dimension: string; value: string } | undefined;
  empty: boolean;
}

export function parseRealtimeFilters(
  raw: readonly string[] | undefined,
  problems: ErrorField[],
): RealtimeFilter {
  const include = new Map<string, Set<string>>();
  const exclude = new Map<string, Set<string>>();
  (raw ?? []).forEach((f, i) => {
    const m = /^(!?)([a-z0-9_]+):(.*)$/s.exec(f);
    if (!m) {
      problems.push({ path: `filters[${i}]`, problem: 'must be "dimension:value" or "!dimension:value"' });
      return;
    }
    if (!REALTIME_DIMENSIONS[m[2]!]) {
      problems.push({
        path: `filters[${i}]`,
        problem: `unknown real-time dimension "${m[2]}"; one of ${Object.keys(REALTIME_DIMENSIONS).join(', ')}`,
      });
      return;
    }
    entry(m[1] ? exclude : include, m[2]!, () => new Set<string>()).add(m[3]!);
  });
  const canon = (tag: string, map: Map<string, Set<string>>) =>
    [...map].flatMap(([d, vs]) => [...vs].map((v) => `${tag}${d}:${v}`));
  const key = [...canon('', include), ...canon('!', exclude)].sort().join('\u0000');
  const only = include.size === 1 && exclude.size === 0 ? [...include][0]! : undefined;
  return {
    include,
    exclude,
    key,
    singleInclude: only && only[1].size === 1 ? { dimension: only[0], value: [...only[1]][0]! } : undefined,
    empty: include.size === 0 && exclude.size === 0,
  };
}

export function viewMatches(view: ActiveView, f: RealtimeFilter): boolean {
  for (const [dim, values] of f.include) if (!values.has(REALTIME_DIMENSIONS[dim]!.read(view))) return false;
  for (const [dim, values] of f.exclude) if (values.has(REALTIME_DIMENSIONS[dim]!.read(view))) return false;
  return true;
}
