/**
 * The real-time monitoring API (/data/v1/monitoring/…): what is happening to
 * viewers now, from the pipeline's state of active views (never a scan of
 * history). Shapes follow docs/monitoring-api.md; the schemas are in
 * monitoring-schemas.ts, the answers in monitoring-series.ts and
 * monitoring-breakdown.ts.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Registry } from '../../auth/registry.js';
import { requirePermission } from '../../http/auth-hook.js';
import { CSV_TOO } from '../../http/csv-answers.js';
import {
  REALTIME_DIMENSIONS,
  REALTIME_METRIC_IDS,
  REALTIME_METRICS,
} from '../../pipeline/realtime/realtime-catalog.js';
import type { MonitoringHistory } from '../../query/realtime/monitoring-history.js';
import { breakdownAnswer, breakdownTimeseriesAnswer } from './monitoring-breakdown.js';
import {
  BREAKDOWN_SCHEMA,
  BREAKDOWN_TIMESERIES_SCHEMA,
  DIMENSIONS_SCHEMA,
  HISTOGRAM_SCHEMA,
  METRICS_SCHEMA,
  TIMESERIES_SCHEMA,
} from './monitoring-schemas.js';
import { MonitoringScope } from './monitoring-scope.js';
import { histogramAnswer, timeseriesAnswer } from './monitoring-series.js';

export function monitoringRoutes(
  app: FastifyInstance,
  registry: Registry,
  history: MonitoringHistory,
  tickMs: number,
): void {
  const preHandler = requirePermission(registry, 'data:read');
  const scope = new MonitoringScope(registry, history, tickMs);
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get('/data/v1/monitoring/metrics', { preHandler, schema: METRICS_SCHEMA }, async () => {
    const data = REALTIME_METRIC_IDS.map((id) => ({
      id,
      display_name: REALTIME_METRICS[id].displayName,
      unit: REALTIME_METRICS[id].unit,
      higher_is_worse: REALTIME_METRICS[id].higherIsWorse,
    }));
    return { data, total_row_count: data.length };
  });
  r.get('/data/v1/monitoring/dimensions', { preHandler, schema: DIMENSIONS_SCHEMA }, async () => {
    const data = Object.entries(REALTIME_DIMENSIONS).map(([id, d]) => ({ id, display_name: d.displayName }));
    return { data, total_row_count: data.length };
  });
  r.get(
    '/data/v1/monitoring/metrics/:metric_id/timeseries',
    { preHandler, schema: TIMESERIES_SCHEMA },
    (request) => timeseriesAnswer(scope, request.token!, request.params.metric_id, request.query),
  );
  r.get(
    '/data/v1/monitoring/metrics/:metric_id/breakdown',
    { preHandler, schema: BREAKDOWN_SCHEMA, config: CSV_TOO },
    (request) => breakdownAnswer(scope, request.token!, request.params.metric_id, request.query),
  );
  r.get(
    '/data/v1/monitoring/metrics/:metric_id/breakdown-timeseries',
    { preHandler, schema: BREAKDOWN_TIMESERIES_SCHEMA, config: { csv: { expand: 'values' } } },
    (request) => breakdownTimeseriesAnswer(scope, request.token!, request.params.metric_id, request.query),
  );
  r.get(
    '/data/v1/monitoring/metrics/:metric_id/histogram-timeseries',
    { preHandler, schema: HISTOGRAM_SCHEMA },
    (request) => histogramAnswer(scope, request.token!, request.query),
  );
}
