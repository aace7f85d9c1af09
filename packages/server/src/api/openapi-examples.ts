/**
 * One example per route for the OpenAPI document (/docs), kept apart from the
 * routes so they stay readable. Applied by an onRoute hook: each example is
 * attached to a copy of the route's schema, never to a shared schema object.
 */
import { makeSample } from '@openqoe/schema';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { MONITORING_OPENAPI_EXAMPLES } from './monitoring/monitoring-openapi-examples.js';
import { ALERTS_OPENAPI_EXAMPLES } from './system/alerts-openapi-examples.js';
import { NOTIFICATION_CHANNEL_EXAMPLES } from './system/notification-channel-examples.js';

const envOut = {
  id: 'k3q7x2m9p4ab',
  name: 'production',
  key: 'b6s2x7kq4mzp9t3vw5ry8ch2nd',
  created_at: 1763683200,
};
const tokenOut = {
  id: '3f1c2a9e-8d7b-4c6a-9e5f-1b2c3d4e5f60',
  name: 'grafana',
  permissions: ['data:read'],
  environment_ids: ['k3q7x2m9p4ab'],
  all_environments: false,
  created_at: 1763683200,
};
const tf = [1763596800, 1763683200];
const sample = makeSample({
  viewId: '0b7f3c2e-5a1d-4e8f-9c6b-2d4a8e1f7c3b',
  viewerTime: 1763683190000,
  timestamp: 1763683180000,
});

export interface RouteExamples {
  body?: unknown;
  response?: Record<number, unknown>;
}

