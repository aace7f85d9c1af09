/**
 * The seam where stages (monitoring windows, connectors, the real-time
 * tracker) plug into the pipeline: the typed map of its events (after
 * hls.js's `HlsListeners`: each name mapped to its listener's signature) and
 * the emitter, which calls listeners in subscription order. View events come
 * from the view model's one hook (`ActiveViews.hook`), `batchApplied` and
 * `tick` from the intake consumer. A stage is added once, before the
 * pipeline starts (`IntakeConsumer.addStage`), and subscribes to what it needs.
 *
 * Every payload carries `replay`: true while the views are rebuilt from the
 * bus on start. A stage that keeps state (monitoring windows, real-time)
 * rebuilds it from the same events; one whose output has left the process
 * (connectors) must not produce it again.
 */
import type { PlayerState } from '@openqoe/schema';
import type { ActiveView, Arrival, CompletionReason, ViewHook } from './view-model/active-views.js';
import type { ViewItem } from './view-model/view-items.js';

export type ViewEvent = { readonly view: ActiveView; readonly replay: boolean };

/** One beacon's items of one view, as applied. */
export interface AppliedBeacon {
  arrival: Arrival;
  /** The view as the collector names it (a reopened view keeps it; `view.viewId` may carry `~n`). */
  sourceViewId: string;
  /** The view after the items were applied. */
  view: ActiveView | undefined;
  items: readonly ViewItem[];
}

export interface BatchAppliedEvent {
  /** Every beacon of one bus batch, in bus order. */
  readonly beacons: readonly AppliedBeacon[];
  readonly replay: boolean;
}

/** Every event name and its listener's signature. */
export interface PipelineListeners {
  /** A view appeared, before any of its items is applied (a stage can attach its per-view state). */
  viewCreated(e: ViewEvent): void;
  /** Applying an item changed the view's player state. */
  viewState(e: ViewEvent & { readonly from: PlayerState; readonly to: PlayerState }): void;
  /** The view completed (idle, explicit end, stuck rebuffer); its metrics are stored. */
  viewCompleted(e: ViewEvent & { readonly reason: CompletionReason }): void;
  /** An item arrived for a completed view: it is active again. */
  viewReopened(e: ViewEvent): void;
  /** The view is forgotten (long idle, or ended minutes ago); a later item starts a new generation. */
  viewFinal(e: ViewEvent): void;
  /**
   * A bus batch was applied (after its view events): the durable point. A
   * returned promise holds the commit of the batch's bus position until it
   * settles; after a rejection the batch is offered again, after a pause, to
   * this listener and those after it. After a crash an uncommitted batch comes
   * again, same items in the same order (exactly-once needs a stage's own
   * deterministic ids). In the replay a rejection fails the start.
   */
  batchApplied(e: BatchAppliedEvent): void | Promise<void>;
  /** The view lifecycle timer ran, after the views it completed or made final. Never a replay. */
  tick(e: { readonly nowMs: number; readonly replay: false }): void;
}

export type PipelineEventName = keyof PipelineListeners;

export interface PipelineStage {
  readonly name: string;
  subscribe(events: PipelineEvents): void;
  /** Called when the pipeline stops, after its last commit, in the order stages were added. */
  close?(): Promise<void>;
}

/** A batch on its way to the batchApplied listeners, `accepted` of which have taken it. */
export interface BatchDelivery {
  readonly event: BatchAppliedEvent;
  accepted: number;
}

export class PipelineEvents {
  /** Set by the pipeline while it rebuilds from the bus; copied into every view event. */
  replay = false;
  // Every event's list exists up front: emitting is an index loop, nothing allocated or looked up twice.
  private readonly lists: { [E in PipelineEventName]: PipelineListeners[E][] } = {
    viewCreated: [],
    viewState: [],
    viewCompleted: [],
    viewReopened: [],
    viewFinal: [],
    batchApplied: [],
    tick: [],
  };

  /** Follows a view model: its changes become view events (it has one hook; the last follower has it). */
  constructor(views?: { hook: ViewHook | undefined }) {
    if (views) views.hook = this.viewHook;
  }

  on<E extends PipelineEventName>(event: E, listener: PipelineListeners[E]): void {
    this.lists[event].push(listener);
  }

  /** Whether anyone listens: a payload nobody reads need not be built. */
  has(event: PipelineEventName): boolean {
    return this.lists[event].length > 0;
  }

  emit<E extends Exclude<PipelineEventName, 'batchApplied'>>(
    event: E,
    payload: Parameters<PipelineListeners[E]>[0],
  ): void {
    const list = this.lists[event] as ((p: typeof payload) => void)[];
    for (let i = 0; i < list.length; i++) list[i]!(payload);
  }

  /**
   * Hands a batch to the batchApplied listeners in order, waiting for those
   * that return a promise. A rejection leaves `delivery.accepted` at the
   * listener that refused: delivering the same object again resumes there.
   */
  async deliver(delivery: BatchDelivery): Promise<void> {
    const list = this.lists.batchApplied;
    for (; delivery.accepted < list.length; delivery.accepted++) {
      const pending = list[delivery.accepted]!(delivery.event);
      if (pending) await pending;
    }
  }

  private readonly viewHook: ViewHook = {
    created: (view) => this.emit('viewCreated', { view, replay: this.replay }),
    state: (view, from, to) => this.emit('viewState', { view, from, to, replay: this.replay }),
    completed: (view, reason) => this.emit('viewCompleted', { view, reason, replay: this.replay }),
    reopened: (view) => this.emit('viewReopened', { view, replay: this.replay }),
    final: (view) => this.emit('viewFinal', { view, replay: this.replay }),
  };
}
