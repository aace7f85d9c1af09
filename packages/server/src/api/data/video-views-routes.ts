/**
 * `/data/v1/video-views`: stored views, filtered, sorted and paged, and one
 * view with everything known about it and its timeline — the states it held
 * and its events, in sequence order, on the view's own clock.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Registry } from '../../auth/registry.js';
import { ApiError } from '../../http/api-error.js';
import { requirePermission } from '../../http/auth-hook.js';
import { coveredEnvironmentIds } from '../../http/target-environment.js';
import type { TimelineEntry } from '../../pipeline/view-model/timeline.js';
import { buildScope, type ScopeQuery } from '../../query/query-scope.js';
import type { ReadValue, Store } from '../../store/store.js';
import { VIEW_COLUMNS } from '../../store/view-row.js';
import { ScopeQuerySchema } from './metrics-routes.js';

const ErrorRef = { $ref: 'ErrorEnvelope#' };

const security = [{ basicAuth: [] }];
const tags = ['data'];

const ORDER_COLUMNS: Record<string, string> = {
  view_end: 'view_end',
  view_start: 'view_start',
  watch_time: 'watch_time_ms',
  video_startup_time: 'video_startup_time_ms',
  rebuffer_percentage: 'rebuffer_percentage',
  rebuffer_count: 'rebuffer_count',
  viewer_experience_score: 'viewer_experience_score',
};

/** The list shows a summary; one view shows every column. */
const SUMMARY = [
  'view_id',
  'env_id',
  'viewer_id',
  'view_start',
  'view_end',
  'video_id',
  'video_title',
  'player_software',
  'browser',
  'os',
  'device_category',
  'country',
  'cdn_host',
  'outcome',
  'error_code',
  'watch_time_ms',
  'video_startup_time_ms',
  'rebuffer_count',
  'rebuffer_percentage',
  'playback_failure',
  'exited_before_video_start',
  'viewer_experience_score',
];

const iso = (ms: ReadValue | undefined) => (typeof ms === 'number' ? new Date(ms).toISOString() : null);

/** Store row → API object: environment_id and operating_system as the API names them, times as ISO 8601. */
function present(row: Record<string, ReadValue>): Record<string, ReadValue> {
  const out: Record<string, ReadValue> = {};
  for (const [k, v] of Object.entries(row)) {
    if (k === 'env_id') out['environment_id'] = v;
    else if (k === 'os') out['operating_system'] = v;
    else if (k === 'os_version') out['operating_system_version'] = v;
    else if (
      k === 'view_start' ||
      k === 'view_end' ||
      k === 'updated_at' ||
      k === 'first_received_at' ||
      k === 'last_received_at'
    ) {
      out[k] = iso(v);
    } else out[k] = v;
  }
  return out;
}

const ViewSummary = Type.Object(
  {
    view_id: Type.String(),
    environment_id: Type.String(),
    viewer_id: Type.String(),
    view_start: Type.Union([Type.String(), Type.Null()], { description: 'ISO 8601' }),
    view_end: Type.Union([Type.String(), Type.Null()], { description: 'ISO 8601' }),
    video_title: Type.String(),
    outcome: Type.String({ description: 'success, failure, ebvs, business_exception or in_progress' }),
  },
  { additionalProperties: true },
);

