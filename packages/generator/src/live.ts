/**
 * The live mode of `openqoe generate`: views played on the clock as players
 * play them, so a server sees views in progress rather than finished ones.
 *
 * A run has `viewers` slots. During the ramp the slots start their first
 * views evenly spread; from then on a slot starts its next view the moment
 * its view ends, so the views in progress stay at `viewers`. Each view is the
 * one `syntheticView` draws for (seed, index), started at its slot's time
 * (`viewStartingAt`): the same distribution, nothing drawn a second way. Its
 * samples and events become due at their device time (a sample when its
 * interval closes, at most HEARTBEAT_MS after it opened, as the collector's
 * heartbeat closes it) and leave at the first `advance` after that. At the
 * end of the run (or when stopped), every view in progress is ended where it
 * stands: the interval in progress is cut at the stop and a `viewend` sent.
 *
 * The items due at one `advance` are packed into few beacons: one beacon may
 * carry the items of many views, but the headers are one per request, so a
 * beacon holds views of one user agent and one country (the address sent as
 * `x-forwarded-for` is in that country's network), and at most the beacon's
 * sample and event limits. A view's items of one advance stay in one beacon,
 * in sequence order.
 *
 * Pure like the rest of the package: the clock is the caller's (`nowMs`
 * arguments), so the tests drive it with a fake one.
 */
import {
  BEACON_LIMITS,
  type Beacon,
  makeEvent,
  type PlayerEvent,
  type PlayerState,
  type Sample,
  SCHEMA_VERSION,
} from '@openqoe/schema';
import { type SyntheticView, viewStartingAt } from './view.js';

export const LIVE = {
  /**
   * How often a run sends what became due. The collector flushes every 5 s
   * and closes an interval every 10 s; 2 s here keeps a heartbeat's arrival
   * (≤ 12 s after its interval opened) inside the monitoring stream's default
   * allowed lateness (15 s), with the beacons few enough for the per-address
   * rate limit (one request per user agent and country at most, per flush).
   */
  flushMs: 2000,
  /** The ramp when none is asked for; never more than half the run. */
  rampMs: 30_000,
} as const;

export interface LiveRunOptions {
  seed: number;
  envKey: string;
  /** Views in progress to hold after the ramp. */
  viewers: number;
  /** Clock at the start of the run. */
  startMs: number;
  durationMs: number;
  /** The first views' starts are spread evenly over this. */
  rampMs: number;
}

/** One request's worth: the beacon and the headers it goes with. */
export interface LiveBeacon {
  beacon: Beacon;
  userAgent: string;
  forwardedFor: string;
}

export interface LiveTally {
  /** Views started. */
  started: number;
  /** Views that reached their own end (including failures and exits before video start). */
  ended: number;
  /** Views in progress ended by the end of the run or a stop. */
  stopped: number;
  samples: number;
  events: number;
}

type Item = { dueMs: number; seq: number; sample?: Sample | undefined; event?: PlayerEvent | undefined };

interface Playing {
  view: SyntheticView;
  viewId: string;
  /** Samples and events in sequence order, which is also their order in time. */
  items: Item[];
  /** Items already handed out. */
  sent: number;
}

interface Slot {
  /** When the slot's next view starts: its place in the ramp, then the end of its previous view. */
  nextStartMs: number;
  current?: Playing | undefined;
}

export class LiveRun {
  readonly endMs: number;
  readonly tally: LiveTally = { started: 0, ended: 0, stopped: 0, samples: 0, events: 0 };
  private readonly slots: Slot[];
  private nextIndex = 0;
  private stopped = false;

  constructor(private readonly o: LiveRunOptions) {
    if (!Number.isInteger(o.viewers) || o.viewers < 1)
      throw new RangeError('viewers must be a positive integer');
    this.endMs = o.startMs + o.durationMs;
    const ramp = Math.max(0, Math.min(o.rampMs, o.durationMs));
    this.slots = Array.from({ length: o.viewers }, (_, k) => ({
      nextStartMs: o.startMs + Math.floor((ramp * k) / o.viewers),
    }));
  }

  /** True once every view has ended (at the end of the run, or after `stop`). */
  get done(): boolean {
    return this.stopped;
  }

  /** Views started and not yet ended, as of the last `advance`. */
  get inProgress(): number {
    let n = 0;
    for (const s of this.slots) if (s.current) n++;
    return n;
  }

  /**
   * Starts the views due by `nowMs` and hands out every item due by then, in
   * beacons. From the end of the run on, it also ends the views in progress
   * (as `stop` at the end of the run) and the run is done.
   */
  advance(nowMs: number): LiveBeacon[] {
    if (this.stopped) return [];
    const until = Math.min(nowMs, this.endMs);
    const out = new BeaconPacker(this.o.envKey, until);
    for (const slot of this.slots) {
      while (slot.current || slot.nextStartMs <= until) {
        slot.current ??= this.startView(slot.nextStartMs);
        const p = slot.current;
        this.handOut(p, until, out, []);
        if (p.sent < p.items.length) break;
        // The view ended by itself: the slot's next view starts at that moment.
        this.tally.ended++;
        slot.nextStartMs = p.view.endMs;
        slot.current = undefined;
      }
    }
    if (nowMs >= this.endMs) this.endAll(this.endMs, out);
    return out.beacons;
  }

  /** Ends every view in progress at `nowMs` (what is due, the interval in progress cut there, a viewend); starts no more. */
  stop(nowMs: number): LiveBeacon[] {
    if (this.stopped) return [];
    const until = Math.min(nowMs, this.endMs);
    const out = new BeaconPacker(this.o.envKey, until);
    this.endAll(until, out);
    return out.beacons;
  }

