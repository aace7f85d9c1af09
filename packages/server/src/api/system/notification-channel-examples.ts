/** OpenAPI examples of /system/v1/notification-channels (attached with the other routes'). */

const channelOut = {
  id: '6b0e9c1a-2f4d-4b7e-8a3c-5d9f1e2a7b40',
  environment_id: 'k3q7x2m9p4ab',
  name: 'on-call',
  type: 'pagerduty',
  settings: { events_url: 'https://events.pagerduty.com/v2/enqueue', rate_limit_per_minute: 4 },
  has_secret: true,
  created_at: '2026-11-21T00:00:00.000Z',
  updated_at: '2026-11-21T00:00:00.000Z',
};
const path = '/system/v1/notification-channels';

export const NOTIFICATION_CHANNEL_EXAMPLES = {
  [`GET ${path}`]: { response: { 200: { data: [channelOut], total_row_count: 1 } } },
  [`POST ${path}`]: {
    body: {
      name: 'on-call',
      type: 'pagerduty',
      settings: { routing_key: 'R0UT1NGKEY0123456789ABCDEFGHIJKL', rate_limit_per_minute: 4 },
    },
    response: { 201: { data: channelOut } },
  },
  [`GET ${path}/:id`]: { response: { 200: { data: channelOut } } },
  [`PATCH ${path}/:id`]: {
    body: { settings: { rate_limit_per_minute: 2 } },
    response: {
      200: { data: { ...channelOut, settings: { ...channelOut.settings, rate_limit_per_minute: 2 } } },
    },
  },
  [`POST ${path}/:id/test`]: {
    response: {
      200: {
        data: {
          delivered: true,
          receiver_said:
            'HTTP 202: {"status":"success","message":"Event processed","dedup_key":"openqoe-test"}',
        },
      },
    },
  },
};
