/**
 * The live mode's schedule on a fake clock: the views in progress stay at
 * the number asked for once the ramp is over, every view gets its end (its
 * own, or a cut one when the run ends or is stopped), items leave at the
 * first flush after their device time, and no view is silent for longer
 * than a heartbeat. Ground truth is taken from the beacons the run hands
 * out, not from its own counters; the server's view model reads them back.
 */
import { type Beacon, type PlayerEvent, type Sample, validateBeacon } from '@openqoe/schema';
import { describe, expect, it } from 'vitest';
import { ActiveViews } from '../../server/src/pipeline/view-model/active-views.js';
import { nativeItems } from '../../server/src/pipeline/view-model/normalize-native.js';
import {
  COUNTRIES,
  DEVICES,
  HEARTBEAT_MS,
  LIVE,
  type LiveBeacon,
  LiveRun,
  viewStartingAt,
} from '../src/index.js';

const T0 = Date.UTC(2026, 0, 31, 12);
const STEP = LIVE.flushMs;

interface Sent {
  atMs: number;
  item: Sample | PlayerEvent;
}

/** Drives a run with a fake clock ticking every STEP; `each` sees the run after every advance. */
function drive(run: LiveRun, untilMs: number, each: (nowMs: number) => void = () => {}): LiveBeacon[][] {
  const ticks: LiveBeacon[][] = [];
  for (let now = T0; !run.done && now <= untilMs; now += STEP) {
    ticks.push(run.advance(now));
    each(now);
  }
  return ticks;
}

/** Every item handed out, by view, with the clock at which it left. */
function byView(ticks: LiveBeacon[][]): Map<string, Sent[]> {
  const out = new Map<string, Sent[]>();
  for (const beacons of ticks)
    for (const { beacon } of beacons)
      for (const item of [...beacon.samples, ...beacon.events]) {
        const list = out.get(item.viewId) ?? [];
        list.push({ atMs: beacon.sentAt, item });
        out.set(item.viewId, list);
      }
  for (const list of out.values()) list.sort((a, b) => a.item.sequenceNumber - b.item.sequenceNumber);
  return out;
}

const isViewend = (x: Sample | PlayerEvent) => 'type' in x && x.type === 'viewend';
/** The device time an item is due at: a sample when its interval closes, an event when it happens. */
const dueMs = (x: Sample | PlayerEvent) => x.viewerTime;