export function videoViewsRoutes(app: FastifyInstance, registry: Registry, store: Store): void {
  const auth = requirePermission(registry, 'data:read');

  app.get<{
    Querystring: ScopeQuery & {
      limit: number;
      page: number;
      order_by?: string;
      order_direction?: 'asc' | 'desc';
    };
  }>(
    '/data/v1/video-views',
    {
      preHandler: auth,
      schema: {
        tags,
        security,
        summary: 'Stored views in the timeframe, filtered, sorted and paged',
        querystring: Type.Object(
          {
            ...ScopeQuerySchema,
            limit: Type.Integer({ minimum: 1, maximum: 1000, default: 25 }),
            page: Type.Integer({ minimum: 1, default: 1 }),
            order_by: Type.Optional(
              Type.Union(
                Object.keys(ORDER_COLUMNS).map((c) => Type.Literal(c)),
                { default: 'view_end' },
              ),
            ),
            order_direction: Type.Optional(
              Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'desc' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            data: Type.Array(ViewSummary),
            total_row_count: Type.Integer(),
            timeframe: Type.Array(Type.Integer(), { minItems: 2, maxItems: 2 }),
          }),
          400: ErrorRef,
          401: ErrorRef,
          403: ErrorRef,
        },
      },
    },
    async (request) => {
      const q = request.query;
      const scope = buildScope(q, request.token!, registry, undefined, store.dialect);
      const order = ORDER_COLUMNS[q.order_by ?? 'view_end']!;
      const limit = scope.params.add(q.limit);
      const offset = scope.params.add((q.page - 1) * q.limit);
      const rows = await store.select(
        `SELECT ${SUMMARY.join(', ')}, count(*) OVER () AS total_row_count FROM ${store.dialect.views} WHERE ${scope.where}
         ORDER BY ${order} ${q.order_direction ?? 'desc'} NULLS LAST, view_id LIMIT ${limit} OFFSET ${offset}`,
        scope.params.values,
      );
      let total = Number(rows[0]?.['total_row_count'] ?? -1);
      if (total < 0) {
        const [c] = await store.select(
          `SELECT count(*) AS n FROM ${store.dialect.views} WHERE ${scope.where}`,
          scope.params.values.slice(0, -2),
        );
        total = Number(c?.['n'] ?? 0);
      }
      return {
        data: rows.map(({ total_row_count: _t, ...r }) => present(r)),
        total_row_count: total,
        timeframe: [Math.floor(scope.fromMs / 1000), Math.floor(scope.toMs / 1000)],
      };
    },
  );

  app.get<{ Params: { view_id: string }; Querystring: { environment_id?: string } }>(
    '/data/v1/video-views/:view_id',
    {
      preHandler: auth,
      schema: {
        tags,
        security,
        summary: 'One view: dimensions, metrics, scores, and its timeline of states and events',
        params: Type.Object({ view_id: Type.String({ maxLength: 160 }) }),
        querystring: Type.Object(
          { environment_id: Type.Optional(Type.String({ maxLength: 64 })) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            data: Type.Object(
              {
                view_id: Type.String(),
                environment_id: Type.String(),
                timeline: Type.Array(
                  Type.Object({
                    kind: Type.String({
                      description:
                        'sample: a state held for duration_ms (consecutive samples of one state and rendition are one entry); event',
                    }),
                    sequence_number: Type.Integer({ description: 'The first sequence number of the entry' }),
                    samples: Type.Integer({ description: 'Samples merged into the entry (0 for an event)' }),
                    time: Type.Union([Type.String(), Type.Null()], {
                      description: 'ISO 8601, on the view’s clock',
                    }),
                    time_ms: Type.Number(),
                    state: Type.String(),
                    duration_ms: Type.Union([Type.Number(), Type.Null()]),
                    type: Type.Union([Type.String(), Type.Null()]),
                    error_code: Type.Union([Type.String(), Type.Null()]),
                    error_fatal: Type.Union([Type.Boolean(), Type.Null()]),
                    video_bitrate_bps: Type.Union([Type.Number(), Type.Null()]),
                    video_width: Type.Union([Type.Number(), Type.Null()]),
                    video_height: Type.Union([Type.Number(), Type.Null()]),
                  }),
                ),
              },
              { additionalProperties: true },
            ),
          }),
          401: ErrorRef,
          403: ErrorRef,
          404: ErrorRef,
        },
      },
    },
    async (request) => {
      const envIds = coveredEnvironmentIds(registry, request.token!, request.query.environment_id);
      const notFound = new ApiError('QOE_ERR_NOT_FOUND', [`No view ${request.params.view_id}`]);
      if (envIds.length === 0) throw notFound;
      const envParams = envIds.map((_, i) => `$${i + 2}`).join(', ');
      const [row] = await store.select(
        `SELECT ${VIEW_COLUMNS.map((c) => c.name).join(', ')} FROM ${store.dialect.views} WHERE view_id = $1 AND env_id IN (${envParams}) LIMIT 1`,
        [request.params.view_id, ...envIds],
      );
      if (!row) throw notFound;
      const offset = Number(row['clock_offset_ms'] ?? 0);
      const entries = JSON.parse(String(row['timeline'] ?? '[]')) as TimelineEntry[];
      const { timeline: _stored, ...rest } = row;
      return {
        data: {
          ...present(rest),
          timeline: entries.map((e) => {
            const ms = e[2] + offset;
            const common = { sequence_number: e[1], time: iso(ms), time_ms: ms, state: e[3] };
            return e[0] === 's'
              ? {
                  kind: 'sample',
                  ...common,
                  duration_ms: e[4],
                  samples: e[8],
                  type: null,
                  error_code: null,
                  error_fatal: null,
                  video_bitrate_bps: e[5],
                  video_width: e[6],
                  video_height: e[7],
                }
              : {
                  kind: 'event',
                  ...common,
                  duration_ms: null,
                  samples: 0,
                  type: e[4],
                  error_code: e[5],
                  error_fatal: e[6],
                  video_bitrate_bps: e[7],
                  // Absent in timelines stored before events kept the rendition size.
                  video_width: e[8] ?? null,
                  video_height: e[9] ?? null,
                };
          }),
        },
      };
    },
  );
}
