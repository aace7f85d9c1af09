/**
 * `GET /video/v1/live-streams/{id}/current` (access token with `video`): a
 * stream's ingest health now and how many are watching it — what the
 * dashboard's live streams page shows, in one call. The numbers are the
 * stats API's (`/live-stream-health`, `/counts`) without a signed token.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { type Registry, tokenCoversEnvironment } from '../../auth/registry.js';
import { ApiError } from '../../http/api-error.js';
import { requirePermission } from '../../http/auth-hook.js';
import type { LiveCounts } from '../live-counts.js';
import type { LiveHealth } from '../live-health.js';
import type { LiveStreams } from '../live-streams.js';
import { STREAM_CURRENT_SCHEMA } from './live-route-schemas.js';

export interface LiveStreamCurrentDeps {
  registry: Registry;
  streams: LiveStreams;
  health: LiveHealth;
  counts: Pick<LiveCounts, 'count'>;
}

export function videoLiveStreamCurrentRoute(app: FastifyInstance, deps: LiveStreamCurrentDeps): void {
  const preHandler = requirePermission(deps.registry, 'video');
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get(
    '/video/v1/live-streams/:id/current',
    { preHandler, schema: STREAM_CURRENT_SCHEMA },
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
