/**
 * Live streams: every stream with its ingest health as a coloured status
 * (green excellent, yellow good, red poor, grey unknown), its drift and who
 * is watching, refreshed every few seconds.
 */
import type {
  LiveStreamCurrent,
  LiveStreamCurrentResponse,
  LiveStreamListResponse,
  RtmpIngestInfo,
} from '@openqoe/schema';
import { ApiCallError, getJson } from '../api.js';
import { ErrorNote } from '../components/empty-state.js';
import { linkProps } from '../router.js';
import { environmentId } from '../session.js';
import { useData } from '../use-data.js';

export const LIVE_REFRESH_MS = 2000;

export function HealthBadge({ status }: { status: LiveStreamCurrent['status'] | undefined }) {
  const s = status ?? 'unknown';
  return (
    <span class={`health ${s}`} data-testid="health" data-status={s}>
      <span class="dot" />
      {s}
    </span>
  );
}

/** Where encoders push, as the server says: the RTMP listener is optional and may be off. */
function PushTarget({ rtmp }: { rtmp: RtmpIngestInfo }) {
  return rtmp.url ? (
    <>
      push to{' '}
      <code data-testid="rtmp-url">
        {/* A server listening on every address: the encoder reaches it by the name this page was loaded from. */}
        {rtmp.url.replace(/\/\/(0\.0\.0\.0|\[::\]):/, `//${location.hostname}:`)}/STREAM_KEY
      </code>{' '}
      from OBS or ffmpeg
    </>
  ) : (
    <span class="error" data-testid="rtmp-off">
      {rtmp.off_reason}
    </span>
  );
}

export function LiveStreamsPage() {
  const list = useData(
    async () => {
      const env = environmentId();
      const answer = await getJson<LiveStreamListResponse>('/video/v1/live-streams', { limit: 1000 }, false);
      // The live streams API lists every environment of the token; the switcher's choice narrows it.
      const streams = env ? answer.data.filter((s) => s.environment_id === env) : answer.data;
      const current = await Promise.all(
        streams.map((s) =>
          getJson<LiveStreamCurrentResponse>(`/video/v1/live-streams/${s.id}/current`, {}, false).then(
            (r) => r.data,
          ),
        ),
      );
      return { rtmp: answer.rtmp, rows: streams.map((s, i) => ({ stream: s, current: current[i]! })) };
    },
    [],
    LIVE_REFRESH_MS,
  );
  const forbidden = list.error instanceof ApiCallError && list.error.status === 403;
  return (
    <div class="page live">
      <div class="toolbar">
        <h1>Live streams</h1>
      </div>
      {forbidden ? (
        <p class="muted">This access token lacks the video permission that live streams need.</p>
      ) : (
        <ErrorNote error={list.error} />
      )}
      {list.data && list.data.rows.length > 0 && !list.data.rtmp.url && (
        <p>
          <PushTarget rtmp={list.data.rtmp} />
        </p>
      )}
      {list.data && list.data.rows.length === 0 && (
        <div class="empty" data-testid="empty-state">
          <h3>No live streams yet</h3>
          <p>
            Create one with <code>openqoe live-streams create</code> (or{' '}
            <code>curl -u ID:SECRET -X POST {location.origin}/video/v1/live-streams</code>) and{' '}
            <PushTarget rtmp={list.data.rtmp} />; its health shows here. Viewers counted here are views whose
            player sends the stream’s id as <code>liveStreamId</code> (try the <a href="/demo/">demo page</a>{' '}
            to see the collector at work).
          </p>
        </div>
      )}
      {list.data && list.data.rows.length > 0 && (
        <section class="card">
          <table data-testid="live-streams">
            <thead>
              <tr>
                <th>Stream</th>
                <th>Ingest health</th>
                <th>Encoder</th>
                <th class="num">Drift</th>
                <th class="num">Session average</th>
                <th class="num">Deviation</th>
                <th class="num">Watching</th>
              </tr>
            </thead>
            <tbody>
              {list.data.rows.map(({ stream, current }) => (
                <tr key={stream.id} data-stream-id={stream.id}>
                  <td>
                    <a {...linkProps(`/live-streams/${stream.id}`)}>{stream.id}</a>
                  </td>
                  <td>
                    <HealthBadge status={current.status} />
                  </td>
                  <td>{current.connected ? 'connected' : 'idle'}</td>
                  <td class="num">{current.stream_drift_ms} ms</td>
                  <td class="num">{current.stream_drift_session_avg} ms</td>
                  <td class="num">{current.stream_drift_deviation_from_rolling_avg} ms</td>
                  <td class="num" data-testid="viewers">
                    {current.views} views · {current.viewers} viewers
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </div>
  );
}
