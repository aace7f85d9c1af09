/**
 * The public stats API, called straight from browsers with a signed token
 * (no API secret): `GET /live-stream-health?token=` and `GET /counts?token=`,
 * with the reference's response shapes. CORS is open app-wide.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ErrorRef } from '@openqoe/schema';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest, onResponseHookHandler } from 'fastify';
import { ApiError } from '../../http/api-error.js';
import type { LiveCounts } from '../live-counts.js';
import type { LiveHealth } from '../live-health.js';
import type { LiveMetrics } from '../live-metrics.js';
import type { LiveStreams } from '../live-streams.js';
import type { SigningKeys } from '../signing-keys.js';
import { AUDIENCES, type Audience, type StatsTokenCache, verifyStatsToken } from '../stats-token.js';

const TokenQuery = Type.Object(
  {
    token: Type.Optional(
      Type.String({ maxLength: 8192, description: 'A JWT signed (RS256) with a signing key' }),
    ),
  },
  { additionalProperties: true },
);

const HealthOut = Type.Object({
  data: Type.Array(
    Type.Object({
      ingest_health: Type.Object({
        updated_at: Type.String({ description: 'ISO-8601' }),
        stream_drift_session_avg: Type.Integer({ description: 'ms' }),
        stream_drift_deviation_from_rolling_avg: Type.Integer({ description: 'ms' }),
        status: Type.Union(['excellent', 'good', 'poor', 'unknown'].map((s) => Type.Literal(s))),
      }),
    }),
  ),
});
const CountsOut = Type.Object({
  data: Type.Array(
    Type.Object({
      views: Type.Integer({ description: 'Views of the id being watched now' }),
      viewers: Type.Integer({ description: 'Distinct viewers among them' }),
      updated_at: Type.String({ description: 'ISO-8601' }),
    }),
  ),
});

export interface StatsDeps {
  keys: SigningKeys;
  /** Verified tokens until their exp: a flood of one valid token costs one verification. */
  tokens: StatsTokenCache;
  streams: LiveStreams;
  health: LiveHealth;
  /** The process's own counts, or counts merged across pipeline workers (cluster/live-counts-share.ts). */
  counts: Pick<LiveCounts, 'count'>;
  metrics: LiveMetrics;
}

export function statsRoutes(app: FastifyInstance, deps: StatsDeps): void {
  const tags = ['stats'];
  // Failures are limited per client address (http/auth-failures.ts): a limited address gets 429 unverified.
  const verify = (request: FastifyRequest, token: string | undefined, accepted: readonly Audience[]) =>
    request.server.authFailures.guard(request, () =>
      verifyStatsToken(token, deps.keys, accepted, deps.tokens),
    );
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  // Counted per endpoint and outcome: a spike of 401s is someone's expired or forged tokens. A hook of
  // these two routes only, so no other request pays for it.
  const countOutcome: onResponseHookHandler = (request, reply, done) => {
    deps.metrics.statsRequests
      .labels(request.routeOptions.url ?? '', reply.statusCode === 200 ? 'ok' : String(reply.statusCode))
      .inc();
    done();
  };

  r.get(
    '/live-stream-health',
    {
      schema: {
        tags,
        summary: 'Ingest health of a live stream (token audience live_stream_id)',
        querystring: TokenQuery,
        response: { 200: HealthOut, 401: ErrorRef, 403: ErrorRef, 404: ErrorRef, 429: ErrorRef },
      },
      onResponse: countOutcome,
    },
    async (request) => {
      const t = await verify(request, request.query.token, ['live_stream_id']);
      const stream = deps.streams.get(t.sub);
      // The key's environment must be the stream's: another environment's stream does not exist for it.
      if (!stream || stream.envId !== t.envId)
        throw new ApiError('QOE_ERR_NOT_FOUND', [`No live stream ${t.sub}`]);
      const h = deps.health.health(stream.id);
      return {
        data: [
          {
            ingest_health: {
              updated_at: new Date(h.updatedAtMs).toISOString(),
              stream_drift_session_avg: Math.round(h.sessionAvgMs),
              stream_drift_deviation_from_rolling_avg: Math.round(h.deviationMs),
              status: h.status,
            },
          },
        ],
      };
    },
  );

  r.get(
    '/counts',
    {
      schema: {
        tags,
        summary:
          'Views and distinct viewers watching an id now (token audience video_id, asset_id, playback_id or live_stream_id)',
        querystring: TokenQuery,
        response: { 200: CountsOut, 401: ErrorRef, 403: ErrorRef, 429: ErrorRef },
      },
      onResponse: countOutcome,
    },
    async (request) => {
      const t = await verify(request, request.query.token, AUDIENCES);
      const c = deps.counts.count(t.envId, t.aud, t.sub);
      return {
        data: [{ views: c.views, viewers: c.viewers, updated_at: new Date(c.updatedAtMs).toISOString() }],
      };
    },
  );
}
