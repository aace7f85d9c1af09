/**
 * A view's timeline, kept with the view so one view's history never needs
 * its raw beacons: the states it held (consecutive samples of one state and
 * rendition merged into one span) and its events, in sequence order, on the
 * device's clock. Entries are kept as JSON text — a few dozen bytes each —
 * because every active view carries one.
 */
import type { ViewItem } from './active-views.js';

/** Longest timeline kept; a view past it is marked truncated (its metrics are unaffected). */
export const TIMELINE_MAX_ENTRIES = 1000;

/** One entry as stored: [kind, seq, deviceMs, state, durationMs, type, errorCode, errorFatal, bitrate, width, height, samples]. */
export type TimelineEntry = [
  'sample' | 'event',
  number,
  number,
  string,
  number | null,
  string | null,
  string | null,
  boolean | null,
  number,
  number,
  number,
  number,
];

interface OpenSpan {
  seq: number;
  startMs: number;
  state: string;
  durationMs: number;
  bitrate: number;
  width: number;
  height: number;
  samples: number;
}

export class Timeline {
  private done: string[] = [];
  private open: OpenSpan | undefined;
  truncated = false;

  get length(): number {
    return this.done.length + (this.open ? 1 : 0);
  }

  add(item: ViewItem): void {
    if (item.kind === 'segment') {
      const f = item.facts;
      const o = this.open;
      // Contiguous on the device clock (within a frame or two), same state and rendition: one span.
      if (
        o &&
        o.state === item.state &&
        o.bitrate === f.videoBitrateBps &&
        o.width === f.videoWidth &&
        o.height === f.videoHeight &&
        Math.abs(o.startMs + o.durationMs - item.deviceStartMs) <= 50
      ) {
        o.durationMs += item.durationMs;
        o.samples++;
        return;
      }
      this.close();
      if (this.full()) return;
      this.open = {
        seq: item.seq,
        startMs: item.deviceStartMs,
        state: item.state,
        durationMs: item.durationMs,
        bitrate: f.videoBitrateBps,
        width: f.videoWidth,
        height: f.videoHeight,
        samples: 1,
      };
      return;
    }
    this.close();
    if (this.full()) return;
    const f = item.facts;
    const entry: TimelineEntry = [
      'event',
      item.seq,
      item.deviceTimeMs,
      item.state,
      null,
      item.type,
      f.errorCode || null,
      f.errorCode ? f.errorFatal : null,
      f.videoBitrateBps,
      0,
      0,
      0,
    ];
    this.done.push(JSON.stringify(entry));
  }

  private full(): boolean {
    if (this.done.length < TIMELINE_MAX_ENTRIES) return false;
    this.truncated = true;
    return true;
  }

  private close(): void {
    if (!this.open) return;
    this.done.push(spanText(this.open));
    this.open = undefined;
  }

  /** JSON array of entries, the open span included (it stays open for further samples). */
  toJSON(): string {
    const parts = this.open ? [...this.done, spanText(this.open)] : this.done;
    return `[${parts.join(',')}]`;
  }
}

function spanText(o: OpenSpan): string {
  const entry: TimelineEntry = [
    'sample',
    o.seq,
    o.startMs,
    o.state,
    o.durationMs,
    null,
    null,
    null,
    o.bitrate,
    o.width,
    o.height,
    o.samples,
  ];
  return JSON.stringify(entry);
}