describe('live run', () => {
  const VIEWERS = 40;
  const RAMP = 20_000;
  const DURATION = 15 * 60_000;
  const options = {
    seed: 5,
    envKey: 'key',
    viewers: VIEWERS,
    startMs: T0,
    durationMs: DURATION,
    rampMs: RAMP,
  };

  it('holds the viewers after the ramp, ends every view, and respects the heartbeat', () => {
    const run = new LiveRun(options);
    const counted: number[] = [];
    const ticks = drive(run, T0 + DURATION, (now) => {
      if (now >= T0 + RAMP && now < T0 + DURATION) counted.push(run.inProgress);
    });
    expect(run.done).toBe(true);
    const views = byView(ticks);

    // Every view: sequence 0..n sent once each, a play request first and exactly one viewend, last.
    expect(views.size).toBe(run.tally.started);
    for (const [id, sent] of views) {
      const seqs = sent.map((s) => s.item.sequenceNumber);
      expect(seqs, id).toEqual(seqs.map((_, k) => k));
      expect(sent[0]!.item).toMatchObject({ type: 'playrequest' });
      expect(sent.filter((s) => isViewend(s.item))).toHaveLength(1);
      expect(isViewend(sent.at(-1)!.item)).toBe(true);
      // Each item leaves at the first flush at or after its time, and the view is never silent longer
      // than a heartbeat: intervals are at most HEARTBEAT_MS and follow each other without a gap.
      for (const s of sent) {
        expect(s.atMs - dueMs(s.item)).toBeGreaterThanOrEqual(0);
        expect(s.atMs - dueMs(s.item)).toBeLessThan(STEP);
      }
      const samples = sent.map((s) => s.item).filter((x): x is Sample => 'durationMs' in x);
      for (const [k, s] of samples.entries()) {
        expect(s.durationMs).toBeLessThanOrEqual(HEARTBEAT_MS);
        if (k > 0) expect(s.timestamp).toBe(samples[k - 1]!.viewerTime);
      }
    }

    // Views in progress, from the beacons: a view is in progress from its play request to its viewend.
    const spans = [...views.values()].map(
      (sent) => [dueMs(sent[0]!.item), dueMs(sent.at(-1)!.item)] as const,
    );
    for (let now = T0 + RAMP; now < T0 + DURATION; now += STEP) {
      expect(spans.filter(([from, to]) => from <= now && now < to)).toHaveLength(VIEWERS);
    }
    expect(counted.every((n) => n === VIEWERS)).toBe(true);
    // During the ramp, starts are spread: half-way through it, about half the viewers have started
    // (and the odd view that already ended, an exit before video start, has been replaced).
    const halfway = spans.filter(([from]) => from <= T0 + RAMP / 2).length;
    expect(halfway).toBeGreaterThanOrEqual(VIEWERS / 2);
    expect(halfway).toBeLessThanOrEqual(VIEWERS / 2 + 3);
    expect(spans.filter(([from, to]) => from <= T0 + RAMP / 2 && T0 + RAMP / 2 < to).length).toBe(
      VIEWERS / 2 + 1,
    );
    // Views end by themselves along the way and are replaced; those in progress at the end are cut there.
    expect(run.tally.ended).toBeGreaterThan(VIEWERS);
    expect(run.tally.stopped).toBe(VIEWERS);
    expect(run.tally.started).toBe(run.tally.ended + run.tally.stopped);
    expect(spans.filter(([, to]) => to === T0 + DURATION)).toHaveLength(VIEWERS);
  });

  it('packs views into few valid beacons: one user agent and country each, within the limits', () => {
    const run = new LiveRun({ ...options, viewers: 400, durationMs: 3 * 60_000 });
    const ticks = drive(run, T0 + 3 * 60_000);
    const countryOf = new Map<string, string>();
    for (let i = 0; i < run.tally.started; i++) {
      const v = viewStartingAt({ seed: 5, index: i, envKey: 'key', startMs: 0 });
      countryOf.set(v.beacon.events[0]!.viewId, `${v.userAgent}\n${v.country}`);
    }
    for (const beacons of ticks) {
      expect(beacons.length).toBeLessThanOrEqual(DEVICES.length * COUNTRIES.length);
      for (const b of beacons) {
        const checked = validateBeacon(JSON.parse(JSON.stringify(b.beacon)));
        expect(checked.ok ? [] : checked.fields).toEqual([]);
        const ids = new Set([...b.beacon.samples, ...b.beacon.events].map((x) => x.viewId));
        expect(new Set([...ids].map((id) => countryOf.get(id)))).toEqual(
          new Set([countryOf.get([...ids][0]!)]),
        );
        expect(countryOf.get([...ids][0]!)!.startsWith(`${b.userAgent}\n`)).toBe(true);
      }
    }
    // 400 viewers make about 40 samples a second, and their events, spread over up to 88 header pairs:
    // a beacon carries several views' items (more as the viewers grow; the beacons per flush do not).
    const beacons = ticks.flat().length;
    expect((run.tally.samples + run.tally.events) / beacons).toBeGreaterThan(2);
  });

  it('on stop, cuts each view in progress where it stands and ends it; then hands out nothing more', () => {
    const run = new LiveRun(options);
    const stopAt = T0 + 95_000 + 700;
    const ticks = drive(run, stopAt - 700);
    const last = run.stop(stopAt);
    expect(run.done).toBe(true);
    expect(run.advance(stopAt + 10_000)).toEqual([]);
    expect(run.stop(stopAt + 10_000)).toEqual([]);
    const views = byView([...ticks, last]);
    let cut = 0;
    for (const sent of views.values()) {
      const end = sent.at(-1)!.item;
      expect(isViewend(end)).toBe(true);
      if (dueMs(end) !== stopAt) continue;
      cut++;
      // The interval open at the stop ends at the stop, after the previous one without a gap.
      const samples = sent.map((s) => s.item).filter((x): x is Sample => 'durationMs' in x);
      const open = samples.at(-1);
      if (open && open.viewerTime === stopAt) {
        expect(open.durationMs).toBe(stopAt - open.timestamp);
        expect(open.durationMs).toBeGreaterThan(0);
        if (open.state === 'startup') expect(open.videoStartupTimeMs).toBe(0);
      }
    }
    expect(cut).toBe(VIEWERS);
    expect(run.tally.stopped).toBe(VIEWERS);
  });

  it('is read by the server’s view model as the views it plays: one completed view each, on its end', () => {
    const run = new LiveRun({ ...options, durationMs: 5 * 60_000 });
    const active = new ActiveViews();
    const completed = new Map<string, { startup: number | null; ebvs: boolean }>();
    const apply = (beacons: LiveBeacon[]) => {
      for (const { beacon, userAgent } of beacons) {
        const arrival = { envId: 'env', receivedAtMs: beacon.sentAt, clockOffsetMs: 0, ip: '', userAgent };
        for (const [id, part] of splitByView(beacon)) {
          for (const done of active.apply(arrival, id, nativeItems(part.samples, part.events))) {
            expect(completed.has(id)).toBe(false);
            completed.set(id, {
              startup: done.metrics.videoStartupTimeMs,
              ebvs: done.metrics.exitedBeforeVideoStart,
            });
          }
        }
      }
    };
    for (const beacons of drive(run, T0 + 5 * 60_000)) apply(beacons);
    expect(completed.size).toBe(run.tally.started);
    // Views that played to their own end have the startup time they were drawn with.
    let compared = 0;
    for (let i = 0; i < run.tally.started; i++) {
      const v = viewStartingAt({ seed: 5, index: i, envKey: 'key', startMs: 0 });
      const drawn = v.beacon.samples.find((s) => s.videoStartupTimeMs > 0)?.videoStartupTimeMs;
      const got = completed.get(v.beacon.events[0]!.viewId)!;
      if (drawn !== undefined && v.endMs < 5 * 60_000 - RAMP) {
        expect(got.startup).toBe(drawn);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(0);
  });

  it('gives the same beacons for the same seed', () => {
    const a = drive(new LiveRun(options), T0 + 60_000);
    const b = drive(new LiveRun(options), T0 + 60_000);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  });
});

function splitByView(beacon: Beacon): Map<string, { samples: Sample[]; events: PlayerEvent[] }> {
  const out = new Map<string, { samples: Sample[]; events: PlayerEvent[] }>();
  const of = (id: string) => {
    let v = out.get(id);
    if (!v) {
      v = { samples: [], events: [] };
      out.set(id, v);
    }
    return v;
  };
  for (const s of beacon.samples) of(s.viewId).samples.push(s);
  for (const e of beacon.events) of(e.viewId).events.push(e);
  return out;
}
