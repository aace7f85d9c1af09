/**
 * `/video/v1/live-streams`: create, list, get, delete live streams (access
 * token with `video`), and each stream's ingest health history. A stream's
 * key is secret (whoever has it can publish) and is shown to tokens that
 * cover its environment, as the reference does.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { type Registry, tokenCoversEnvironment } from '../../auth/registry.js';
import { ApiError } from '../../http/api-error.js';
import { requirePermission } from '../../http/auth-hook.js';
import { listOf, PagingQuery, pageOf } from '../../http/paging.js';
import { bodyDefaultsToObject, targetEnvironment } from '../../http/target-environment.js';
import type { LiveStore, LiveStreamRecord } from '../../store/live-store.js';
import type { LiveHealth } from '../live-health.js';
import type { LiveStreams } from '../live-streams.js';
import type { RtmpIngest } from '../rtmp-ingest.js';

const StreamOut = Type.Object({
  id: Type.String({ description: 'Public id: put it in player metadata (liveStreamId) and in stats tokens' }),
  environment_id: Type.String(),
  stream_key: Type.String({ description: 'Secret: the encoder publishes to rtmp://host/live/{stream_key}' }),
  status: Type.Union([Type.Literal('idle'), Type.Literal('active')], {
    description: 'active while an encoder is publishing',
  }),
  created_at: Type.String({ description: 'Epoch seconds (a string, as the reference answers)' }),
});
const HealthOut = Type.Object({
  at: Type.String({ description: 'ISO-8601' }),
  status: Type.String(),
  connected: Type.Boolean(),
  stream_drift_ms: Type.Union([Type.Integer(), Type.Null()]),
  stream_drift_session_avg: Type.Union([Type.Integer(), Type.Null()]),
  stream_drift_deviation_from_rolling_avg: Type.Union([Type.Integer(), Type.Null()]),
});
const CreateBody = Type.Object(
  {
    environment_id: Type.Optional(
      Type.String({ maxLength: 64, description: 'Needed when the token covers several environments' }),
    ),
  },
  { additionalProperties: false },
);
const HistoryQuery = Type.Object(
  {
    since: Type.Optional(Type.Integer({ minimum: 0, description: 'Epoch seconds; default: the last hour' })),
    limit: Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 }),
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const ErrorRef = { $ref: 'ErrorEnvelope#' };

export interface LiveStreamDeps {
  registry: Registry;
  streams: LiveStreams;
  health: LiveHealth;
  store: LiveStore;
  ingest: RtmpIngest | undefined;
}

const round = (v: number | null) => (v === null ? null : Math.round(v));

export function videoLiveStreamsRoutes(app: FastifyInstance, deps: LiveStreamDeps): void {
  const { registry, streams, health } = deps;
  const auth = requirePermission(registry, 'video');
  const tags = ['video'];
  const security = [{ basicAuth: [] }];
  const out = (s: LiveStreamRecord) => ({
    id: s.id,
    environment_id: s.envId,
    stream_key: s.streamKey,
    status: health.isConnected(s.id) ? ('active' as const) : ('idle' as const),
    created_at: String(Math.floor(s.createdAtMs / 1000)),
  });
  const visible = (request: { token?: Parameters<typeof tokenCoversEnvironment>[0] }, id: string) => {
    const s = streams.get(id);
    if (!s || !tokenCoversEnvironment(request.token!, s.envId))
      throw new ApiError('QOE_ERR_NOT_FOUND', [`No live stream ${id}`]);
    return s;
  };

  app.post<{ Body: { environment_id?: string } }>(
    '/video/v1/live-streams',
    {
      preHandler: auth,
      preValidation: bodyDefaultsToObject,
      schema: {
        tags,
        security,
        summary: 'Create a live stream with a new secret stream key',
        body: CreateBody,
        response: { 201: Type.Object({ data: StreamOut }), 400: ErrorRef, 401: ErrorRef, 403: ErrorRef },
      },
    },
    async (request, reply) => {
      const envId = targetEnvironment(registry, request.token!, request.body.environment_id);
      return reply.code(201).send({ data: out(await streams.create(envId)) });
    },
  );

  app.get<{ Querystring: { limit: number; page: number } }>(
    '/video/v1/live-streams',
    {
      preHandler: auth,
      schema: {
        tags,
        security,
        summary: 'List live streams',
        querystring: PagingQuery,
        response: { 200: listOf(StreamOut), 401: ErrorRef, 403: ErrorRef },
      },
    },
    async (request) => {
      const list = streams.list().filter((s) => tokenCoversEnvironment(request.token!, s.envId));
      const { data, total_row_count } = pageOf(list, request.query.limit, request.query.page);
      return { data: data.map(out), total_row_count };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/video/v1/live-streams/:id',
    {
      preHandler: auth,
      schema: {
        tags,
        security,
        summary: 'Get one live stream',
        params: IdParams,
        response: { 200: Type.Object({ data: StreamOut }), 401: ErrorRef, 403: ErrorRef, 404: ErrorRef },
      },
    },
    async (request) => ({ data: out(visible(request, request.params.id)) }),
  );

  app.delete<{ Params: { id: string } }>(
    '/video/v1/live-streams/:id',
    {
      preHandler: auth,
      schema: {
        tags,
        security,
        summary: 'Delete a live stream: its key stops working and a connected encoder is dropped',
        params: IdParams,
        response: { 204: Type.Null(), 401: ErrorRef, 403: ErrorRef, 404: ErrorRef },
      },
    },
    async (request, reply) => {
      const s = visible(request, request.params.id);
      await streams.delete(s.id);
      deps.ingest?.disconnect(s.id);
      health.forget(s.id);
      return reply.code(204).send();
    },
  );

  app.get<{ Params: { id: string }; Querystring: { since?: number; limit: number } }>(
    '/video/v1/live-streams/:id/health',
    {
      preHandler: auth,
      schema: {
        tags,
        security,
        summary: 'Ingest health history of a live stream (one row per interval while connected)',
        params: IdParams,
        querystring: HistoryQuery,
        response: { 200: listOf(HealthOut), 400: ErrorRef, 401: ErrorRef, 403: ErrorRef, 404: ErrorRef },
      },
    },
    async (request) => {
      const s = visible(request, request.params.id);
      const sinceMs = request.query.since !== undefined ? request.query.since * 1000 : Date.now() - 3_600_000;
      const rows = await deps.store.health(s.envId, s.id, sinceMs, request.query.limit);
      return {
        data: rows.map((r) => ({
          at: new Date(r.atMs).toISOString(),
          status: r.status,
          connected: r.connected,
          stream_drift_ms: round(r.driftMs),
          stream_drift_session_avg: round(r.sessionAvgMs),
          stream_drift_deviation_from_rolling_avg: round(r.deviationMs),
        })),
        total_row_count: rows.length,
      };
    },
  );
}
