/**
 * `GET /video/v1/live-streams/{id}/current` (access token with `video`): a
 * stream's ingest health now and how many are watching it — what the
 * dashboard's live streams page shows, in one call. The numbers are the
 * stats API's (`/live-stream-health`, `/counts`) without a signed token.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { type Registry, tokenCoversEnvironment } from '../../auth/registry.js';
import { ApiError } from '../../http/api-error.js';
import { requirePermission } from '../../http/auth-hook.js';
import type { LiveCounts } from '../live-counts.js';
import type { LiveHealth } from '../live-health.js';
import type { LiveStreams } from '../live-streams.js';

const CurrentOut = Type.Object({
  id: Type.String(),
  environment_id: Type.String(),
  status: Type.Union(
    ['excellent', 'good', 'poor', 'unknown'].map((s) => Type.Literal(s)),
    {
      description:
        'From the drift deviation: excellent ≤ 500 ms, good ≤ 1000 ms, poor above; unknown without data',
    },
  ),
  connected: Type.Boolean({ description: 'An encoder is publishing' }),
  updated_at: Type.String({ description: 'ISO-8601: the latest video packet, or now when unknown' }),
  stream_drift_ms: Type.Integer({ description: 'Wall-clock elapsed − media elapsed (0 when unknown)' }),
  stream_drift_session_avg: Type.Integer({ description: 'ms' }),
  stream_drift_deviation_from_rolling_avg: Type.Integer({ description: 'ms' }),
  views: Type.Integer({ description: 'Views of the stream being watched now' }),
  viewers: Type.Integer({ description: 'Distinct viewers among them' }),
});

export interface LiveStreamCurrentDeps {
  registry: Registry;
  streams: LiveStreams;
  health: LiveHealth;
  counts: Pick<LiveCounts, 'count'>;
}

export function videoLiveStreamCurrentRoute(app: FastifyInstance, deps: LiveStreamCurrentDeps): void {
  app.get<{ Params: { id: string } }>(
    '/video/v1/live-streams/:id/current',
    {
      preHandler: requirePermission(deps.registry, 'video'),
      schema: {
        tags: ['video'],
        security: [{ basicAuth: [] }],
        summary: 'Ingest health and viewer counts of a live stream now',
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        response: {
          200: Type.Object({ data: CurrentOut }),
          401: { $ref: 'ErrorEnvelope#' },
          403: { $ref: 'ErrorEnvelope#' },
          404: { $ref: 'ErrorEnvelope#' },
        },
      },
    },
    async (request) => {
      const s = deps.streams.get(request.params.id);
      if (!s || !tokenCoversEnvironment(request.token!, s.envId))
        throw new ApiError('QOE_ERR_NOT_FOUND', [`No live stream ${request.params.id}`]);
      const h = deps.health.health(s.id);
      const c = deps.counts.count(s.envId, 'live_stream_id', s.id);
      return {
        data: {
          id: s.id,
          environment_id: s.envId,
          status: h.status,
          connected: h.connected,
          updated_at: new Date(h.updatedAtMs).toISOString(),
          stream_drift_ms: Math.round(h.driftMs),
          stream_drift_session_avg: Math.round(h.sessionAvgMs),
          stream_drift_deviation_from_rolling_avg: Math.round(h.deviationMs),
          views: c.views,
          viewers: c.viewers,
        },
      };
    },
  );
}
