/**
 * Traffic with a daily and weekly shape, one simulated minute at a time, for
 * anomaly rules to learn from: the audience follows the time of day (lowest
 * around 04:00 UTC, highest around 21:00) and the day of the week (more on
 * Saturdays and Sundays), and rebuffering is a little worse at peak (the
 * network is busier). The caller's clock says which minute it is, so tests
 * and benchmarks pass simulated days in seconds.
 *
 * Each slot k of `peakViewers` watches while k < the minute's audience; a
 * slot plays views of `viewMinutes` back to back, each on the CDN host of
 * its slot (k modulo the hosts). Per view and minute, a stall (2–10 s) happens
 * with the probability that gives the minute's expected rebuffering, so the
 * numbers carry the noise of real stalls, not a smooth curve. `stepPct` adds
 * points of rebuffering on chosen hosts (an injected fault). Pure and
 * seeded: the same (seed, minute) gives the same beacons, whatever the order
 * minutes are asked in.
 */
import { type Beacon, makeEvent, makeSample, type Sample, SCHEMA_VERSION } from '@openqoe/schema';
import { mulberry32, viewSeed } from './random.js';

const MINUTE = 60_000;
const DAY = 86_400_000;
/** The stall length's mean (uniform 2–10 s). */
const STALL_MEAN_MS = 6000;
const TEMPLATE = makeSample({ viewerTime: 0 });

export interface ShapeOptions {
  seed: number;
  envKey: string;
  /** Viewers at the weekly peak (Sunday 21:00 UTC). */
  peakViewers: number;
  /** CDN hosts the slots are spread over. */
  cdnHosts: readonly string[];
  /** Rebuffering (percent of watch time) at the quietest hour; peak adds `peakRebufferPct`. */
  baseRebufferPct: number;
  peakRebufferPct: number;
  /** Length of each view (default 30 minutes). */
  viewMinutes?: number;
}

/** The daily curve's value at each hour (UTC), as a share of the day's peak: lowest at 04:00–05:00, peak at 21:00. */
const HOURLY = [
  0.55, 0.4, 0.28, 0.2, 0.15, 0.15, 0.2, 0.3, 0.35, 0.38, 0.4, 0.45, 0.5, 0.5, 0.48, 0.5, 0.55, 0.62, 0.72,
  0.85, 0.95, 1, 0.9, 0.72,
];

/** The audience's share of the weekly peak at a time: the daily curve (interpolated) × the day of week. */
export function audienceShare(atMs: number): number {
  const hour = (((atMs % DAY) + DAY) % DAY) / 3_600_000;
  const h = Math.floor(hour);
  const daily = HOURLY[h]! + (HOURLY[(h + 1) % 24]! - HOURLY[h]!) * (hour - h);
  const weekday = new Date(atMs).getUTCDay();
  return daily * (weekday === 0 || weekday === 6 ? 1 : 0.75);
}

/** Expected rebuffering (percent) on one host at a time: worse as the audience nears its peak. */
export function rebufferShape(o: ShapeOptions, atMs: number): number {
  return o.baseRebufferPct + o.peakRebufferPct * audienceShare(atMs);
}

/** Viewers watching in the minute starting at `minuteMs`. */
export const viewersAt = (o: ShapeOptions, minuteMs: number) =>
  Math.round(o.peakViewers * audienceShare(minuteMs));

/**
 * The beacons of the minute starting at `minuteMs` (one per view: its samples and events of that
 * minute, due at its end). A view starting plays after a 1 s startup; a slot whose viewer leaves
 * ends its view with a `viewend`.
 */
export function shapedMinute(
  o: ShapeOptions,
  minuteMs: number,
  stepPct: Readonly<Record<string, number>> = {},
): Beacon[] {
  const viewMs = (o.viewMinutes ?? 30) * MINUTE;
  const viewMinutes = viewMs / MINUTE;
  // Viewers of this minute and of the view's length before it (back[j]: j minutes before).
  const back = Array.from({ length: viewMinutes + 1 }, (_, j) => viewersAt(o, minuteMs - j * MINUTE));
  const now = back[0]!;
  const next = viewersAt(o, minuteMs + MINUTE);
  const beacons: Beacon[] = [];
  const minuteIndex = Math.floor(minuteMs / MINUTE);
  for (let k = 0; k < now; k++) {
    const host = o.cdnHosts[k % o.cdnHosts.length]!;
    // Slots start their views at staggered times, so views do not all end in one minute.
    const offset = Math.floor((k * viewMs) / Math.max(1, o.peakViewers) / MINUTE) * MINUTE;
    const generation = Math.floor((minuteMs - offset) / viewMs);
    const turn = generation * viewMs + offset;
    // The view started at its slot's turn, or later when the slot's viewer arrived after it.
    let j = 0;
    while (minuteMs - (j + 1) * MINUTE >= turn && back[j + 1]! > k) j++;
    const viewStart = minuteMs - j * MINUTE;
    const viewId = `shape-${o.seed}-${k}-${viewStart / MINUTE}`;
    // Every minute has three samples (and the first a play request and the startup before them),
    // so a view's sequence numbers run on without gaps from minute to minute.
    const seqBase = j === 0 ? 0 : 5 + 3 * (j - 1);
    const rand = mulberry32(viewSeed(o.seed, minuteIndex * 100_003 + k));
    const template: Sample = {
      ...TEMPLATE,
      viewId,
      cdnHost: host,
      cdnProvider: host,
      videoId: `video-${k % 7}`,
    };
    const samples: Sample[] = [];
    const events = [];
    let seq = seqBase;
    let t = minuteMs;
    const seg = (state: Sample['state'], ms: number) => {
      if (ms <= 0) return;
      // Copies of one complete sample, set field by field: building each from overrides is 20× slower.
      const sample = { ...template };
      sample.sequenceNumber = seq++;
      sample.state = state;
      sample.timestamp = t;
      sample.durationMs = ms;
      sample.viewerTime = t + ms;
      sample.playedMs = state === 'playing' ? ms : 0;
      sample.bufferedMs = state === 'rebuffering' ? ms : 0;
      sample.startupMs = state === 'startup' ? ms : 0;
      samples.push(sample);
      t += ms;
    };
    if (minuteMs === viewStart) {
      events.push(
        makeEvent({ viewId, sequenceNumber: seq++, viewerTime: t, state: 'startup', type: 'playrequest' }),
      );
      seg('startup', 1000);
    }
    const pct = rebufferShape(o, minuteMs) + (stepPct[host] ?? 0);
    const stalls = rand() < Math.min(1, (pct / 100) * (MINUTE / STALL_MEAN_MS));
    const stallMs = stalls ? 2000 + Math.floor(rand() * 8000) : 0;
    const playMs = minuteMs + MINUTE - t - stallMs;
    // At least a second of playing either side; without a stall, three parts of playing.
    const cutAt = 1000 + Math.floor(rand() * (playMs - 2000));
    seg('playing', cutAt);
    if (stallMs > 0) seg('rebuffering', stallMs);
    else seg('playing', Math.floor((playMs - cutAt) / 2));
    seg('playing', minuteMs + MINUTE - t);
    const ending = k >= next || minuteMs + MINUTE - turn >= viewMs;
    if (ending)
      events.push(
        makeEvent({ viewId, sequenceNumber: seq++, viewerTime: t, state: 'playing', type: 'viewend' }),
      );
    beacons.push({ envKey: o.envKey, schemaVersion: SCHEMA_VERSION, sentAt: t, samples, events });
  }
  return beacons;
}
