/** `/healthz` and `/metrics` (Prometheus): public unless `metrics.requireToken`. */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Registry } from '../auth/registry.js';
import type { Bus } from '../bus/bus.js';
import { requirePermission } from '../http/auth-hook.js';
import type { Metrics } from '../observability/metrics.js';

export function opsRoutes(
  app: FastifyInstance,
  deps: {
    bus: Bus;
    metrics: Metrics;
    registry: Registry;
    requireToken: boolean;
    startedAtMs: number;
    listenersOff: readonly string[];
  },
): void {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['ops'],
        summary: 'Liveness and the state of the intake log',
        response: {
          200: Type.Object({
            status: Type.Literal('ok'),
            uptime_s: Type.Integer(),
            bus: Type.Object({
              end_position: Type.Integer(),
              backlog_bytes: Type.Integer(),
              segments: Type.Integer(),
            }),
            listeners_off: Type.Array(Type.String(), {
              description: 'Optional listeners (RTMP, the Mux-protocol intake) that could not start, and why',
            }),
          }),
        },
      },
    },
    async () => {
      const s = deps.bus.stats();
      return {
        status: 'ok' as const,
        uptime_s: Math.floor((Date.now() - deps.startedAtMs) / 1000),
        bus: { end_position: s.endPosition, backlog_bytes: s.backlogBytes, segments: s.segments },
        listeners_off: deps.listenersOff,
      };
    },
  );

  app.get(
    '/metrics',
    {
      schema: { tags: ['ops'], summary: 'Prometheus metrics', hide: false },
      ...(deps.requireToken ? { preHandler: requirePermission(deps.registry, 'system') } : {}),
    },
    async (_request, reply) => {
      deps.metrics.busLagBytes.set(deps.bus.stats().backlogBytes);
      reply.header('content-type', deps.metrics.registry.contentType);
      return deps.metrics.registry.metrics();
    },
  );
}
