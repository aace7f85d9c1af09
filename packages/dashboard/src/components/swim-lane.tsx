/**
 * The view's states as a swim lane (one row per state, a bar per span) with
 * its events as ticks below, errors in red with their codes. SVG in a fixed
 * coordinate space, stretched to the card's width.
 */
import { formatDuration } from '../format.js';
import { LANES, type TimelineModel } from '../timeline-model.js';

const W = 1000;
const LABEL = 90;
const ROW = 20;

const COLORS: Record<string, string> = {
  startup: '#9b8afb',
  playing: '#3fb950',
  rebuffering: '#f85149',
  seeking: '#f5a524',
  paused: '#8a94a6',
  ad: '#5b8def',
  error: '#da3633',
  ended: '#6e7681',
};

export function SwimLane({ model }: { model: TimelineModel }) {
  const present = new Set(model.spans.map((s) => s.state));
  const lanes = [...LANES.filter((l) => present.has(l)), ...[...present].filter((s) => !LANES.includes(s))];
  const span = Math.max(1, model.endMs - model.startMs);
  const x = (ms: number) => LABEL + ((ms - model.startMs) / span) * (W - LABEL - 10);
  const eventsY = lanes.length * ROW + 6;
  const height = eventsY + 46;
  const ticks = axisTicks(model.startMs, model.endMs);
  return (
    <svg
      class="swim-lane"
      viewBox={`0 0 ${W} ${height}`}
      data-testid="swim-lane"
      role="img"
      aria-label="View timeline"
    >
      {lanes.map((lane, i) => (
        <g key={lane}>
          <text x={4} y={i * ROW + 14} class="lane-label">
            {lane}
          </text>
          <line x1={LABEL} x2={W - 10} y1={i * ROW + ROW} y2={i * ROW + ROW} class="lane-rule" />
        </g>
      ))}
      {model.spans.map((s) => (
        <rect
          key={`${s.state}-${s.startMs}`}
          x={x(s.startMs)}
          y={lanes.indexOf(s.state) * ROW + 3}
          width={Math.max(1, x(s.startMs + s.durationMs) - x(s.startMs))}
          height={ROW - 6}
          fill={COLORS[s.state] ?? '#c9d1d9'}
          data-state={s.state}
          data-start-ms={s.startMs}
          data-duration-ms={s.durationMs}
        >
          <title>
            {s.state} at {formatDuration(s.startMs)} for {formatDuration(s.durationMs)}
            {s.bitrateBps ? ` · ${Math.round(s.bitrateBps / 1000)} kbps ${s.width}×${s.height}` : ''}
          </title>
        </rect>
      ))}
      <text x={4} y={eventsY + 14} class="lane-label">
        events
      </text>
      {model.events.map((e) => {
        const error = Boolean(e.error_code);
        return (
          <g key={`${e.sequence_number}`} data-event={e.type ?? ''} data-at-ms={e.atMs}>
            <line
              x1={x(e.atMs)}
              x2={x(e.atMs)}
              y1={eventsY}
              y2={eventsY + 20}
              class={error ? 'event error' : 'event'}
            />
            {error && (
              <text x={x(e.atMs) + 3} y={eventsY + 30} class="event-label error">
                {e.error_code}
                {e.error_fatal ? ' (fatal)' : ''}
              </text>
            )}
            <title>
              {e.type} at {formatDuration(e.atMs)}
              {e.error_code ? ` · ${e.error_code}${e.error_fatal ? ' fatal' : ''}` : ''}
            </title>
          </g>
        );
      })}
      {ticks.map((t) => (
        <text key={t} x={x(t)} y={height - 2} class="axis" text-anchor="middle">
          {formatDuration(t)}
        </text>
      ))}
    </svg>
  );
}

/** About six round tick positions over [startMs, endMs], 0 (the play request) among them. */
function axisTicks(startMs: number, endMs: number): number[] {
  const raw = (endMs - startMs) / 6;
  const steps = [500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000];
  const step = steps.find((s) => s >= raw) ?? 3_600_000;
  const out: number[] = [];
  for (let t = Math.ceil(startMs / step) * step; t <= endMs; t += step) out.push(t);
  return out;
}
