/**
 * `/healthz` (liveness), `/readyz` (readiness: 503 with the reasons while the
 * pipeline waits for the store, the data dir's disk is near full or the log
 * is full) and `/metrics` (Prometheus): public unless `metrics.requireToken`.
 */
import { statfs } from 'node:fs/promises';
import { HealthzResponse } from '@openqoe/schema';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Registry } from '../auth/registry.js';
import type { Bus } from '../bus/bus.js';
import { ApiError, sendError } from '../http/api-error.js';
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
    dataDir: string;
    readiness: { minFreeDiskBytes: number; minFreeDiskPercent: number };
    /** The log's bound (`bus.maxBacklogBytes`); none on NATS, whose stream has its own limits. */
    maxBacklogBytes?: number;
  },
): void {
  const MiB = 1024 * 1024;
  /** Why this node should get no traffic now; empty when ready. */
  const notReady = async (): Promise<string[]> => {
    const reasons: string[] = [];
    if ((await deps.metrics.pipelineStalled.get()).values.some((v) => v.value > 0))
      reasons.push(
        'store_stalled: the store refuses writes; the pipeline keeps them, retries and reads nothing more from the log until it takes them',
      );
    const { minFreeDiskBytes, minFreeDiskPercent } = deps.readiness;
    const fs = await statfs(deps.dataDir).catch((err: Error) => err);
    const free = fs instanceof Error ? 0 : fs.bavail * fs.bsize;
    const floor =
      fs instanceof Error ? 0 : Math.max(minFreeDiskBytes, (fs.blocks * fs.bsize * minFreeDiskPercent) / 100);
    if (fs instanceof Error)
      reasons.push(`disk_near_full: cannot read the data dir's free space: ${fs.message}`);
    else if (free < floor)
      reasons.push(
        `disk_near_full: ${(free / MiB).toFixed(1)} MiB free on the data dir's filesystem, below ${(floor / MiB).toFixed(1)} MiB (readiness.minFreeDiskBytes, readiness.minFreeDiskPercent)`,
      );
    const backlog = deps.bus.stats().backlogBytes;
    if (deps.maxBacklogBytes !== undefined && backlog > deps.maxBacklogBytes)
      reasons.push(
        `backlog_full: ${backlog} bytes in the log not yet processed (bus.maxBacklogBytes ${deps.maxBacklogBytes}); intakes answer 429`,
      );
    deps.metrics.ready.set(reasons.length ? 0 : 1);
    return reasons;
  };

  app.get(
    '/healthz',
    {
      schema: {
        tags: ['ops'],
        summary: 'Liveness and the state of the intake log',
        response: { 200: HealthzResponse },
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
    '/readyz',
    {
      schema: {
        tags: ['ops'],
        summary:
          'Readiness: 503 (QOE_ERR_NOT_READY, the reasons as messages) while the node should get no traffic',
        description:
          "Not ready while the pipeline waits for the store to take writes (`store_stalled`), the data dir's filesystem is near full (`disk_near_full`, see `readiness.*`) or the log is full (`backlog_full`). Each reason clears by itself; /healthz stays 200 meanwhile.",
        response: { 200: Type.Object({ status: Type.Literal('ready') }) },
      },
    },
    async (_request, reply) => {
      const reasons = await notReady();
      if (reasons.length)
        return sendError(reply, new ApiError('QOE_ERR_NOT_READY', reasons, [], { 'retry-after': '5' }));
      return { status: 'ready' as const };
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
      await notReady();
      reply.header('content-type', deps.metrics.registry.contentType);
      return deps.metrics.registry.metrics();
    },
  );
}