export const OPENAPI_EXAMPLES: Record<string, RouteExamples> = {
  'POST /v1/beacon': {
    body: { envKey: envOut.key, schemaVersion: 1, sentAt: 1763683190050, samples: [sample], events: [] },
    response: { 202: { samples: 1, events: 0 } },
  },
  'GET /data/v1/metrics': {
    response: {
      200: {
        data: [
          {
            id: 'video_startup_time',
            unit: 'ms',
            measurements: ['avg', 'median', '75th', '90th', '95th', '99th', 'min', 'max', 'sum'],
            default_measurement: 'median',
            higher_is_worse: true,
          },
        ],
        total_row_count: 31,
      },
    },
  },
  'GET /data/v1/dimensions': {
    response: { 200: { data: ['browser', 'country', 'cdn_provider'], total_row_count: 3 } },
  },
  'GET /data/v1/metrics/:metric_id/overall': {
    response: {
      200: {
        data: {
          value: 1240,
          measurement: 'median',
          unit: 'ms',
          total_views: 18234,
          views_with_value: 17620,
          total_watch_time_ms: 4.1e9,
          total_playing_time_ms: 3.9e9,
        },
        timeframe: tf,
      },
    },
  },
  'GET /data/v1/metrics/:metric_id/timeseries': {
    response: {
      200: {
        data: [
          { time: 1763596800, value: 1180, views: 760 },
          { time: 1763600400, value: 1310, views: 702 },
        ],
        total_row_count: 24,
        timeframe: tf,
        granularity: 'hour',
        measurement: 'median',
        unit: 'ms',
      },
    },
  },
  'GET /data/v1/metrics/:metric_id/breakdown': {
    response: {
      200: {
        data: [
          {
            field: 'cdn-b',
            value: 2.9,
            views: 5120,
            total_watch_time_ms: 1.1e9,
            negative_impact: 0.44,
            share_of_views: 28.08,
          },
          {
            field: 'cdn-a',
            value: 0.8,
            views: 13114,
            total_watch_time_ms: 3.0e9,
            negative_impact: -0.32,
            share_of_views: 71.92,
          },
        ],
        total_row_count: 2,
        timeframe: tf,
        measurement: 'avg',
        unit: 'percent',
      },
    },
  },
  'GET /data/v1/errors': {
    response: {
      200: {
        data: [
          {
            error_code: 'MEDIA_ERR_NETWORK',
            player_software: null,
            views: 182,
            share_of_views: 1.0,
            playback_failures: 182,
            first_seen: '2025-11-20T00:04:12.000Z',
            last_seen: '2025-11-20T23:58:40.000Z',
            messages: [
              { message: 'fragLoadError', views: 140 },
              { message: 'manifestLoadError', views: 42 },
            ],
            players: [
              { player_software: 'hls.js', player_version: '1.6.0', views: 150 },
              { player_software: 'shaka', player_version: '4.7.0', views: 32 },
            ],
            example_view_ids: [sample.viewId],
          },
        ],
        total_row_count: 1,
        total_views: 18234,
        timeframe: tf,
      },
    },
  },
  'GET /data/v1/video-views': {
    response: {
      200: {
        data: [
          {
            view_id: sample.viewId,
            environment_id: envOut.id,
            viewer_id: 'viewer-1',
            view_start: '2026-11-21T08:00:00.000Z',
            view_end: '2026-11-21T08:12:31.000Z',
            video_title: 'Big Buck Bunny',
            outcome: 'success',
            watch_time_ms: 751000,
            video_startup_time_ms: 1240,
            rebuffer_count: 1,
          },
        ],
        total_row_count: 18234,
        timeframe: tf,
      },
    },
  },
  'GET /data/v1/video-views/:view_id': {
    response: {
      200: {
        data: {
          view_id: sample.viewId,
          environment_id: envOut.id,
          video_title: 'Big Buck Bunny',
          outcome: 'success',
          video_startup_time_ms: 1240,
          timeline: [
            {
              kind: 'event',
              sequence_number: 0,
              time: '2026-11-21T08:00:00.000Z',
              time_ms: 1763712000000,
              state: 'startup',
              duration_ms: null,
              type: 'playrequest',
              error_code: '',
              error_fatal: false,
              video_bitrate_bps: 0,
              video_width: 0,
              video_height: 0,
            },
            {
              kind: 'sample',
              sequence_number: 1,
              time: '2026-11-21T08:00:00.000Z',
              time_ms: 1763712000000,
              state: 'startup',
              duration_ms: 1240,
              type: null,
              error_code: null,
              error_fatal: null,
              video_bitrate_bps: 2500000,
              video_width: 1280,
              video_height: 720,
            },
          ],
        },
      },
    },
  },
  'GET /system/v1/environments': { response: { 200: { data: [envOut], total_row_count: 1 } } },
  'POST /system/v1/environments': { body: { name: 'production' }, response: { 201: { data: envOut } } },
  'GET /system/v1/environments/:id': { response: { 200: { data: envOut } } },
  'GET /system/v1/access-tokens': { response: { 200: { data: [tokenOut], total_row_count: 1 } } },
  'POST /system/v1/access-tokens': {
    body: { name: 'grafana', permissions: ['data:read'], environment_ids: [envOut.id] },
    response: { 201: { data: { ...tokenOut, secret: 'q9Zl3…shown-once…Xw' } } },
  },
  'GET /system/v1/access-tokens/:id': { response: { 200: { data: tokenOut } } },
  'GET /healthz': {
    response: {
      200: { status: 'ok', uptime_s: 3600, bus: { end_position: 52428800, backlog_bytes: 0, segments: 1 } },
    },
  },
  'GET /readyz': { response: { 200: { status: 'ready' } } },
  ...MONITORING_OPENAPI_EXAMPLES,
  ...NOTIFICATION_CHANNEL_EXAMPLES,
  ...ALERTS_OPENAPI_EXAMPLES,
  // CMCD intake (drop-in): the reports are text, so only the answer has a JSON example.
  'POST /v1/cmcd/:env_key': { response: { 200: { reports: 3 } } },
  'GET /v1/cmcd/:env_key': { response: { 200: { reports: 1 } } },
};

const withExample = (schema: unknown, example: unknown) =>
  schema && typeof schema === 'object' ? { ...schema, examples: [example] } : schema;

/** Attaches the examples of `extra` (a feature's own table, e.g. live's) and of this file's table. */
export function attachOpenApiExamples(app: FastifyInstance, extra: Record<string, RouteExamples> = {}): void {
  const examples = { ...OPENAPI_EXAMPLES, ...extra };
  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      const ex = examples[`${method} ${route.url}`];
      if (!ex || !route.schema) continue;
      if (ex.body !== undefined)
        route.schema = { ...route.schema, body: withExample(route.schema.body, ex.body) };
      if (ex.response) {
        const response = { ...(route.schema.response as Record<number, unknown>) };
        for (const [status, example] of Object.entries(ex.response))
          response[Number(status)] = withExample(response[Number(status)], example);
        route.schema = { ...route.schema, response };
      }
    }
  });
}
