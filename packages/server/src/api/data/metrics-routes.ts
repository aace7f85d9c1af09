/**
 * Historical metrics over stored views: `/data/v1/metrics/{metric_id}/overall`,
 * `/timeseries` and `/breakdown`, the lists of metrics and dimensions, and the
 * error analysis (`/data/v1/errors`, error-analysis.ts). Each answers CSV too
 * (http/csv-answers.ts).
 * Every number is one aggregate over the `views` table (metric-catalog.ts);
 * the schemas are in metrics-schemas.ts, the answers in metrics-answers.ts.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { VIEW_METRIC_IDS } from '@openqoe/schema';
import type { FastifyInstance } from 'fastify';
import type { Registry } from '../../auth/registry.js';
import { requirePermission } from '../../http/auth-hook.js';
import { CSV_TOO } from '../../http/csv-answers.js';
import { DIMENSION_NAMES } from '../../query/dimensions.js';
import { METRICS } from '../../query/metric-catalog.js';
import type { Store } from '../../store/store.js';
import { ERRORS_SCHEMA, errorAnalysisAnswer } from './error-analysis.js';
import { MetricQueries } from './metric-queries.js';
import { breakdownAnswer, overallAnswer, timeseriesAnswer } from './metrics-answers.js';
import {
  BREAKDOWN_SCHEMA,
  DIMENSION_LIST_SCHEMA,
  METRIC_LIST_SCHEMA,
  OVERALL_SCHEMA,
  TIMESERIES_SCHEMA,
} from './metrics-schemas.js';

export function metricsRoutes(
  app: FastifyInstance,
  registry: Registry,
  store: Store,
  /** Told, per metrics query, whether whole hours came from the rollup. */
  onSource: (rollup: boolean) => void = () => {},
): void {
  const preHandler = requirePermission(registry, 'data:read');
  const mq = new MetricQueries(registry, store, onSource);
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get('/data/v1/metrics', { preHandler, schema: METRIC_LIST_SCHEMA }, async () => {
    const data = VIEW_METRIC_IDS.map((id) => ({
      id,
      unit: METRICS[id].unit,
      measurements: Object.keys(METRICS[id].sql),
      default_measurement: METRICS[id].defaultMeasurement,
      higher_is_worse: METRICS[id].higherIsWorse,
    }));
    return { data, total_row_count: data.length };
  });
  r.get('/data/v1/dimensions', { preHandler, schema: DIMENSION_LIST_SCHEMA }, async () => ({
    data: DIMENSION_NAMES,
    total_row_count: DIMENSION_NAMES.length,
  }));
  r.get(
    '/data/v1/metrics/:metric_id/overall',
    { preHandler, schema: OVERALL_SCHEMA, config: CSV_TOO },
    (request) => overallAnswer(mq, request.token!, request.params.metric_id, request.query),
  );
  r.get(
    '/data/v1/metrics/:metric_id/timeseries',
    { preHandler, schema: TIMESERIES_SCHEMA, config: CSV_TOO },
    (request) => timeseriesAnswer(mq, request.token!, request.params.metric_id, request.query),
  );
  r.get(
    '/data/v1/metrics/:metric_id/breakdown',
    { preHandler, schema: BREAKDOWN_SCHEMA, config: CSV_TOO },
    (request) => breakdownAnswer(mq, request.token!, request.params.metric_id, request.query),
  );
  r.get('/data/v1/errors', { preHandler, schema: ERRORS_SCHEMA, config: CSV_TOO }, (request) =>
    errorAnalysisAnswer(mq, request.token!, request.query),
  );
}
