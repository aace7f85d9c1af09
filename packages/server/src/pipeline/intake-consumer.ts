/**
 * The pipeline's first stage: reads accepted beacons from the bus, drops
 * (view, sequence) pairs already stored, applies the rest to the view model,
 * and commits one ledger row per beacon and view together with the bus
 * position, so a restart resumes exactly where the store left off.
 */
import type { PlayerEvent, Sample } from '@openqoe/schema';
import type { Bus, BusRecord, ConsumerHandle } from '../bus/bus.js';
import type { Metrics } from '../observability/metrics.js';
import type { RawBeaconRow, RawStore } from '../store/store.js';
import { type ViewRow, viewRow } from '../store/view-row.js';
import { Dedupe } from './dedupe.js';
import { decodeIntakeRecord, type IntakeMeta, type IntakeRecord } from './intake-record.js';
import type { AppliedBeacon, PipelineStage } from './stage.js';
import type { ActiveViews, Arrival, ViewItem, ViewSnapshot } from './view-model/active-views.js';
import { nativeItems } from './view-model/normalize-native.js';

export const PIPELINE_CONSUMER = 'pipeline';

export interface IntakeConsumerOptions {
  dedupeRetentionMs: number;
  /** Least time between commits (see config `pipeline.commitIntervalMs`); 0 commits every batch at once. */
  commitIntervalMs?: number;
  /** How often the view lifecycle timers run. */
  viewTickIntervalMs: number;
  log?: { info(msg: string): void; warn(msg: string): void; error(msg: string): void };
}

/** A batch applied to the view model, until its rows and position are committed. */
interface PendingBatch {
  rows: RawBeaconRow[];
  /** The bus position after the batch. */
  position: number;
  applied?: AppliedBeacon[];
  /** How many stages have accepted the batch. */
  stagesDone: number;
}

interface ViewGroup {
  samples: Sample[];
  events: PlayerEvent[];
}

/** What a batch will hand to the view model once the store has it. */
interface Applied {
  arrival: Arrival;
  viewId: string;
  items: ViewItem[];
}

export class IntakeConsumer {
  readonly dedupe = new Dedupe();
  private handle: ConsumerHandle | undefined;
  private evictTimer: NodeJS.Timeout | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private viewWrites: Promise<void> = Promise.resolve();
  private queuedViews: ViewRow[] = [];
  private viewFlushQueued = false;
  private readonly stages: PipelineStage[] = [];
  private uncommitted: PendingBatch | undefined;

  constructor(
    private readonly bus: Bus,
    private readonly store: RawStore,
    private readonly views: ActiveViews,
    private readonly metrics: Metrics,
    private readonly options: IntakeConsumerOptions,
  ) {}

  async start(): Promise<void> {
    const saved = await this.store.readCheckpoint(PIPELINE_CONSUMER);
    let from = this.bus.startPosition;
    if (saved && saved.logId === this.bus.id) from = saved.position;
    else if (saved) {
      this.options.log?.warn(
        `the log in the data dir is not the one the store last read (${saved.logId}); reading it from the start`,
      );
    }
    // Normally the checkpoint; past it when the checkpoint was lost but the ledger shows more stored.
    const last = await this.store.lastLoggedPosition(this.bus.id);
    await this.rebuild(last === undefined || last < from ? from : last + 1);
    this.handle = this.bus.consume(PIPELINE_CONSUMER, from, (records) => this.process(records));
    this.evictTimer = setInterval(
      () => this.dedupe.evict(Date.now() - this.options.dedupeRetentionMs),
      60_000,
    );
    this.evictTimer.unref();
    this.tickTimer = setInterval(() => this.tick(Date.now()), this.options.viewTickIntervalMs);
    this.tickTimer.unref();
  }

