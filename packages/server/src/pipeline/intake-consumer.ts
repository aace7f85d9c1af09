/**
 * The pipeline's first stage: reads accepted beacons from the bus, drops
 * (view, sequence) pairs already stored, applies the rest to the view model,
 * and commits one ledger row per beacon and view together with the bus
 * position, so a restart resumes exactly where the store left off. It
 * publishes the pipeline's events (pipeline-events.ts) that stages subscribe to.
 */
import type { PlayerEvent, Sample } from '@openqoe/schema';
import type { Bus, BusRecord, ConsumerHandle } from '../bus/bus.js';
import {
  type CompatRecord,
  decodeIntakeRecord,
  type IntakeMeta,
  type IntakeRecord,
} from '../bus/intake-record.js';
import type { Metrics } from '../observability/metrics.js';
import type { RawBeaconRow, RawStore } from '../store/store.js';
import { Dedupe } from './dedupe.js';
import type { AppliedBeacon, BatchDelivery, PipelineStage } from './pipeline-events.js';
import { PipelineEvents } from './pipeline-events.js';
import type { ActiveViews, Arrival, ViewSnapshot } from './view-model/active-views.js';
import { compatItems, expandedItems } from './view-model/normalize-compat.js';
import { nativeItems } from './view-model/normalize-native.js';
import type { SourceItem } from './view-model/view-items.js';
import { viewRow } from './view-model/view-row.js';
import { retryDelayMs, ViewWriteQueue } from './view-write-queue.js';

export const PIPELINE_CONSUMER = 'pipeline';

export interface IntakeConsumerOptions {
  dedupeRetentionMs: number;
  /** Least time between commits (see config `pipeline.commitIntervalMs`); 0 commits every batch at once. */
  commitIntervalMs?: number;
  viewTickIntervalMs: number;
  log?: { info(msg: string): void; warn(msg: string): void; error(msg: string): void };
}

/** What was applied since the last commit. */
interface Pending {
  rows: RawBeaconRow[];
  /** The bus position after the last applied record; -1 when nothing is pending. */
  position: number;
  samples: number;
  events: number;
  duplicates: number;
}

const emptyPending = (): Pending => ({ rows: [], position: -1, samples: 0, events: 0, duplicates: 0 });

interface ViewGroup {
  samples: Sample[];
  events: PlayerEvent[];
}

/** What a batch will hand to the view model once the store has it. */
interface Applied {
  arrival: Arrival;
  viewId: string;
  items: SourceItem[];
}

export class IntakeConsumer {
  readonly dedupe = new Dedupe();
  /** What the pipeline publishes; stages subscribe through `addStage`. */
  readonly events: PipelineEvents;
  private handle: ConsumerHandle | undefined;
  private evictTimer: NodeJS.Timeout | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  /** Completed views on their way to the store, retried until it takes them. */
  private readonly viewQueue: ViewWriteQueue;
  /** Raw commits the store refused in a row; the commit is retried with backoff meanwhile. */
  private commitFailures = 0;
  /** The position of the last raw commit: acknowledged to the bus once no view write is failing. */
  private committedUpTo = -1;
  private readonly stages: PipelineStage[] = [];
  /** Applied to the view model, not yet committed. */
  private pending: Pending = emptyPending();
  /** Bus position after the last applied record: records before it are never applied again. */
  private appliedUpTo = -1;
  /** The last applied batch while some batchApplied listener has not accepted it. */
  private stageDebt: BatchDelivery | undefined;
  private commitTimer: NodeJS.Timeout | undefined;
  private commitChain: Promise<void> = Promise.resolve();
  private lastCommitStartMs = 0;
  /** Set on stop: the last writes go at once. */
  private stopping = false;
  /** Drop-in views whose first data was not their start (logged for the first few). */
  private midwayWarnings = 0;

  constructor(
    private readonly bus: Bus,
    private readonly store: RawStore,
    private readonly views: ActiveViews,
    private readonly metrics: Metrics,
    private readonly options: IntakeConsumerOptions,
  ) {
    this.events = new PipelineEvents(views);
    this.viewQueue = new ViewWriteQueue((rows) => this.store.upsertViews(rows), {
      intervalMs: options.commitIntervalMs ?? 0,
      written: (n) => {
        this.metrics.viewsStored.inc(n);
        this.showStall();
        this.ackDurable();
      },
      failed: (err, n, failures) => {
        this.storeFailed('views', failures);
        this.options.log?.error(`could not store ${n} views (${this.retrying(failures)}): ${err.message}`);
      },
    });
  }

