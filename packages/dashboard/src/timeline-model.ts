/**
 * A view's timeline as the API returns it, turned into what the view page
 * draws: state spans on lanes, rebuffers and seeks (adjacent spans of one
 * state merged, since a rendition change splits a span), events, and the
 * bitrate over time. Offsets are ms from the play request (from the first
 * entry when there is none); what came before it (player setup) is negative.
 */
import type { TimelineEntry } from '@openqoe/schema';

export interface Span {
  state: string;
  startMs: number;
  durationMs: number;
  bitrateBps: number;
  width: number;
  height: number;
}

/** The view model's default minimum stall: shorter ones are not rebuffers (docs/metrics.md). */
export const MIN_STALL_MS = 250;

export interface TimelineModel {
  /** Device time of offset 0: the play request, else the first entry. */
  originMs: number;
  /** Offset of the first entry (≤ 0) and of the end of the last. */
  startMs: number;
  endMs: number;
  spans: Span[];
  events: (TimelineEntry & { atMs: number })[];
  rebuffers: { startMs: number; durationMs: number }[];
  seeks: { startMs: number; durationMs: number }[];
  errors: { atMs: number; code: string; fatal: boolean }[];
}

/** Lanes top to bottom; states outside the list get a lane after them. */
export const LANES = ['startup', 'playing', 'rebuffering', 'seeking', 'paused', 'ad', 'error', 'ended'];

/** Spans of `state` that touch (within 50 ms, as the server merges samples) become one. */
function merged(spans: Span[], state: string): { startMs: number; durationMs: number }[] {
  const out: { startMs: number; durationMs: number }[] = [];
  for (const s of spans) {
    if (s.state !== state) continue;
    const last = out.at(-1);
    if (last && Math.abs(last.startMs + last.durationMs - s.startMs) <= 50)
      last.durationMs = s.startMs + s.durationMs - last.startMs;
    else out.push({ startMs: s.startMs, durationMs: s.durationMs });
  }
  return out;
}

export function timelineModel(entries: TimelineEntry[]): TimelineModel {
  const firstMs = entries.length ? Math.min(...entries.map((e) => e.time_ms)) : 0;
  const playRequest = entries.find((e) => e.kind === 'event' && e.type === 'playrequest');
  const originMs = playRequest ? playRequest.time_ms : firstMs;
  const spans: Span[] = entries
    .filter((e) => e.kind === 'sample')
    .map((e) => ({
      state: e.state,
      startMs: e.time_ms - originMs,
      durationMs: e.duration_ms ?? 0,
      bitrateBps: e.video_bitrate_bps ?? 0,
      width: e.video_width ?? 0,
      height: e.video_height ?? 0,
    }));
  const events = entries.filter((e) => e.kind === 'event').map((e) => ({ ...e, atMs: e.time_ms - originMs }));
  const endMs = Math.max(1, ...spans.map((s) => s.startMs + s.durationMs), ...events.map((e) => e.atMs));
  return {
    originMs,
    startMs: Math.min(0, firstMs - originMs),
    endMs,
    spans,
    events,
    rebuffers: merged(spans, 'rebuffering'),
    seeks: merged(spans, 'seeking'),
    errors: events
      .filter((e) => e.error_code)
      .map((e) => ({ atMs: e.atMs, code: e.error_code!, fatal: e.error_fatal === true })),
  };
}
