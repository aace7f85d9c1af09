/**
 * Configuration of the live ingest (RTMP), its drift tracker and the public
 * stats API. Timers are configurable so tests run fast; defaults follow the
 * reference.
 */
import { bool, int, section, str } from './config-keys.js';

export const LiveConfigSchema = section({
  rtmp: section({
    enabled: bool(true, 'Accept RTMP pushes from encoders'),
    host: str('', 'Address the RTMP listener binds to ("" uses the HTTP host)'),
    port: int(
      { minimum: 0, maximum: 65535, default: 1935 },
      'RTMP port (0 picks a free one; the log says which)',
    ),
  }),
  drift: section({
    rollingWindowMs: int(
      { minimum: 1000, default: 30_000 },
      'Window of the rolling average that stream_drift_deviation_from_rolling_avg compares with',
    ),
    warmUpMs: int(
      { minimum: 0, default: 5000 },
      'First part of a connection during which a late first packet or a start-up burst moves time zero instead of reading as drift',
    ),
    idleUnknownMs: int(
      { minimum: 100, default: 120_000 },
      'With no video from the encoder for this long, the health status is unknown',
    ),
    historyIntervalMs: int(
      { minimum: 100, default: 10_000 },
      'How often the health of each connected stream is written to live_stream_health',
    ),
  }),
  counts: section({
    refreshMs: int(
      { minimum: 0, default: 1000 },
      'Viewer counts are recomputed from the active views at most this often (0: every request)',
    ),
  }),
});
