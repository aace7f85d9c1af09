/**
 * What the metrics routes query with: the metric catalog's SQL rewritten
 * once in the store's dialect, a request's scope, the measurement it asks
 * for, and where its aggregates come from (whole hours from the rollup).
 */
import type { ViewMetricId } from '@openqoe/schema';
import type { AuthenticatedToken, Registry } from '../../auth/registry.js';
import { ApiError } from '../../http/api-error.js';
import { METRICS, type Measurement, type MetricDefinition } from '../../query/metric-catalog.js';
import { buildScope, type Scope, type ScopeQuery } from '../../query/query-scope.js';
import { type AggregationSource, aggregationSource } from '../../query/views-rollup.js';
import type { ReadValue, Store } from '../../store/store.js';
import type { Granularity } from './metrics-schemas.js';

export const num = (v: ReadValue | undefined): number | null =>
  v === null || v === undefined ? null : Number(v);

export const timeframeOf = (s: Scope) => [Math.floor(s.fromMs / 1000), Math.floor(s.toMs / 1000)];

export function autoGranularity(spanMs: number): Granularity {
  if (spanMs <= 3 * 3_600_000) return 'minute';
  if (spanMs <= 24 * 3_600_000) return 'ten_minutes';
  if (spanMs <= 14 * 86_400_000) return 'hour';
  return 'day';
}

export class MetricQueries {
  private readonly catalog: typeof METRICS;

  constructor(
    private readonly registry: Registry,
    readonly store: Store,
    /** Told, per metrics query, whether whole hours came from the rollup. */
    private readonly onSource: (rollup: boolean) => void,
  ) {
    const dialect = store.dialect;
    this.catalog = Object.fromEntries(
      Object.entries(METRICS).map(([id, m]) => [
        id,
        {
          ...m,
          sql: Object.fromEntries(Object.entries(m.sql).map(([k, sql]) => [k, dialect.aggregates(sql)])),
          viewsSql: dialect.aggregates(m.viewsSql),
        },
      ]),
    ) as typeof METRICS;
  }

  /** The metric's definition and the SQL of the measurement asked for (its default when none). */
  measure(
    metricId: ViewMetricId,
    requested: Measurement | undefined,
  ): { def: MetricDefinition; m: Measurement; sql: string } {
    const def = this.catalog[metricId];
    const m = requested ?? def.defaultMeasurement;
    const sql = def.sql[m];
    if (!sql) {
      throw new ApiError('QOE_ERR_INVALID_PARAMETERS', undefined, [
        { path: 'measurement', problem: `${metricId} offers ${Object.keys(def.sql).join(', ')}` },
      ]);
    }
    return { def, m, sql };
  }

  scope(query: ScopeQuery, token: AuthenticatedToken): Scope {
    return buildScope(query, token, this.registry, undefined, this.store.dialect);
  }

  async source(scope: Scope, request: Parameters<typeof aggregationSource>[2]): Promise<AggregationSource> {
    const src = await aggregationSource(this.store, scope, request);
    this.onSource(src.rollup);
    return src;
  }
}
