/**
 * `/data/v1/incidents`: list (filters: status, severity, rule, timeframe;
 * paging) and get with `data:read`, acknowledge with `alerts`; only the
 * incidents of environments the token covers. Schemas:
 * system/alerts-schemas.ts.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ErrorField } from '@openqoe/schema';
import type { FastifyInstance } from 'fastify';
import type { AlertRepository } from '../../alerts/alert-repository.js';
import { incidentAnswer } from '../../alerts/incident.js';
import type { AuthenticatedToken } from '../../auth/registry.js';
import { ApiError } from '../../http/api-error.js';
import { requirePermission } from '../../http/auth-hook.js';
import { coveredEnvironmentIds } from '../../http/target-environment.js';
import { parseTimeframe } from '../../query/query-scope.js';
import { type AlertRoutesDeps, visibleIn } from '../system/alert-rules.js';
import { INCIDENT_ACK_SCHEMA, INCIDENT_GET_SCHEMA, INCIDENT_LIST_SCHEMA } from '../system/alerts-schemas.js';

export function incidentsRoutes(
  app: FastifyInstance,
  deps: AlertRoutesDeps & { repository: AlertRepository },
): void {
  const { registry, engine, repository } = deps;
  const read = requirePermission(registry, 'data:read');
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const find = async (token: AuthenticatedToken, id: string) =>
    engine.current(visibleIn(token, await repository.incident(id), `incident ${id}`));

  r.get('/data/v1/incidents', { preHandler: read, schema: INCIDENT_LIST_SCHEMA }, async (request) => {
    const q = request.query;
    const envIds = coveredEnvironmentIds(registry, request.token!, q.environment_id);
    let timeframe: [number, number] | undefined;
    if (q['timeframe[]'] !== undefined) {
      const problems: ErrorField[] = [];
      timeframe = parseTimeframe(q['timeframe[]'], Date.now(), problems);
      if (problems.length) throw new ApiError('QOE_ERR_INVALID_PARAMETERS', undefined, problems);
    }
    const { rows, total } = await repository.incidents({
      envIds,
      status: q.status,
      severity: q.severity,
      ruleId: q.rule_id,
      fromMs: timeframe?.[0],
      toMs: timeframe?.[1],
      limit: q.limit,
      offset: (q.page - 1) * q.limit,
    });
    return {
      data: rows.map((i) => incidentAnswer(engine.current(i))),
      total_row_count: total,
      timeframe: timeframe ? timeframe.map((ms) => Math.floor(ms / 1000)) : null,
    };
  });

  r.get('/data/v1/incidents/:id', { preHandler: read, schema: INCIDENT_GET_SCHEMA }, async (request) => {
    const inc = await find(request.token!, request.params.id);
    return { data: incidentAnswer(inc, await repository.transitions(inc.id)) };
  });

  r.post(
    '/data/v1/incidents/:id/acknowledge',
    { preHandler: requirePermission(registry, 'alerts'), schema: INCIDENT_ACK_SCHEMA },
    async (request) => {
      const inc = await engine.acknowledge(await find(request.token!, request.params.id));
      return { data: incidentAnswer(inc, await repository.transitions(inc.id)) };
    },
  );
}
