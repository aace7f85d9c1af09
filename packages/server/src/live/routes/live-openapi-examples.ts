/** OpenAPI examples of the live streams, signing keys and stats routes (merged into openapi-examples.ts). */
const stream = {
  id: 'q3VfLw0cTtyZ2mPa',
  environment_id: 'k3q7x2m9p4ab',
  stream_key: 'Zk2sX0qP7wLm4nR8tY1vB6cD9fG3hJ5k',
  status: 'active',
  created_at: '1763683200',
};
const key = { id: 'Rsr1RjoUxOtYg0YVZudYmQ', environment_id: 'k3q7x2m9p4ab', created_at: '1763683200' };

export const LIVE_OPENAPI_EXAMPLES = {
  'GET /video/v1/live-streams': { response: { 200: { data: [stream], total_row_count: 1 } } },
  'POST /video/v1/live-streams': { body: {}, response: { 201: { data: { ...stream, status: 'idle' } } } },
  'GET /video/v1/live-streams/:id': { response: { 200: { data: stream } } },
  'GET /video/v1/live-streams/:id/health': {
    response: {
      200: {
        data: [
          {
            at: '2025-11-21T00:00:10.000Z',
            status: 'excellent',
            connected: true,
            stream_drift_ms: 42,
            stream_drift_session_avg: 35,
            stream_drift_deviation_from_rolling_avg: 6,
          },
        ],
        total_row_count: 1,
      },
    },
  },
  'GET /video/v1/live-streams/:id/current': {
    response: {
      200: {
        data: {
          id: stream.id,
          environment_id: stream.environment_id,
          status: 'excellent',
          connected: true,
          updated_at: '2025-11-21T00:00:10.000Z',
          stream_drift_ms: 42,
          stream_drift_session_avg: 35,
          stream_drift_deviation_from_rolling_avg: 6,
          views: 1234,
          viewers: 1187,
        },
      },
    },
  },
  'GET /system/v1/signing-keys': { response: { 200: { data: [key], total_row_count: 1 } } },
  'POST /system/v1/signing-keys': {
    body: {},
    response: {
      201: { data: { ...key, private_key: 'LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQpNSUlF…shown-once…' } },
    },
  },
  'GET /system/v1/signing-keys/:id': { response: { 200: { data: key } } },
  'GET /live-stream-health': {
    response: {
      200: {
        data: [
          {
            ingest_health: {
              updated_at: '2025-11-21T00:00:10.000Z',
              stream_drift_session_avg: 35,
              stream_drift_deviation_from_rolling_avg: 6,
              status: 'excellent',
            },
          },
        ],
      },
    },
  },
  'GET /counts': {
    response: { 200: { data: [{ views: 1234, viewers: 1187, updated_at: '2025-11-21T00:00:10.000Z' }] } },
  },
};
