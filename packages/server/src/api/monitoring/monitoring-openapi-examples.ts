/** OpenAPI examples of the monitoring API routes (merged into openapi-examples.ts). */
const tf = [1763681400, 1763683200];
const date = '2025-11-21T00:00:00Z';

export const MONITORING_OPENAPI_EXAMPLES = {
  'GET /data/v1/monitoring/metrics': {
    response: {
      200: {
        data: [
          {
            id: 'current_rebuffering_percentage',
            display_name: 'Current rebuffering percentage',
            unit: 'percentage',
            higher_is_worse: true,
          },
        ],
        total_row_count: 1,
      },
    },
  },
  'GET /data/v1/monitoring/dimensions': {
    response: { 200: { data: [{ id: 'cdn', display_name: 'CDN' }], total_row_count: 1 } },
  },
  'GET /data/v1/monitoring/metrics/:metric_id/timeseries': {
    response: {
      200: { data: [{ date, value: 1.25, concurrent_viewers: 4210 }], total_row_count: 1, timeframe: tf },
    },
  },
  'GET /data/v1/monitoring/metrics/:metric_id/breakdown': {
    response: {
      200: {
        data: [
          {
            value: 'cdn-b.example.net',
            metric_value: 12.5,
            display_value: '12.5%',
            concurrent_viewers: 830,
            starting_up_viewers: 12,
            negative_impact: 2.21,
          },
        ],
        total_row_count: 1,
        timestamp: 1763683200,
      },
    },
  },
  'GET /data/v1/monitoring/metrics/:metric_id/breakdown-timeseries': {
    response: {
      200: {
        data: [
          {
            date,
            values: [
              {
                value: 'cdn-b.example.net',
                metric_value: 12.5,
                concurrent_viewers: 830,
                starting_up_viewers: 12,
              },
            ],
          },
        ],
        total_row_count: 1,
        timeframe: tf,
      },
    },
  },
  'GET /data/v1/monitoring/metrics/:metric_id/histogram-timeseries': {
    response: {
      200: {
        meta: {
          buckets: [
            { start: 0, end: 250 },
            { start: 250, end: null },
          ],
          bucket_unit: 'milliseconds',
        },
        data: [
          {
            date,
            bucket_values: [
              { count: 3, percentage: 25 },
              { count: 9, percentage: 75 },
            ],
            median: 820,
            p95: 2100,
            average: 900,
            sum: 12,
          },
        ],
        total_row_count: 1,
        timeframe: tf,
      },
    },
  },
};