  /**
   * The store refuses writes: the pipeline reads nothing more from the bus until it takes them again,
   * so the checkpoint never passes what the store does not hold, and the log keeps the rest.
   */
  get stalled(): boolean {
    return this.commitFailures > 0 || this.viewQueue.failing;
  }

  /**
   * Lets the bus drop what the store holds. Held back while view writes fail: views not yet stored
   * are rebuilt from the log after a crash, so it keeps their beacons.
   */
  private ackDurable(): void {
    if (this.committedUpTo >= 0 && !this.viewQueue.failing)
      this.bus.ack(PIPELINE_CONSUMER, this.committedUpTo);
  }

  private retrying(failures: number): string {
    return this.stopping ? 'stopping: the log keeps them' : `kept, retrying in ${retryDelayMs(failures)} ms`;
  }

  private showStall(): void {
    this.metrics.pipelineStalled.labels('pipeline').set(this.stalled ? 1 : 0);
  }

  private storeFailed(what: 'raw' | 'views', failures: number): void {
    this.metrics.errors.labels('store').inc();
    this.metrics.storeWriteFailures.labels(what).inc();
    this.showStall();
    if (failures === 1)
      this.options.log?.warn('the pipeline stops reading the log until the store takes writes');
  }

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
   * is what the process held before it stopped. The pipeline's events are
   * published as live, with `replay` set. Its cost grows with the last hour's
   * volume (see docs/architecture.md).
   */
  private async rebuild(upTo: number): Promise<void> {
    const since = Date.now() - this.options.dedupeRetentionMs;
    let beacons = 0;
    this.events.replay = true;
    await this.bus.read(this.bus.startPosition, upTo, (records) => {
      const applied: Applied[] = [];
      const stored = emptyPending(); // already in the store: only de-duplication and the views need them
      for (const record of records) {
        const rec = decodeIntakeRecord(record.payload);
        if (rec.meta.receivedAtMs < since) continue;
        this.rowsFor(rec, record.position, applied, stored);
        beacons++;
      }
      this.dedupe.commit(Date.now());
      const batch = this.applyAll(applied);
      if (batch) return this.events.deliver(batch);
    });
    this.events.replay = false;
    if (beacons) {
      this.options.log?.info(
        `rebuilt ${this.views.size} active views and de-duplication from ${beacons} beacons in the log`,
      );
    }
  }

  /** Runs the view lifecycle timers and stores what they completed. */
  tick(nowMs: number): Promise<void> {
    this.storeViews(this.views.tick(nowMs));
    if (this.events.has('tick')) this.events.emit('tick', { nowMs, replay: false });
    this.metrics.activeViews.set(this.views.size);
    return this.viewQueue.settled();
  }

  /** Stores every view held in memory as it stands (on shutdown). */
  flushActiveViews(): Promise<void> {
    const snapshots = [...this.views.values()]
      .filter((view) => view.machine.isView)
      .map((view) => ({ view, metrics: view.machine.metrics(view.status === 'completed') }));
    this.storeViews(snapshots);
    return this.viewQueue.settled().then(() => {
      // Stopping: no more retries. The log still holds their beacons; the next start rebuilds them.
      if (this.viewQueue.size)
        this.options.log?.warn(`${this.viewQueue.size} views could not be stored before stopping`);
    });
  }

  /** Queues views for the store (view-write-queue.ts): under load one upsert carries many views. */
  private storeViews(snapshots: ViewSnapshot[]): void {
    const now = Date.now();
    this.viewQueue.add(snapshots.map((s) => viewRow(s.view, s.metrics, now)));
  }

  /** Adds a stage: it subscribes to the pipeline's events now, and is closed when the pipeline stops. */
  addStage(stage: PipelineStage): void {
    this.stages.push(stage);
    stage.subscribe(this.events);
  }

  /**
   * Applies items to the view model (which publishes the view events) and
   * returns the batch for `batchApplied`, or undefined when nobody listens.
   * Views completed by an explicit end are stored, except during the replay.
   */
  private applyAll(applied: Applied[]): BatchDelivery | undefined {
    const seen: AppliedBeacon[] | undefined = this.events.has('batchApplied') ? [] : undefined;
    const replay = this.events.replay;
    for (const a of applied) {
      const completed = this.views.apply(a.arrival, a.viewId, a.items);
      if (!replay) this.storeViews(completed);
      seen?.push({
        arrival: a.arrival,
        sourceViewId: a.viewId,
        view: this.views.get(a.arrival.envId, a.viewId),
        items: expandedItems(a.items),
      });
    }
    return seen && { event: { beacons: seen, replay }, accepted: 0 };
  }

