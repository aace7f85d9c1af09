/**
 * One view: its key metrics, its timeline (states as a swim lane, labelled
 * events and the rendition's bitrate on one time axis; rebuffers, seeks and
 * errors with their codes) and
 * every stored field.
 */
import type { VideoView, VideoViewResponse } from '@openqoe/schema';
import { getJson } from '../api.js';
import { ErrorNote } from '../components/empty-state.js';
import { SwimLane } from '../components/swim-lane.js';
import { UserText } from '../components/user-text.js';
import { formatDuration, formatField, formatTime, formatValue } from '../format.js';
import { linkProps } from '../router.js';
import { MIN_STALL_MS, timelineModel } from '../timeline-model.js';
import { useData } from '../use-data.js';

const KEY_METRICS: [string, string, string][] = [
  ['outcome', 'Outcome', ''],
  ['video_startup_time_ms', 'Video startup time', 'ms'],
  ['watch_time_ms', 'Watch time', 'ms'],
  ['rebuffer_count', 'Rebuffers', 'count'],
  ['rebuffer_duration_ms', 'Rebuffering', 'ms'],
  ['rebuffer_percentage', 'Rebuffer percentage', 'percent'],
  ['weighted_average_bitrate_bps', 'Average bitrate', 'bps'],
  ['viewer_experience_score', 'Viewer experience score', 'score'],
];

export function ViewPage({ viewId }: { viewId: string }) {
  const view = useData(
    () =>
      getJson<VideoViewResponse>(`/data/v1/video-views/${encodeURIComponent(viewId)}`).then((r) => r.data),
    [viewId],
  );
  const v = view.data;
  return (
    <div class="page view">
      <div class="toolbar">
        <a {...linkProps('/views')}>‹ Views</a>
        <h1>View</h1>
        {typeof view.data?.['video_title'] === 'string' && view.data['video_title'] && (
          <span data-testid="view-title">
            <UserText text={view.data['video_title']} />
          </span>
        )}
        <code data-testid="view-id">{viewId}</code>
      </div>
      <ErrorNote error={view.error} />
      {v && <ViewBody view={v} />}
    </div>
  );
}

function ViewBody({ view }: { view: VideoView }) {
  const model = timelineModel(view.timeline);
  return (
    <>
      <div class="headlines">
        {KEY_METRICS.map(([k, label, unit]) => (
          <div class="card headline" key={k} data-testid={`metric-${k}`}>
            <span class="name">{label}</span>
            <span class="value">
              {unit ? formatValue((view[k] as number | null) ?? null, unit) : String(view[k] ?? '–')}
            </span>
          </div>
        ))}
      </div>
      <section class="card">
        <h2>
          Timeline{' '}
          <span class="muted small">
            times from the play request (
            <span data-testid="timeline-origin">{formatTime(model.originMs)}</span> on the viewer’s clock)
          </span>
        </h2>
        <SwimLane model={model} />
      </section>
      <div class="two">
        <section class="card" data-testid="rebuffers">
          <h3>Rebuffers ({model.rebuffers.filter((r) => r.durationMs >= MIN_STALL_MS).length})</h3>
          <IntervalTable rows={model.rebuffers} empty="No rebuffering" kind="rebuffer" />
          <h3>Seeks ({model.seeks.length})</h3>
          <IntervalTable rows={model.seeks} empty="No seeks" kind="seek" />
          <h3>Errors ({model.errors.length})</h3>
          {model.errors.length === 0 ? (
            <p class="muted">No errors</p>
          ) : (
            <table data-testid="errors">
              <tbody>
                {model.errors.map((e) => (
                  <tr key={`${e.atMs}-${e.code}`} class="error">
                    <td>at {formatDuration(e.atMs)}</td>
                    <td>
                      <code>{e.code}</code>
                    </td>
                    <td>{e.fatal ? 'fatal' : 'recovered'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
        <section class="card">
          <h3>Metadata</h3>
          <table class="kv" data-testid="metadata">
            <tbody>
              {Object.entries(view)
                .filter(([k, val]) => k !== 'timeline' && val !== null && val !== '')
                .map(([k, val]) => (
                  <tr key={k} data-key={k}>
                    <th>{k}</th>
                    <td>
                      {typeof val === 'string' && formatField(k, val) === val ? (
                        <UserText text={val} wrap />
                      ) : typeof val === 'object' ? (
                        JSON.stringify(val)
                      ) : (
                        formatField(k, val as string | number | boolean)
                      )}
                    </td>
                  </tr>
                ))}
            </tbody>
          </table>
        </section>
      </div>
    </>
  );
}

function IntervalTable(props: {
  rows: { startMs: number; durationMs: number }[];
  empty: string;
  kind: string;
}) {
  if (props.rows.length === 0) return <p class="muted">{props.empty}</p>;
  return (
    <table>
      <tbody>
        {props.rows.map((r) => (
          <tr
            key={r.startMs}
            data-kind={props.kind}
            data-start-ms={r.startMs}
            data-duration-ms={r.durationMs}
          >
            <td>at {formatDuration(r.startMs)}</td>
            <td>for {formatDuration(r.durationMs)}</td>
            {props.kind === 'rebuffer' && r.durationMs < MIN_STALL_MS && (
              <td class="muted small">under {MIN_STALL_MS} ms: not counted</td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
