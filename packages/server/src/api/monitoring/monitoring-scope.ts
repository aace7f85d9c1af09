/**
 * What a monitoring request reads: its environment and real-time filters
 * (validated together, so every problem is named at once), and the
 * timeframe the history of that environment covers.
 */
import type { ErrorField } from '@openqoe/schema';
import type { AuthenticatedToken, Registry } from '../../auth/registry.js';
import { ApiError } from '../../http/api-error.js';
import { targetEnvironment } from '../../http/target-environment.js';
import { REALTIME_DIMENSIONS } from '../../pipeline/realtime/realtime-catalog.js';
import { parseRealtimeFilters, type RealtimeFilter } from '../../query/realtime/monitoring-filters.js';
import type { MonitoringHistory } from '../../query/realtime/monitoring-history.js';
import type { ScopedQuery } from './monitoring-schemas.js';

export class MonitoringScope {
  constructor(
    private readonly registry: Registry,
    readonly history: MonitoringHistory,
    private readonly tickMs: number,
  ) {}

  /** Environment and filters of a request; `dimension` is checked too when the route takes one. */
  of(
    token: AuthenticatedToken,
    q: ScopedQuery,
    dimension?: string,
  ): { envId: string; filter: RealtimeFilter } {
    const problems: ErrorField[] = [];
    const filter = parseRealtimeFilters(q['filters[]'], problems);
    if (dimension !== undefined && !REALTIME_DIMENSIONS[dimension])
      problems.push({
        path: 'dimension',
        problem: `must be one of ${Object.keys(REALTIME_DIMENSIONS).join(', ')}`,
      });
    if (problems.length) throw new ApiError('QOE_ERR_INVALID_PARAMETERS', undefined, problems);
    return { envId: targetEnvironment(this.registry, token, q.environment_id), filter };
  }

  /** [from, to] in epoch seconds: the oldest tick's start to the latest tick (now when none yet). */
  timeframe(envId: string): number[] {
    const h = this.history.history(envId);
    const to = h.length ? h[h.length - 1]!.atMs : Date.now();
    const from = h.length ? h[0]!.atMs - this.tickMs : to;
    return [Math.floor(from / 1000), Math.floor(to / 1000)];
  }
}
