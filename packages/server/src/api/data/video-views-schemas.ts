/** The video-views routes' schemas: the list's query and sort orders, one view's parameters, their answers. */
import { VideoViewListResponse, VideoViewResponse } from '@openqoe/schema';
import { type Static, Type } from '@sinclair/typebox';
import { errorAnswers } from '../../http/route-schema.js';
import { DATA_ROUTE, QUERY_ERRORS, ScopeQuerySchema } from './metrics-schemas.js';

/** The list's sort orders and the column each sorts by. */
export const ORDER_COLUMNS = {
  view_end: 'view_end',
  view_start: 'view_start',
  watch_time: 'watch_time_ms',
  video_startup_time: 'video_startup_time_ms',
  rebuffer_percentage: 'rebuffer_percentage',
  rebuffer_count: 'rebuffer_count',
  viewer_experience_score: 'viewer_experience_score',
};

const ListQuery = Type.Object(
  {
    ...ScopeQuerySchema,
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 25 }),
    page: Type.Integer({ minimum: 1, default: 1 }),
    order_by: Type.Optional(
      Type.Union(
        (Object.keys(ORDER_COLUMNS) as (keyof typeof ORDER_COLUMNS)[]).map((c) => Type.Literal(c)),
        { default: 'view_end' },
      ),
    ),
    order_direction: Type.Optional(
      Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'desc' }),
    ),
  },
  { additionalProperties: false },
);
export type ViewListQuery = Static<typeof ListQuery>;

export const VIEW_LIST_SCHEMA = {
  ...DATA_ROUTE,
  summary: 'Stored views in the timeframe, filtered, sorted and paged',
  querystring: ListQuery,
  response: { 200: VideoViewListResponse, ...QUERY_ERRORS },
};

export const VIEW_SCHEMA = {
  ...DATA_ROUTE,
  summary: 'One view: dimensions, metrics, scores, and its timeline of states and events',
  params: Type.Object({ view_id: Type.String({ maxLength: 160 }) }),
  querystring: Type.Object(
    { environment_id: Type.Optional(Type.String({ maxLength: 64 })) },
    { additionalProperties: false },
  ),
  response: { 200: VideoViewResponse, ...errorAnswers(401, 403, 404) },
};