  /**
   * Applies a bus batch at once (so parsed beacons die young), publishes it
   * (`batchApplied`), and commits what was applied at most every `commitIntervalMs`: a
   * commit costs far more than a beacon, so under load one carries hundreds.
   * Records offered again after a failure are never applied twice.
   */
  async process(records: BusRecord[]): Promise<void> {
    await this.untilWritable();
    await this.payStages();
    const fresh = records.filter((r) => r.position >= this.appliedUpTo);
    if (fresh.length > 0) {
      const applied: Applied[] = [];
      const p = this.pending;
      for (const record of fresh) {
        const rec =
          (record.value as IntakeRecord | CompatRecord | undefined) ?? decodeIntakeRecord(record.payload);
        this.rowsFor(rec, record.position, applied, p);
      }
      // Applied items count as seen from now on; a failed commit is retried, never re-applied.
      this.dedupe.commit(Date.now());
      this.stageDebt = this.applyAll(applied);
      p.position = fresh[fresh.length - 1]!.next;
      this.appliedUpTo = p.position;
      await this.payStages();
    }
    // A refused commit is retried on its own (scheduleCommit); meanwhile the next batch waits in untilWritable.
    if (performance.now() - this.lastCommitStartMs >= (this.options.commitIntervalMs ?? 0))
      await this.commitPending().catch(() => {});
    else this.scheduleCommit();
  }

  /** Waits while the store refuses writes (`stalled`), so nothing more is read from the bus. */
  private async untilWritable(): Promise<void> {
    // Polled: the retries run on their own timers, and a stop ends the wait.
    while (this.stalled && !this.stopping) await new Promise((r) => setTimeout(r, 50));
  }

  /** Hands the last applied batch to the batchApplied listeners that have not accepted it yet. */
  private async payStages(): Promise<void> {
    const debt = this.stageDebt;
    if (!debt) return;
    await this.events.deliver(debt);
    this.stageDebt = undefined;
  }

  /** Commits what was applied (one at a time, in order); rejects if the store refused it. */
  private commitPending(): Promise<void> {
    const run = this.commitChain.then(() => this.commitNow());
    this.commitChain = run.catch(() => {});
    return run;
  }

  private scheduleCommit(): void {
    if (this.commitTimer) return;
    const wait = Math.max(
      this.commitFailures ? retryDelayMs(this.commitFailures) : 0,
      (this.options.commitIntervalMs ?? 0) - (performance.now() - this.lastCommitStartMs),
    );
    this.commitTimer = setTimeout(() => {
      this.commitTimer = undefined;
      this.commitPending().catch(() => {}); // commitNow logs and schedules the retry
    }, wait);
  }

  /** Ledger rows and position in one store transaction, after every stage accepted the batch (`batchApplied`). */
  private async commitNow(): Promise<void> {
    if (this.commitTimer) {
      clearTimeout(this.commitTimer);
      this.commitTimer = undefined;
    }
    await this.payStages();
    const p = this.pending;
    if (p.position < 0) return;
    this.pending = emptyPending();
    this.lastCommitStartMs = performance.now();
    const started = performance.now();
    try {
      await this.store.writeRaw(p.rows, {
        consumer: PIPELINE_CONSUMER,
        logId: this.bus.id,
        position: p.position,
      });
    } catch (err) {
      // Put back in front of what was applied meanwhile, to go in the next attempt.
      const later = this.pending;
      this.pending = {
        rows: later.rows.length ? [...p.rows, ...later.rows] : p.rows,
        position: Math.max(p.position, later.position),
        samples: p.samples + later.samples,
        events: p.events + later.events,
        duplicates: p.duplicates + later.duplicates,
      };
      this.commitFailures++;
      this.storeFailed('raw', this.commitFailures);
      this.options.log?.error(
        `pipeline commit failed (${this.retrying(this.commitFailures)}): ${(err as Error).message}`,
      );
      if (!this.stopping) this.scheduleCommit();
      throw err;
    }
    if (this.commitFailures) {
      this.commitFailures = 0;
      this.showStall();
    }
    this.metrics.storeWrite.observe((performance.now() - started) / 1000);
    this.committedUpTo = p.position;
    this.ackDurable();
    this.metrics.pipelineSamples.inc(p.samples);
    this.metrics.pipelineEvents.inc(p.events);
    if (p.duplicates) this.metrics.pipelineDuplicates.inc(p.duplicates);
  }

