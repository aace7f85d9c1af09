/**
 * The seam where later stages (monitoring windows, connectors, …) plug into
 * the pipeline. A stage sees every beacon's items after they were applied to
 * the view model and before the pipeline commits its bus position, so a stage
 * that makes its own output durable inside `batch` can never miss a beacon:
 * after a crash the uncommitted batch is delivered again, with the same items
 * in the same order (a stage that needs exactly-once de-duplicates on its own
 * deterministic ids). Rebuilding the view model on start does not call stages.
 */
import type { ActiveView, Arrival } from './view-model/active-views.js';
import type { ViewItem } from './view-model/view-items.js';

export interface AppliedBeacon {
  arrival: Arrival;
  /** The view as the collector names it (a reopened view keeps it; `view.viewId` may carry `~n`). */
  sourceViewId: string;
  /** The view after the items were applied; undefined when the items were only buffered or dropped. */
  view: ActiveView | undefined;
  items: readonly ViewItem[];
}

export interface PipelineStage {
  readonly name: string;
  /**
   * Called once per bus batch in bus order. A returned promise holds the
   * pipeline's commit until it settles; after a rejection the same batch is
   * offered to the stage again (after a pause) until it is accepted.
   */
  batch(applied: readonly AppliedBeacon[]): void | Promise<void>;
  /** Called on the view lifecycle timer, after the view model's own tick. */
  tick?(nowMs: number): void;
  close?(): Promise<void>;
}