  /**
   * Rebuilds de-duplication and the active views by reading back the part of
   * the log the store already has (`bus.retainMs` of it, up to `upTo`),
   * through the same de-duplication as live traffic, so the result
   * is what the process held before it stopped. Its cost grows with the last
   * hour's volume (see docs/architecture.md).
   */
  private async rebuild(upTo: number): Promise<void> {
    const since = Date.now() - this.options.dedupeRetentionMs;
    let beacons = 0;
    await this.bus.read(this.bus.startPosition, upTo, (records) => {
      const applied: Applied[] = [];
      for (const record of records) {
        const rec = decodeIntakeRecord(record.payload);
        if (rec.meta.receivedAtMs < since) continue;
        this.rowsFor(rec, record.position, applied);
        beacons++;
      }
      this.dedupe.commit(Date.now());
      for (const a of applied) this.views.apply(a.arrival, a.viewId, a.items);
    });
    if (beacons) {
      this.options.log?.info(
        `rebuilt ${this.views.size} active views and de-duplication from ${beacons} beacons in the log`,
      );
    }
  }

  /** Runs the view lifecycle timers and stores what they completed. */
  tick(nowMs: number): Promise<void> {
    this.storeViews(this.views.tick(nowMs));
    for (const stage of this.stages) stage.tick?.(nowMs);
    this.metrics.activeViews.set(this.views.size);
    return this.viewWrites;
  }

  /** Stores every view held in memory as it stands (on shutdown). */
  flushActiveViews(): Promise<void> {
    const snapshots: ViewSnapshot[] = [];
    for (const view of this.views.values()) {
      if (view.machine.isView)
        snapshots.push({ view, metrics: view.machine.metrics(view.status === 'completed') });
    }
    this.storeViews(snapshots);
    return this.viewWrites;
  }

  /**
   * Queues views for the store. Rows queued while a write runs go together in
   * the next one, so under load one upsert carries many views.
   */
  private storeViews(snapshots: ViewSnapshot[]): void {
    if (snapshots.length === 0) return;
    const now = Date.now();
    for (const s of snapshots) this.queuedViews.push(viewRow(s.view, s.metrics, now));
    if (this.viewFlushQueued) return;
    this.viewFlushQueued = true;
    this.viewWrites = this.viewWrites.then(async () => {
      this.viewFlushQueued = false;
      const rows = this.queuedViews;
      this.queuedViews = [];
      try {
        await this.store.upsertViews(rows);
        this.metrics.viewsStored.inc(rows.length);
      } catch (err) {
        // Views are derived: a failed write is logged, and the view is written again when it next
        // completes or after a restart, which rebuilds it from the raw rows.
        this.metrics.errors.labels('store').inc();
        this.options.log?.error(`could not store ${rows.length} views: ${(err as Error).message}`);
      }
    });
  }

  /** Adds a stage that sees every applied batch before the pipeline commits it (see stage.ts). */
  addStage(stage: PipelineStage): void {
    this.stages.push(stage);
  }

  async process(records: BusRecord[]): Promise<void> {
    // A batch applied to the view model whose commit failed is committed first, never applied twice.
    if (this.uncommitted) {
      await this.commit(this.uncommitted);
      const done = this.uncommitted.position;
      this.uncommitted = undefined;
      records = records.filter((r) => r.position >= done);
      if (records.length === 0) return;
    }
    const rows: RawBeaconRow[] = [];
    const applied: Applied[] = [];
    let samples = 0;
    let events = 0;
    let duplicates = 0;
    for (const record of records) {
      const rec = (record.value as IntakeRecord | undefined) ?? decodeIntakeRecord(record.payload);
      const built = this.rowsFor(rec, record.position, applied);
      rows.push(...built.rows);
      samples += built.samples;
      events += built.events;
      duplicates += built.duplicates;
    }
    const batch: PendingBatch = { rows, position: records[records.length - 1]!.next, stagesDone: 0 };
    const seen: AppliedBeacon[] = [];
    for (const a of applied) {
      this.storeViews(this.views.apply(a.arrival, a.viewId, a.items));
      if (this.stages.length)
        seen.push({
          arrival: a.arrival,
          sourceViewId: a.viewId,
          view: this.views.get(a.arrival.envId, a.viewId),
          items: a.items,
        });
    }
    batch.applied = seen;
    this.uncommitted = batch;
    await this.commit(batch);
    this.uncommitted = undefined;
    this.metrics.pipelineSamples.inc(samples);
    this.metrics.pipelineEvents.inc(events);
    if (duplicates) this.metrics.pipelineDuplicates.inc(duplicates);
    // Pausing here lets the next batch gather what arrives meanwhile (it is durable in the log already).
    const wait = (this.options.commitIntervalMs ?? 0) - (performance.now() - this.lastCommitStartMs);
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
  }

