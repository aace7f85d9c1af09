/**
 * Real-time ticks of scripted views: native beacons every step into the
 * view model and a real RealtimeTracker on a clock the test controls, one
 * tick closed after each step. Each view starts up in its own time, then
 * plays or rebuffers each step as the test's script says.
 */
import { PipelineEvents } from '../../src/pipeline/pipeline-events.js';
import { type RealtimeTick, RealtimeTracker } from '../../src/pipeline/realtime/realtime-tracker.js';
import { ActiveViews, DEFAULT_TIMERS } from '../../src/pipeline/view-model/active-views.js';
import { nativeItems } from '../../src/pipeline/view-model/normalize-native.js';
import { ViewScript } from './monitoring-script.js';

export interface PlayedView {
  id: string;
  cdnHost: string;
  startupMs: number;
}

/** Three views on cdn-a and two on cdn-b, each starting up in its own time. */
export const FIVE_VIEWS: readonly PlayedView[] = [
  { id: 'a1', cdnHost: 'cdn-a', startupMs: 800 },
  { id: 'a2', cdnHost: 'cdn-a', startupMs: 1500 },
  { id: 'a3', cdnHost: 'cdn-a', startupMs: 2500 },
  { id: 'b1', cdnHost: 'cdn-b', startupMs: 1200 },
  { id: 'b2', cdnHost: 'cdn-b', startupMs: 3000 },
];

/** The ticks of `steps` steps of `stepMs` after `startMs`; `state(i, k)`: what view i does in step k (1…steps). */
export function playTicks(
  played: readonly PlayedView[],
  steps: number,
  startMs: number,
  stepMs: number,
  state: (view: number, step: number) => 'playing' | 'rebuffering',
  envId = 'env',
): RealtimeTick[] {
  const clock = { now: startMs };
  const views = new ActiveViews(DEFAULT_TIMERS, { minStallMs: 250 });
  const events = new PipelineEvents(views);
  const tracker = new RealtimeTracker(views, { tickMs: stepMs, attemptWindowMs: 60_000 }, () => clock.now);
  tracker.subscribe(events);
  const scripts = played.map((p) => ({
    script: new ViewScript(p.id, startMs - stepMs, { cdnHost: p.cdnHost })
      .ev('playrequest', 'startup')
      .seg('startup', p.startupMs)
      .seg('playing', stepMs - p.startupMs),
    sent: 0,
  }));
  const send = () => {
    for (const v of scripts) {
      const items = nativeItems(v.script.samples, v.script.events).filter((i) => i.seq >= v.sent);
      v.sent = v.script.seq;
      const arrival = { envId, receivedAtMs: clock.now, clockOffsetMs: 0, ip: '', userAgent: '' };
      views.apply(arrival, v.script.viewId, items);
      const beacon = {
        arrival,
        sourceViewId: v.script.viewId,
        view: views.get(envId, v.script.viewId),
        items,
      };
      void events.deliver({ event: { beacons: [beacon], replay: false }, accepted: 0 });
    }
  };
  const ticks: RealtimeTick[] = [];
  send();
  ticks.push(...tracker.closeWindow(clock.now));
  for (let k = 1; k <= steps; k++) {
    for (const [i, v] of scripts.entries()) v.script.seg(state(i, k), stepMs);
    clock.now = startMs + k * stepMs;
    send();
    ticks.push(...tracker.closeWindow(clock.now));
  }
  return ticks;
}
