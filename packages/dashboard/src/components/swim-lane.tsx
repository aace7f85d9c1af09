/**
 * The view's timeline in one SVG on one time axis (ms from the play
 * request): the states as a swim lane (one row per state, a bar per span),
 * its events as labelled ticks (errors in red with their codes), and the
 * rendition's bitrate as a step line from zero. One coordinate space,
 * stretched to the card's width, so the same instant is the same pixel in
 * every part; labels near the right edge are anchored to end there.
 */
import { formatDuration, formatValue } from '../format.js';
import { LANES, type TimelineModel } from '../timeline-model.js';

const W = 1000;
const LABEL = 90;
const ROW = 20;
const RIGHT = W - 10;
/** Height of the bitrate chart under the events. */
const BITRATE_H = 70;
/** Rows of event labels, and the width of one 11 px character in the drawing's units (an estimate). */
const LABEL_ROWS = 3;
const CHAR_W = 6.3;

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
  const x = (ms: number) => LABEL + ((ms - model.startMs) / span) * (RIGHT - LABEL);
  const eventsY = lanes.length * ROW + 6;
  const labels = placeLabels(model.events, x);
  const bitrateY = eventsY + 30 + LABEL_ROWS * 13;
  const rendition = model.spans.filter((s) => s.bitrateBps > 0);
  const maxBps = Math.max(0, ...rendition.map((s) => s.bitrateBps));
  const axisY = (rendition.length ? bitrateY + BITRATE_H : bitrateY) + 16;
  const height = axisY + 6;
  const y = (bps: number) => bitrateY + BITRATE_H - (bps / (maxBps * 1.1)) * BITRATE_H;
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
          <line x1={LABEL} x2={RIGHT} y1={i * ROW + ROW} y2={i * ROW + ROW} class="lane-rule" />
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
            {s.bitrateBps ? ` · ${formatValue(s.bitrateBps, 'bps')} ${s.width}×${s.height}` : ''}
          </title>
        </rect>
      ))}
      <text x={4} y={eventsY + 14} class="lane-label">
        events
      </text>
      {model.events.map((e) => {
        const error = Boolean(e.error_code);
        const at = x(e.atMs);
        const label = labels.get(e);
        return (
          <g key={`${e.sequence_number}`} data-event={e.type ?? ''} data-at-ms={e.atMs}>
            <line x1={at} x2={at} y1={eventsY} y2={eventsY + 20} class={error ? 'event error' : 'event'} />
            {label && (
              <text
                x={label.end ? at - 3 : at + 3}
                y={eventsY + 32 + label.row * 13}
                text-anchor={label.end ? 'end' : 'start'}
                class={error ? 'event-label error' : 'event-label'}
              >
                {label.text}
              </text>
            )}
            <title>
              {e.type} at {formatDuration(e.atMs)}
              {e.error_code ? ` · ${e.error_code}${e.error_fatal ? ' fatal' : ''}` : ''}
            </title>
          </g>
        );
      })}
      {rendition.length > 0 && (
        <g data-testid="bitrate">
          <text x={4} y={bitrateY + BITRATE_H / 2 + 6} class="lane-label">
            bitrate
          </text>
          <line x1={LABEL} x2={RIGHT} y1={y(0)} y2={y(0)} class="lane-rule" />
          <text x={LABEL - 4} y={y(0)} class="axis" text-anchor="end">
            0
          </text>
          <text x={LABEL - 4} y={y(maxBps) + 8} class="axis" text-anchor="end">
            {formatValue(maxBps, 'bps')}
          </text>
          {rendition.map((s, i) => {
            const prev = rendition[i - 1];
            return (
              <g key={s.startMs}>
                {prev && prev.bitrateBps !== s.bitrateBps && (
                  <line
                    x1={x(s.startMs)}
                    x2={x(s.startMs)}
                    y1={y(prev.bitrateBps)}
                    y2={y(s.bitrateBps)}
                    class="bitrate"
                  />
                )}
                <line
                  x1={x(s.startMs)}
                  x2={x(s.startMs + s.durationMs)}
                  y1={y(s.bitrateBps)}
                  y2={y(s.bitrateBps)}
                  class="bitrate"
                  data-start-ms={s.startMs}
                  data-bps={s.bitrateBps}
                >
                  <title>
                    {formatValue(s.bitrateBps, 'bps')} from {formatDuration(s.startMs)} to{' '}
                    {formatDuration(s.startMs + s.durationMs)}
                  </title>
                </line>
              </g>
            );
          })}
        </g>
      )}
      {ticks.map((t) => {
        const at = x(t);
        const anchor = at < LABEL + 30 ? 'start' : at > RIGHT - 30 ? 'end' : 'middle';
        return (
          <text key={t} x={at} y={axisY} class="axis" text-anchor={anchor} data-tick-ms={t}>
            {t === 0 ? '0' : formatDuration(t)}
          </text>
        );
      })}
    </svg>
  );
}

type TimelineEvent = TimelineModel['events'][number];

/**
 * Where each event's label goes: errors first, then the others in time order,
 * each in the first row where it overlaps no other label (ending at its tick
 * near the right edge, so it is never cut). A label with no room stays
 * unwritten; its tick keeps the full text on hover.
 */
function placeLabels(
  events: TimelineEvent[],
  x: (ms: number) => number,
): Map<TimelineEvent, { row: number; end: boolean; text: string }> {
  const rows: [number, number][][] = Array.from({ length: LABEL_ROWS }, () => []);
  const out = new Map<TimelineEvent, { row: number; end: boolean; text: string }>();
  const order = [...events.filter((e) => e.error_code), ...events.filter((e) => !e.error_code)];
  for (const e of order) {
    const text = `${e.type ?? ''}${e.error_code ? ` ${e.error_code}${e.error_fatal ? ' (fatal)' : ''}` : ''}`;
    const at = x(e.atMs);
    const width = text.length * CHAR_W + 6;
    const end = at + width > W;
    const extent: [number, number] = end ? [at - width, at] : [at, at + width];
    const row = rows.findIndex((r) => r.every(([a, b]) => extent[1] <= a || extent[0] >= b));
    if (row < 0) continue;
    rows[row]!.push(extent);
    out.set(e, { row, end, text });
  }
  return out;
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
