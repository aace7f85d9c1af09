/**
 * Shaped traffic (the generator's daily and weekly shape) through the real
 * pipeline on a clock the caller controls: each simulated minute's beacons
 * go through the native normaliser into the view model, the view timers
 * run, and a RealtimeTracker ticking once a minute closes the minute. The
 * ticks go to `onTick` (a SeriesHistory, which hands written minutes to the
 * anomaly rules), so days pass in seconds.
 */
import { type ShapeOptions, shapedMinute } from '@openqoe/generator';
import { PipelineEvents } from '../../src/pipeline/pipeline-events.js';
import { type RealtimeTotals, RealtimeTracker } from '../../src/pipeline/realtime/realtime-tracker.js';
import { ActiveViews, DEFAULT_TIMERS } from '../../src/pipeline/view-model/active-views.js';
import { nativeItems } from '../../src/pipeline/view-model/normalize-native.js';

export const MINUTE = 60_000;

export class ShapedPipeline {
  private readonly clock = { now: 0 };
  private readonly views = new ActiveViews(DEFAULT_TIMERS, { minStallMs: 250 });
  private readonly events = new PipelineEvents(this.views);
  private readonly tracker = new RealtimeTracker(
    this.views,
    { tickMs: MINUTE, attemptWindowMs: MINUTE },
    () => this.clock.now,
  );

  constructor(
    private readonly envId: string,
    private readonly shape: ShapeOptions,
    private readonly onTick: (t: RealtimeTotals) => Promise<void>,
  ) {
    this.tracker.subscribe(this.events);
  }

  /** Plays minutes [fromMs, toMs): each minute's beacons arrive at its end, then the tick of that minute. */
  async play(fromMs: number, toMs: number, stepPct: Record<string, number> = {}): Promise<void> {
    for (let m = fromMs; m < toMs; m += MINUTE) {
      this.clock.now = m + MINUTE;
      const arrival = {
        envId: this.envId,
        receivedAtMs: this.clock.now,
        clockOffsetMs: 0,
        ip: '',
        userAgent: '',
      };
      const beacons = [];
      for (const b of shapedMinute(this.shape, m, stepPct)) {
        const viewId = (b.samples[0] ?? b.events[0])!.viewId;
        const items = nativeItems(b.samples, b.events);
        this.views.apply(arrival, viewId, items);
        beacons.push({ arrival, sourceViewId: viewId, view: this.views.get(this.envId, viewId), items });
      }
      await this.events.deliver({ event: { beacons, replay: false }, accepted: 0 });
      // After the minute's items: a view sending every minute is never idle at its timer.
      this.views.tick(this.clock.now);
      this.events.emit('tick', { nowMs: this.clock.now, replay: false });
      for (const t of this.tracker.closeWindow(this.clock.now)) await this.onTick(t);
    }
  }
}
