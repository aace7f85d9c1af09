/**
 * `/video/v1/live-streams`: create, list, get, delete live streams (access
 * token with `video`), each stream's ingest health history, and its health
 * and viewer counts now (`/current`: what the dashboard's live streams page
 * shows in one call, the stats API's numbers without a signed token). A
 * stream's key is secret (whoever has it can publish) and is shown to tokens
 * that cover its environment, as the reference does. Schemas: live-route-schemas.ts.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { LiveStream, RtmpIngestInfo } from '@openqoe/schema';
import type { FastifyInstance } from 'fastify';
import { type AuthenticatedToken, type Registry, tokenCoversEnvironment } from '../../auth/registry.js';
import { ApiError } from '../../http/api-error.js';
import { requirePermission } from '../../http/auth-hook.js';
import { pageOf } from '../../http/paging.js';
import { bodyDefaultsToObject, targetEnvironment } from '../../http/target-environment.js';
import type { LiveStore, LiveStreamRecord } from '../../store/live-store.js';
import type { LiveCounts } from '../live-counts.js';
import type { LiveHealth } from '../live-health.js';
import type { LiveStreams } from '../live-streams.js';
import type { RtmpIngest } from '../rtmp-ingest.js';
import {
  STREAM_CREATE_SCHEMA,
  STREAM_CURRENT_SCHEMA,
  STREAM_DELETE_SCHEMA,
  STREAM_GET_SCHEMA,
  STREAM_HEALTH_SCHEMA,
  STREAM_LIST_SCHEMA,
} from './live-route-schemas.js';

export interface LiveStreamDeps {
  registry: Registry;
  streams: LiveStreams;
  health: LiveHealth;
  store: LiveStore;
  ingest: RtmpIngest | undefined;
  /** Where encoders push, or why they cannot: said with every list and create. */
  rtmp: RtmpIngestInfo;
  counts: Pick<LiveCounts, 'count'>;
}

const round = (v: number | null) => (v === null ? null : Math.round(v));

export function videoLiveStreamsRoutes(app: FastifyInstance, deps: LiveStreamDeps): void {
  const { registry, streams, health } = deps;
  const preHandler = requirePermission(registry, 'video');
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const out = (s: LiveStreamRecord): LiveStream => ({
    id: s.id,
    environment_id: s.envId,
    stream_key: s.streamKey,
    status: health.isConnected(s.id) ? 'active' : 'idle',
    created_at: String(Math.floor(s.createdAtMs / 1000)),
  });
  const visible = (token: AuthenticatedToken, id: string) => {
    const s = streams.get(id);
    if (!s || !tokenCoversEnvironment(token, s.envId))
      throw new ApiError('QOE_ERR_NOT_FOUND', [`No live stream ${id}`]);
    return s;
  };

  const create = { preHandler, preValidation: bodyDefaultsToObject, schema: STREAM_CREATE_SCHEMA };
  r.post('/video/v1/live-streams', create, async (request, reply) => {
    const envId = targetEnvironment(registry, request.token!, request.body.environment_id);
    return reply.code(201).send({ data: out(await streams.create(envId)), rtmp: deps.rtmp });
  });

  r.get('/video/v1/live-streams', { preHandler, schema: STREAM_LIST_SCHEMA }, async (request) => {
    const list = streams.list().filter((s) => tokenCoversEnvironment(request.token!, s.envId));
    const { data, total_row_count } = pageOf(list, request.query.limit, request.query.page);
    return { data: data.map(out), total_row_count, rtmp: deps.rtmp };
  });

  r.get('/video/v1/live-streams/:id', { preHandler, schema: STREAM_GET_SCHEMA }, async (request) => ({
    data: out(visible(request.token!, request.params.id)),
  }));

  const remove = { preHandler, schema: STREAM_DELETE_SCHEMA };
  r.delete('/video/v1/live-streams/:id', remove, async (request, reply) => {
    const s = visible(request.token!, request.params.id);
    await streams.delete(s.id);
    deps.ingest?.disconnect(s.id);
    health.forget(s.id);
    return reply.code(204).send();
  });

  const history = { preHandler, schema: STREAM_HEALTH_SCHEMA };
  r.get('/video/v1/live-streams/:id/health', history, async (request) => {
    const s = visible(request.token!, request.params.id);
    const sinceMs = request.query.since !== undefined ? request.query.since * 1000 : Date.now() - 3_600_000;
    const rows = await deps.store.health(s.envId, s.id, sinceMs, request.query.limit);
    return {
      data: rows.map((h) => ({
        at: new Date(h.atMs).toISOString(),
        status: h.status,
        connected: h.connected,
        stream_drift_ms: round(h.driftMs),
        stream_drift_session_avg: round(h.sessionAvgMs),
        stream_drift_deviation_from_rolling_avg: round(h.deviationMs),
      })),
      total_row_count: rows.length,
    };
  });

  const current = { preHandler, schema: STREAM_CURRENT_SCHEMA };
  r.get('/video/v1/live-streams/:id/current', current, async (request) => {
    const s = visible(request.token!, request.params.id);
    const h = health.health(s.id);
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
  });
}
