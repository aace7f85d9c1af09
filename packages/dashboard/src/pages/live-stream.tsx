/** One live stream: its health now, its drift over the last hour, and who is watching. */
import type { LiveStreamCurrentResponse, LiveStreamHealthResponse } from '@openqoe/schema';
import { getJson } from '../api.js';
import { Chart } from '../components/chart.js';
import { ErrorNote } from '../components/empty-state.js';
import { formatTime } from '../format.js';
import { linkProps } from '../router.js';
import { useData } from '../use-data.js';
import { HealthBadge, LIVE_REFRESH_MS } from './live-streams.js';

export function LiveStreamPage({ streamId }: { streamId: string }) {
  const id = encodeURIComponent(streamId);
  const current = useData(
    () =>
      getJson<LiveStreamCurrentResponse>(`/video/v1/live-streams/${id}/current`, {}, false).then(
        (r) => r.data,
      ),
    [streamId],
    LIVE_REFRESH_MS,
  );
  const history = useData(
    () =>
      getJson<LiveStreamHealthResponse>(`/video/v1/live-streams/${id}/health`, { limit: 5000 }, false).then(
        (r) => r.data,
      ),
    [streamId],
    LIVE_REFRESH_MS,
  );
  const c = current.data;
  const rows = history.data ?? [];
  const ms = (v: number) => `${Math.round(v)} ms`;
  return (
    <div class="page live-stream">
      <div class="toolbar">
        <a {...linkProps('/live-streams')}>‹ Live streams</a>
        <h1>Live stream</h1>
        <code>{streamId}</code>
      </div>
      <ErrorNote error={current.error ?? history.error} />
      {c && (
        <div class="headlines">
          <div class="card headline">
            <span class="name">Ingest health</span>
            <span class="value">
              <HealthBadge status={c.status} />
            </span>
            <span class="muted small">
              {c.connected ? 'encoder connected' : 'no encoder'} ·{' '}
              <span data-testid="updated">{formatTime(c.updated_at)}</span>
            </span>
          </div>
          <div class="card headline">
            <span class="name">Drift now</span>
            <span class="value">{ms(c.stream_drift_ms)}</span>
          </div>
          <div class="card headline">
            <span class="name">Session average</span>
            <span class="value">{ms(c.stream_drift_session_avg)}</span>
          </div>
          <div class="card headline">
            <span class="name">Deviation from rolling average</span>
            <span class="value" data-testid="deviation">
              {ms(c.stream_drift_deviation_from_rolling_avg)}
            </span>
          </div>
          <div class="card headline">
            <span class="name">Watching now</span>
            <span class="value" data-testid="viewers">
              {c.viewers}
            </span>
            <span class="muted small">{c.views} views</span>
          </div>
        </div>
      )}
      <section class="card">
        <h2>
          Drift <span class="muted small">last hour; poor when the deviation passes 1000 ms</span>
        </h2>
        {rows.length === 0 ? (
          <p class="muted">No health recorded in the last hour: push to the stream to see its drift.</p>
        ) : (
          <Chart
            testId="drift-chart"
            height={240}
            data={[
              rows.map((r) => Date.parse(r.at) / 1000),
              rows.map((r) => r.stream_drift_ms),
              rows.map((r) => r.stream_drift_session_avg),
              rows.map((r) => r.stream_drift_deviation_from_rolling_avg),
            ]}
            series={[
              { label: 'Drift', color: '#5b8def', format: ms, unit: 'ms' },
              { label: 'Session average', color: '#9b8afb', format: ms, unit: 'ms' },
              { label: 'Deviation', color: '#f5a524', format: ms, unit: 'ms' },
            ]}
          />
        )}
      </section>
    </div>
  );
}
