/**
 * Configuration of the live ingest (RTMP), its drift tracker and the public
 * stats API. Timers are configurable so tests run fast; defaults follow the
 * reference.
 */
import { Type } from '@sinclair/typebox';

export const LiveConfigSchema = Type.Object(
  {
    rtmp: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'Accept RTMP pushes from encoders' }),
        host: Type.String({
          default: '',
          description: 'Address the RTMP listener binds to ("" uses the HTTP host)',
        }),
        port: Type.Integer({
          minimum: 0,
          maximum: 65535,
          default: 1935,
          description: 'RTMP port (0 picks a free one; the log says which)',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    drift: Type.Object(
      {
        rollingWindowMs: Type.Integer({
          minimum: 1000,
          default: 30_000,
          description:
            'Window of the rolling average that stream_drift_deviation_from_rolling_avg compares with',
        }),
        warmUpMs: Type.Integer({
          minimum: 0,
          default: 5000,
          description:
            'First part of a connection during which a late first packet or a start-up burst moves time zero instead of reading as drift',
        }),
        idleUnknownMs: Type.Integer({
          minimum: 100,
          default: 120_000,
          description: 'With no video from the encoder for this long, the health status is unknown',
        }),
        historyIntervalMs: Type.Integer({
          minimum: 100,
          default: 10_000,
          description: 'How often the health of each connected stream is written to live_stream_health',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    counts: Type.Object(
      {
        refreshMs: Type.Integer({
          minimum: 0,
          default: 1000,
          description:
            'Viewer counts are recomputed from the active views at most this often (0: every request)',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);