  /** Adds a record's ledger rows and counts to `into`, and its items to `applied`. */
  private rowsFor(
    rec: IntakeRecord | CompatRecord,
    logPosition: number,
    applied: Applied[],
    into: Pending,
  ): void {
    // Drop-in intakes (Mux protocol, CMCD): one view per record, its events as points.
    if ('compat' in rec) {
      this.compatRowsFor(rec, logPosition, applied, into);
      return;
    }
    const { meta, beacon } = rec;
    const groups = new Map<string, ViewGroup & { key: string }>();
    // A beacon's items nearly always share one view: the last group is kept at hand, so its
    // de-duplication key is built (and hashed) once per beacon, not once per item.
    let lastViewId: string | undefined;
    let lastGroup: (ViewGroup & { key: string }) | undefined;
    const group = (viewId: string) => {
      if (lastGroup && viewId === lastViewId) return lastGroup;
      let g = groups.get(viewId);
      if (!g) {
        g = { samples: [], events: [], key: Dedupe.key(meta.envId, viewId) };
        groups.set(viewId, g);
      }
      lastViewId = viewId;
      lastGroup = g;
      return g;
    };
    for (const s of beacon.samples) {
      const g = group(s.viewId);
      if (this.dedupe.take(g.key, s.sequenceNumber)) g.samples.push(s);
      else into.duplicates++;
    }
    for (const e of beacon.events) {
      const g = group(e.viewId);
      if (this.dedupe.take(g.key, e.sequenceNumber)) g.events.push(e);
      else into.duplicates++;
    }
    for (const [viewId, g] of groups) {
      // Every item of this view was a duplicate: nothing to store or apply.
      if (g.samples.length === 0 && g.events.length === 0) continue;
      const row = this.ledgerRow(meta, viewId, logPosition, g.samples.length, g.events.length, into);
      for (const x of g.samples) seqInto(row, x.sequenceNumber);
      for (const x of g.events) seqInto(row, x.sequenceNumber);
      applied.push({ arrival: meta, viewId, items: nativeItems(g.samples, g.events) });
    }
  }

  /** Adds a ledger row of one view's items in one record to `into`; `seqInto` fills its sequence range. */
  private ledgerRow(
    meta: IntakeMeta,
    viewId: string,
    logPosition: number,
    sampleCount: number,
    eventCount: number,
    into: Pending,
  ): RawBeaconRow {
    into.samples += sampleCount;
    into.events += eventCount;
    const row: RawBeaconRow = {
      envId: meta.envId,
      viewId,
      firstSeq: Number.POSITIVE_INFINITY,
      lastSeq: -1,
      seqCount: sampleCount + eventCount,
      sampleCount,
      eventCount,
      receivedAtMs: meta.receivedAtMs,
      clockOffsetMs: meta.clockOffsetMs,
      logId: this.bus.id,
      logPosition,
    };
    into.rows.push(row);
    return row;
  }

  /** Like `rowsFor`, for a drop-in intake's record: its events are de-duplicated and counted as events. */
  private compatRowsFor(rec: CompatRecord, logPosition: number, applied: Applied[], into: Pending): void {
    const { meta, compat } = rec;
    const key = Dedupe.key(meta.envId, compat.viewId);
    const all = compatItems(meta, compat);
    const items = all.filter((i) => this.dedupe.take(key, i.seq));
    into.duplicates += all.length - items.length;
    if (items.length === 0) return;
    const row = this.ledgerRow(meta, compat.viewId, logPosition, 0, items.length, into);
    for (const i of items) seqInto(row, i.seq);
    const first = row.firstSeq;
    if (first > 0 && !this.views.get(meta.envId, compat.viewId) && this.midwayWarnings++ < 20) {
      // Recorded, not refused: the view is applied from what arrived once the gap wait is over.
      const where = compat.format === 'mux' ? `view_sequence_number ${first + 1}` : `sn ${first}`;
      this.options.log?.warn(
        `${compat.format} view ${compat.viewId.slice(0, 128)}: the first data received starts at ${where}; earlier events never arrived (applied without them)`,
      );
    }
    applied.push({ arrival: meta, viewId: compat.viewId, items });
  }

  /** Resolves once everything durable in the bus at the call was applied and committed. */
  async caughtUp(): Promise<void> {
    await this.handle?.caughtUp();
    await this.commitPending();
  }

  async stop(): Promise<void> {
    if (this.evictTimer) clearInterval(this.evictTimer);
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.stopping = true;
    await this.handle?.stop();
    if (this.commitTimer) clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
    // What was applied is committed before stopping; if the store refuses, the log still has it.
    await this.commitPending().catch((err: Error) =>
      this.options.log?.warn(`could not commit the last batch on stop (the log keeps it): ${err.message}`),
    );
    this.viewQueue.stop();
    await this.viewQueue.settled();
    for (const stage of this.stages) await stage.close?.();
  }
}

function seqInto(row: RawBeaconRow, seq: number): void {
  if (seq < row.firstSeq) row.firstSeq = seq;
  if (seq > row.lastSeq) row.lastSeq = seq;
}