  private lastCommitStartMs = 0;

  /** Hands the batch to the stages still owed it, then commits raw rows and position together. */
  private async commit(batch: PendingBatch): Promise<void> {
    this.lastCommitStartMs = performance.now();
    while (batch.stagesDone < this.stages.length) {
      await this.stages[batch.stagesDone]!.batch(batch.applied ?? []);
      batch.stagesDone++;
    }
    const started = performance.now();
    try {
      await this.store.writeRaw(batch.rows, {
        consumer: PIPELINE_CONSUMER,
        logId: this.bus.id,
        position: batch.position,
      });
    } catch (err) {
      this.metrics.errors.labels('store').inc();
      throw err;
    }
    this.dedupe.commit(Date.now());
    this.metrics.storeWrite.observe((performance.now() - started) / 1000);
    this.bus.ack(PIPELINE_CONSUMER, batch.position);
  }

  private rowsFor(
    rec: IntakeRecord,
    logPosition: number,
    applied: Applied[],
  ): {
    rows: RawBeaconRow[];
    samples: number;
    events: number;
    duplicates: number;
  } {
    const { meta, beacon } = rec;
    const groups = new Map<string, ViewGroup>();
    const group = (viewId: string) => {
      let g = groups.get(viewId);
      if (!g) {
        g = { samples: [], events: [] };
        groups.set(viewId, g);
      }
      return g;
    };
    let duplicates = 0;
    for (const s of beacon.samples) {
      if (this.dedupe.take(Dedupe.key(meta.envId, s.viewId), s.sequenceNumber))
        group(s.viewId).samples.push(s);
      else duplicates++;
    }
    for (const e of beacon.events) {
      if (this.dedupe.take(Dedupe.key(meta.envId, e.viewId), e.sequenceNumber))
        group(e.viewId).events.push(e);
      else duplicates++;
    }
    const rows: RawBeaconRow[] = [];
    let samples = 0;
    let events = 0;
    for (const [viewId, g] of groups) {
      let first = Number.POSITIVE_INFINITY;
      let last = -1;
      for (const x of g.samples) {
        if (x.sequenceNumber < first) first = x.sequenceNumber;
        if (x.sequenceNumber > last) last = x.sequenceNumber;
      }
      for (const x of g.events) {
        if (x.sequenceNumber < first) first = x.sequenceNumber;
        if (x.sequenceNumber > last) last = x.sequenceNumber;
      }
      rows.push({
        envId: meta.envId,
        viewId,
        firstSeq: first,
        lastSeq: last,
        seqCount: g.samples.length + g.events.length,
        sampleCount: g.samples.length,
        eventCount: g.events.length,
        receivedAtMs: meta.receivedAtMs,
        clockOffsetMs: meta.clockOffsetMs,
        logId: this.bus.id,
        logPosition,
      });
      samples += g.samples.length;
      events += g.events.length;
      applied.push({ arrival: arrivalOf(meta), viewId, items: nativeItems(g.samples, g.events) });
    }
    return { rows, samples, events, duplicates };
  }

  caughtUp(): Promise<void> {
    return this.handle?.caughtUp() ?? Promise.resolve();
  }

  async stop(): Promise<void> {
    if (this.evictTimer) clearInterval(this.evictTimer);
    if (this.tickTimer) clearInterval(this.tickTimer);
    await this.handle?.stop();
    await this.viewWrites;
    for (const stage of this.stages) await stage.close?.();
  }
}

const arrivalOf = (meta: IntakeMeta): Arrival => ({
  envId: meta.envId,
  receivedAtMs: meta.receivedAtMs,
  clockOffsetMs: meta.clockOffsetMs,
  ip: meta.ip,
  userAgent: meta.userAgent,
});
