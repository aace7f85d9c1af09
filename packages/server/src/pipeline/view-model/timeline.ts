/**
 * A view's timeline, kept with the view so one view's history never needs
 * its raw beacons: the states it held (consecutive samples of one state and
 * rendition merged into one span) and its events, in sequence order, on the
 * device's clock. Every active view carries one, so it is kept small: closed
 * entries as one JSON text, the open span in plain fields.
 */
import type { ViewItem } from './view-items.js';

/** Longest timeline kept; a view past it is marked truncated (its metrics are unaffected). */
export const TIMELINE_MAX_ENTRIES = 1000;

/** A span as stored: ['s', seq, deviceStartMs, state, durationMs, bitrate, width, height, samples]. */
export type SpanEntry = ['s', number, number, string, number, number, number, number, number];
/** An event as stored: ['e', seq, deviceMs, state, type, errorCode, errorFatal, bitrate, width, height]. */
export type EventEntry = [
  'e',
  number,
  number,
  string,
  string,
  string | null,
  boolean | null,
  number,
  number,
  number,
];
export type TimelineEntry = SpanEntry | EventEntry;

export class Timeline {
  /** Closed entries, comma-separated JSON arrays. */
  private text = '';
  private closed = 0;
  truncated = false;
  // The open span (state '' when none), merged into while samples continue it.
  private seq = 0;
  private startMs = 0;
  private state = '';
  private durationMs = 0;
  private bitrate = 0;
  private width = 0;
  private height = 0;
  private samples = 0;

  get length(): number {
    return this.closed + (this.state ? 1 : 0);
  }

  add(item: ViewItem): void {
    if (item.kind === 'segment') {
      const f = item.facts;
      // Contiguous on the device clock (within a frame or two), same state and rendition: one span.
      if (
        this.state === item.state &&
        this.bitrate === f.videoBitrateBps &&
        this.width === f.videoWidth &&
        this.height === f.videoHeight &&
        Math.abs(this.startMs + this.durationMs - item.deviceStartMs) <= 50
      ) {
        this.durationMs += item.durationMs;
        this.samples++;
        return;
      }
      this.closeSpan();
      if (this.full()) return;
      this.seq = item.seq;
      this.startMs = item.deviceStartMs;
      this.state = item.state;
      this.durationMs = item.durationMs;
      this.bitrate = f.videoBitrateBps;
      this.width = f.videoWidth;
      this.height = f.videoHeight;
      this.samples = 1;
      return;
    }
    this.closeSpan();
    if (this.full()) return;
    const f = item.facts;
    const entry: EventEntry = [
      'e',
      item.seq,
      item.deviceTimeMs,
      item.state,
      item.type,
      f.errorCode || null,
      f.errorCode ? f.errorFatal : null,
      f.videoBitrateBps,
      f.videoWidth,
      f.videoHeight,
    ];
    this.push(JSON.stringify(entry));
  }

  private full(): boolean {
    if (this.closed < TIMELINE_MAX_ENTRIES) return false;
    this.truncated = true;
    return true;
  }

  private push(entry: string): void {
    this.text = this.closed === 0 ? entry : `${this.text},${entry}`;
    this.closed++;
  }

  private spanText(): string {
    const entry: SpanEntry = [
      's',
      this.seq,
      this.startMs,
      this.state,
      this.durationMs,
      this.bitrate,
      this.width,
      this.height,
      this.samples,
    ];
    return JSON.stringify(entry);
  }

  private closeSpan(): void {
    if (!this.state) return;
    this.push(this.spanText());
    this.state = '';
  }

  /** JSON array of entries, the open span included (it stays open for further samples). */
  toJSON(): string {
    if (!this.state) return `[${this.text}]`;
    return `[${this.text}${this.closed ? ',' : ''}${this.spanText()}]`;
  }
}