  private endAll(atMs: number, out: BeaconPacker): void {
    for (const slot of this.slots) {
      const p = slot.current;
      if (!p) continue;
      this.handOut(p, atMs, out, endAt(p, atMs));
      this.tally.stopped++;
      slot.current = undefined;
    }
    this.stopped = true;
  }

  private startView(startMs: number): Playing {
    const view = viewStartingAt({
      seed: this.o.seed,
      index: this.nextIndex++,
      envKey: this.o.envKey,
      startMs,
    });
    const { samples, events } = view.beacon;
    const items: Item[] = [
      ...samples.map((sample) => ({ dueMs: sample.viewerTime, seq: sample.sequenceNumber, sample })),
      ...events.map((event) => ({ dueMs: event.viewerTime, seq: event.sequenceNumber, event })),
    ].sort((a, b) => a.seq - b.seq);
    this.tally.started++;
    return { view, viewId: (samples[0] ?? events[0])!.viewId, items, sent: 0 };
  }

  /** Hands out the view's items due by `untilMs`, plus `extra` (the items that end it early). */
  private handOut(p: Playing, untilMs: number, out: BeaconPacker, extra: Item[]): void {
    const from = p.sent;
    while (p.sent < p.items.length && p.items[p.sent]!.dueMs <= untilMs) p.sent++;
    const items = [...p.items.slice(from, p.sent), ...extra];
    if (items.length === 0) return;
    const samples: Sample[] = [];
    const events: PlayerEvent[] = [];
    for (const it of items) {
      if (it.sample) samples.push(it.sample);
      if (it.event) events.push(it.event);
    }
    this.tally.samples += samples.length;
    this.tally.events += events.length;
    out.add(p.view, samples, events);
  }
}

/**
 * The items that end a view in progress at `atMs`: the interval open at that
 * moment, cut there, then a `viewend` in the state the view was in. A startup
 * cut short never reached its first frame, so it carries no startup time.
 */
function endAt(p: Playing, atMs: number): Item[] {
  let sent = p.sent;
  while (sent < p.items.length && p.items[sent]!.dueMs <= atMs) sent++;
  const last = p.items[sent - 1];
  const next = p.items[sent];
  let state: PlayerState = last?.sample?.state ?? last?.event?.state ?? 'startup';
  let playheadMs = last?.sample?.videoTimeEndMs ?? last?.event?.playheadMs ?? 0;
  let seq = next?.seq ?? (last ? last.seq + 1 : 0);
  const out: Item[] = [];
  const open = next?.sample;
  if (open && open.timestamp < atMs) {
    const sample = cutSample(open, atMs);
    out.push({ dueMs: atMs, seq, sample });
    state = sample.state;
    playheadMs = sample.videoTimeEndMs;
    seq++;
  }
  const event = makeEvent({
    viewId: p.viewId,
    sequenceNumber: seq,
    viewerTime: atMs,
    state,
    type: 'viewend',
    playheadMs,
  });
  out.push({ dueMs: atMs, seq, event });
  return out;
}

/** The part of a sample's interval before `atMs`: its durations, playhead and counters in proportion. */
export function cutSample(s: Sample, atMs: number): Sample {
  const durationMs = Math.max(0, atMs - s.timestamp);
  const f = s.durationMs > 0 ? durationMs / s.durationMs : 0;
  const part = (x: number) => Math.round(x * f);
  const requestCount = part(s.requestCount);
  return {
    ...s,
    viewerTime: atMs,
    durationMs,
    playedMs: part(s.playedMs),
    pausedMs: part(s.pausedMs),
    bufferedMs: part(s.bufferedMs),
    seekedMs: part(s.seekedMs),
    startupMs: part(s.startupMs),
    videoTimeEndMs: s.videoTimeStartMs + part(s.videoTimeEndMs - s.videoTimeStartMs),
    videoStartupTimeMs: s.state === 'startup' ? 0 : s.videoStartupTimeMs,
    requestCount,
    requestFailedCount: Math.min(requestCount, s.requestFailedCount),
    requestBytes: part(s.requestBytes),
    requestTtfbTotalMs: part(s.requestTtfbTotalMs),
    requestTransferTotalMs: part(s.requestTransferTotalMs),
    droppedFrames: part(s.droppedFrames),
  };
}

/** Packs views' items into beacons: one per user agent and country, split at the beacon's limits. */
class BeaconPacker {
  readonly beacons: LiveBeacon[] = [];
  private readonly open = new Map<string, LiveBeacon>();

  constructor(
    private readonly envKey: string,
    private readonly sentAt: number,
  ) {}

  add(view: SyntheticView, samples: Sample[], events: PlayerEvent[]): void {
    const key = `${view.userAgent}\n${view.country}`;
    let b = this.open.get(key);
    if (
      !b ||
      b.beacon.samples.length + samples.length > BEACON_LIMITS.maxSamples ||
      b.beacon.events.length + events.length > BEACON_LIMITS.maxEvents
    ) {
      b = {
        beacon: {
          envKey: this.envKey,
          schemaVersion: SCHEMA_VERSION,
          sentAt: this.sentAt,
          samples: [],
          events: [],
        },
        userAgent: view.userAgent,
        forwardedFor: view.forwardedFor,
      };
      this.open.set(key, b);
      this.beacons.push(b);
    }
    b.beacon.samples.push(...samples);
    b.beacon.events.push(...events);
  }
}
