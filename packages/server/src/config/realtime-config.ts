/**
 * Configuration of the real-time numbers behind the monitoring API
 * (docs/monitoring-api.md). Timers are configurable so tests run fast.
 */
import { Type } from '@sinclair/typebox';

export const RealtimeConfigSchema = Type.Object(
  {
    tickMs: Type.Integer({
      minimum: 100,
      maximum: 60_000,
      default: 5000,
      description: 'How often the real-time numbers are recomputed (ticks fall on epoch multiples)',
    }),
    historyMs: Type.Integer({
      minimum: 60_000,
      maximum: 6 * 3_600_000,
      default: 30 * 60_000,
      description: 'How much tick history the monitoring timeseries keep',
    }),
    attemptWindowMs: Type.Integer({
      minimum: 1000,
      default: 60_000,
      description:
        'Trailing window over which start attempts, startup failures, exits before video start and playback failures are counted',
    }),
    historyRowsPerDimension: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: 50,
      description:
        'Breakdown rows kept per dimension and tick for breakdown-timeseries (the most-watched values)',
    }),
  },
  { additionalProperties: false, default: {} },
);
