/**
 * The real-time tracker on a clock the test controls: time is credited on
 * event time to the class a view is in (a stall counts from the moment it is
 * reported to have begun, clipped to the tick window), and start attempts
 * end in the outcome the view model gives them.
 */
import { describe, expect, it } from 'vitest';
import { PipelineEvents } from '../src/pipeline/pipeline-events.js';
import { RealtimeTracker } from '../src/pipeline/realtime/realtime-tracker.js';
import { ActiveViews, DEFAULT_TIMERS } from '../src/pipeline/view-model/active-views.js';
import { nativeItems } from '../src/pipeline/view-model/normalize-native.js';
import { ViewScript } from './helpers/monitoring-script.js';

function setup(startMs: number) {
  const clock = { now: startMs };
  const views = new ActiveViews(DEFAULT_TIMERS, { minStallMs: 250 });
  const events = new PipelineEvents(views);
  const tracker = new RealtimeTracker(views, { tickMs: 5000, attemptWindowMs: 60_000 }, () => clock.now);
  tracker.subscribe(events);
  /** Applies a script's items from `fromSeq` on, as one beacon arriving now. */
  const send = (s: ViewScript, fromSeq = 0, backfill = false) => {
    const items = nativeItems(s.samples, s.events).filter((i) => i.seq >= fromSeq);
    const arrival = {
      envId: 'env',
      receivedAtMs: clock.now,
      clockOffsetMs: 0,
      ip: '',
      userAgent: '',
      ...(backfill ? { backfill: true as const } : {}),
    };
    views.apply(arrival, s.viewId, items);
    const beacon = { arrival, sourceViewId: s.viewId, view: views.get('env', s.viewId), items };
    void events.deliver({ event: { beacons: [beacon], replay: false }, accepted: 0 });
  };
  return { clock, tracker, send };
}

describe('real-time tracker', () => {
  it('credits a stall from its reported start, clipped to the window', () => {
    const { clock, tracker, send } = setup(95_000);
    const a = new ViewScript('a', 90_000).seg('startup', 1000).seg('playing', 9000);
    clock.now = 100_000;
    send(a);
    let [t] = tracker.closeWindow(100_000);
    // Playing over the whole window 95–100 s.
    expect(t!.overall.watchMs).toBe(5000);
    expect(t!.overall.rebufferMs).toBe(0);
    expect(t!.overall.concurrent).toBe(1);

    // At 102 s the player reports 1 s more play and a stall since 101 s.
    a.seg('playing', 1000).seg('rebuffering', 1000);
    clock.now = 102_000;
    send(a, 2);
    [t] = tracker.closeWindow(105_000);
    // 100–101 s playing, 101–105 s rebuffering (the stall is taken to go on until reported over).
    expect(t!.overall.watchMs).toBe(5000);
    expect(t!.overall.rebufferMs).toBe(4000);
    expect(t!.overall.value('current_rebuffering_percentage')).toBe(80);

    // Reported over at 106 s: the stall ended at 105.5 s.
    a.seg('rebuffering', 3500).seg('playing', 500);
    clock.now = 106_000;
    send(a, 4);
    [t] = tracker.closeWindow(110_000);
    expect(t!.overall.rebufferMs).toBe(500);
    expect(t!.overall.watchMs).toBe(5000);
  });

  it('counts viewers starting up, and ends each start attempt in its outcome', () => {
    const { clock, tracker, send } = setup(200_000);
    clock.now = 201_000;
    const starting = new ViewScript('starting', 200_000).seg('startup', 1000);
    const started = new ViewScript('started', 199_000).seg('startup', 1500).seg('playing', 500);
    const failed = new ViewScript('failed', 199_000)
      .seg('startup', 2000)
      .ev('error', 'error', { errorFatal: true, errorCode: 'E' });
    for (const s of [starting, started, failed]) send(s);
    const [t] = tracker.closeWindow(205_000);
    expect(t!.overall.concurrent).toBe(2);
    expect(t!.overall.startingUp).toBe(1);
    // Attempts: one still starting, one started, one failed before its first frame.
    expect(t!.overall.attempts).toBe(3);
    expect(t!.overall.value('video_startup_failure_percentage')).toBeCloseTo(100 / 3, 6);
    expect(t!.overall.value('video_startup_time')).toBe(1500);
    // Every dimension's rows add up to the whole.
    for (const rows of t!.dims.values())
      expect([...rows.values()].reduce((n, r) => n + r.concurrent, 0)).toBe(2);
    expect(t!.dims.size).toBe(13);
  });

  it('leaves out backfilled history that ended before the attempt window, not a backfilled view of now', () => {
    const DAY = 86_400_000;
    const { clock, tracker, send } = setup(3 * DAY);
    clock.now = 3 * DAY + 1000;
    // Two days old, sent with ?backfill: a start and a failure then, none of them now.
    const old = new ViewScript('old', DAY)
      .seg('startup', 2000)
      .ev('error', 'error', { errorFatal: true, errorCode: 'E' });
    const oldStarted = new ViewScript('old-started', DAY).seg('startup', 1500).seg('playing', 500);
    // Backfilled with a device clock of now (the monitoring tests place views so): counted.
    const now = new ViewScript('now', 3 * DAY - 1000).seg('startup', 1000).seg('playing', 1000);
    for (const s of [old, oldStarted, now]) send(s, 0, true);
    const [t] = tracker.closeWindow(3 * DAY + 5000);
    expect(t!.overall.attempts).toBe(1);
    expect(t!.overall.value('playback_failure_percentage')).toBe(0);
    expect(t!.overall.value('video_startup_failure_percentage')).toBe(0);
    expect(t!.overall.concurrent).toBe(1);
  });
});
