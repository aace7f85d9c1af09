/**
 * Configuration of the real-time numbers behind the monitoring API
 * (docs/monitoring-api.md). Timers are configurable so tests run fast.
 */
import { int, section } from './config-keys.js';

export const RealtimeConfigSchema = section({
  tickMs: int(
    { minimum: 100, maximum: 60_000, default: 5000 },
    'How often the real-time numbers are recomputed (ticks fall on epoch multiples)',
  ),
  historyMs: int(
    { minimum: 60_000, maximum: 6 * 3_600_000, default: 30 * 60_000 },
    'How much tick history the monitoring timeseries keep',
  ),
  attemptWindowMs: int(
    { minimum: 1000, default: 60_000 },
    'Trailing window over which start attempts, startup failures, exits before video start and playback failures are counted',
  ),
  historyRowsPerDimension: int(
    { minimum: 1, maximum: 1000, default: 50 },
    'Breakdown rows kept per dimension and tick for breakdown-timeseries (the most-watched values)',
  ),
});
