/**
 * The seams under every feature: where the store and the bus are, and how
 * the real-time numbers and viewer counts reach the api. Two implementations:
 * the embedded default (embedded-platform.ts: the append-only log and the
 * store in this process) and the scale-out one (nats-platform.ts: JetStream,
 * the store owned by the api role). Features are the same on both.
 */
import type { BootstrapFile } from '../auth/bootstrap.js';
import type { Registry } from '../auth/registry.js';
import type { Bus } from '../bus/bus.js';
import type { LiveCounts } from '../live/live-counts.js';
import type { IntakeConsumer } from '../pipeline/intake-consumer.js';
import type { RealtimeTotals, RealtimeTracker } from '../pipeline/realtime/realtime-tracker.js';
import type { ActiveViews } from '../pipeline/view-model/active-views.js';
import type { FilteredRealtime } from '../query/realtime/filtered-realtime.js';
import type { RawStore, Store } from '../store/store.js';
import type { Feature } from './feature.js';
import type { OpenedStore } from './open-store.js';

export interface Platform extends Feature {
  /** What this node's routes and intakes read and write (a hand-off to the api role on other nodes). */
  readonly store: Store;
  /** The store this node owns and answers queries from: the embedded server and the api role. */
  readonly owned: OpenedStore | undefined;
  readonly registry: Registry;
  /** Set on the first start of an empty store: the environment and admin token it made. */
  readonly bootstrap: BootstrapFile | undefined;
  /** Where the intakes publish beacons, and whose state /healthz reports. */
  readonly bus: Bus;
  /** What a pipeline on this node consumes and writes to (only asked on nodes that run one). */
  pipelineInput(): Promise<{ bus: Bus; store: RawStore }>;
  /** Called once this node's pipeline runs: what it shares with other nodes (real-time ticks, viewer counts). */
  pipelineStarted(pipeline: RunningPipeline): Feature | undefined;
  /** Where the monitoring API's real-time numbers come from (api nodes). */
  realtimeSource(pipeline: RunningPipeline | undefined): RealtimeSource;
  /** Where live viewer counts come from (api nodes). */
  countSource(pipeline: RunningPipeline | undefined): Pick<LiveCounts, 'count'> & Partial<Feature>;
}

export interface RealtimeSource<T extends RealtimeTotals = RealtimeTotals> extends Partial<Feature> {
  filtered: FilteredRealtime<T>;
  /** Calls `record` with each tick's totals; starts delivering when the server starts. */
  subscribe(record: (t: T) => void): void;
}

/** A node's pipeline, as the platform and the other features see it (main/features/pipeline-feature.ts). */
export interface RunningPipeline extends Feature {
  views: ActiveViews;
  consumer: IntakeConsumer;
  realtime: RealtimeTracker;
  /** Rebuilds the views from the bus and begins consuming. */
  start(): Promise<void>;
}
