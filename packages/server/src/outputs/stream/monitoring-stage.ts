/**
 * The monitoring samples stream as a pipeline stage. Every view gets a
 * WindowTracker that the view machine tells of classified spans; at each
 * window's emission point (end + `allowedLatenessMs`), due windows are
 * turned into records, one Sample per view, packed into payloads per
 * partition, encoded per sink and offered to each sink's delivery (the
 * delivery core, outputs/delivery/: durable queue, retries, dead letters).
 * The emitted watermark is recorded once those payloads are durable.
 *
 * Crash safety: window totals live in memory, but the view model is rebuilt
 * from the stored raw beacons on start and the stage follows the rebuild's
 * events (`replay`) like live ones, so they come back; windows before the
 * recorded watermark were already buffered and are skipped. A crash between
 * buffering and recording the watermark re-emits a window: a duplicate with
 * the same view_id and record start, which is what consumers de-duplicate on.
 */
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { monitoring as pb } from '@openqoe/schema';
import type { Registry } from 'prom-client';
import type { MonitoringConfig, SinkConfig } from '../../config/monitoring-config.js';
import type { AppliedBeacon, PipelineEvents, PipelineStage } from '../../pipeline/pipeline-events.js';
import { entry } from '../../pipeline/realtime/map-entry.js';
import type { ActiveView } from '../../pipeline/view-model/active-views.js';
import { DeadLetterDir } from '../delivery/dead-letter.js';
import { Delivery } from '../delivery/delivery.js';
import type { QueueRecord } from '../delivery/destination.js';
import { previousDiskQueue } from '../delivery/previous-queues.js';
import {
  encodeSample,
  instantRecord,
  packPayloads,
  partitionOf,
  type StreamFormat,
  sampleOf,
  windowRecord,
} from './sample-builder.js';
import { createMonitoringMetrics, type MonitoringMetrics, sinkCounters } from './sinks/monitoring-metrics.js';
import { sinkModule } from './sinks/registry.js';
import { WindowTracker } from './window-tracker.js';

interface Due {
  view: ActiveView;
  ebvs: boolean;
  partition: number;
  records: pb.Record[];
}

interface Sink {
  config: SinkConfig;
  delivery: Delivery;
}

type Log = { info(m: string): void; warn(m: string): void; error(m: string): void };

const trackerOf = (view: ActiveView): WindowTracker | undefined =>
  view.machine.spans instanceof WindowTracker ? view.machine.spans : undefined;

export class MonitoringStage implements PipelineStage {
  readonly name = 'monitoring';
  readonly metrics: MonitoringMetrics;
  /** Every view's tracker (also reachable as `view.machine.spans`). */
  private readonly trackers = new Set<WindowTracker>();
  private sinks: Sink[] = [];
  /** Windows starting before this were emitted (handed to every sink). */
  private emittedBefore: number;
  /** Settles once every payload handed to the sinks so far is durable (and the watermark after it written). */
  private written: Promise<void> = Promise.resolve();
  private writeFailureLogged = false;
  private emitTimer: NodeJS.Timeout | undefined;
  // Shared by every view's tracker (one closure each per stage, not per view).
  private readonly watermark = () => this.emittedBefore;
  private readonly countLate = (n: number) => {
    if (this.emitting) this.metrics.lateRecords.inc(n);
  };
  private closed = false;
  private emitOnSchedule = true;
  /**
   * Emission waits until the pipeline has applied the log's backlog (see
   * `startEmitting`); until then old data (the rebuild) is not "late" either.
   */
  private emitting = false;

  private constructor(
    private readonly config: MonitoringConfig,
    private readonly stateDir: string,
    private readonly minStallMs: number,
    registry: Registry,
    private readonly log: Log,
  ) {
    this.metrics = createMonitoringMetrics(registry);
    this.emittedBefore = this.readWatermark();
  }

  static async open(options: {
    config: MonitoringConfig;
    dataDir: string;
    minStallMs: number;
    registry: Registry;
    log: Log;
    /** Emit at each window's emission point on its own timer (default); tests driving the clock turn it off. */
    emitOnSchedule?: boolean;
  }): Promise<MonitoringStage> {
    const stage = new MonitoringStage(
      options.config,
      join(options.dataDir, 'monitoring'),
      options.minStallMs,
      options.registry,
      options.log,
    );
    const names = new Set<string>();
    try {
      for (const [i, sink] of options.config.sinks.entries()) {
        if (names.has(sink.name)) throw new Error(`monitoring.sinks: the name "${sink.name}" is used twice`);
        names.add(sink.name);
        stage.sinks.push({ config: sink, delivery: await stage.openSink(sink, `monitoring.sinks[${i}]`) });
      }
    } catch (err) {
      for (const s of stage.sinks) await s.delivery.close();
      throw err;
    }
    stage.emitOnSchedule = options.emitOnSchedule ?? true;
    if (!stage.emitOnSchedule) stage.emitting = true;
    return stage;
  }

  /** A sink is a destination on the delivery core: its module comes from the registry by `type`. */
  private openSink(sink: SinkConfig, key: string): Promise<Delivery> {
    const module = sinkModule(sink);
    return Delivery.open(module.create(sink, { key, env: process.env }), {
      label: `monitoring sink ${sink.name}`,
      nouns: ['payload', 'payloads'],
      dir: join(this.stateDir, 'queue', sink.name),
      bufferMaxBytes: sink.bufferMaxBytes,
      whenFull: sink.whenFull,
      retry: { initialBackoffMs: sink.retryInitialBackoffMs, maxBackoffMs: sink.retryMaxBackoffMs },
      limits: module.limits,
      // A payload is a whole window's samples of a partition: sent as soon as the destination is free.
      maxDelayMs: 0,
      deadLetters: new DeadLetterDir(
        join(this.stateDir, 'rejected', sink.name),
        sink.format === 'json' ? 'json' : 'pb',
      ),
      counters: sinkCounters(this.metrics, sink.name),
      log: this.log,
      previous: previousDiskQueue(join(this.stateDir, 'buffer', sink.name)),
    });
  }

  private readWatermark(): number {
    try {
      const file = readFileSync(join(this.stateDir, 'watermark.json'), 'utf8');
      return (JSON.parse(file) as { emittedBefore: number }).emittedBefore;
    } catch {
      return 0;
    }
  }

  private writeWatermark(emittedBefore: number): void {
    const tmp = join(this.stateDir, 'watermark.json.tmp');
    writeFileSync(tmp, JSON.stringify({ emittedBefore }));
    renameSync(tmp, join(this.stateDir, 'watermark.json'));
  }

  /**
   * Chains `step` after everything handed over so far. A payload that could not be made durable stops
   * the watermark where it is: the next start emits those windows again.
   */
  private afterWritten(step: Promise<unknown> | (() => void)): void {
    const next =
      typeof step === 'function' ? this.written.then(step) : Promise.all([this.written, step]).then(() => {});
    next.catch((err: unknown) => {
      if (this.writeFailureLogged || this.closed) return;
      this.writeFailureLogged = true;
      this.log.error(
        `monitoring: a payload could not be buffered (${(err as Error).message}); the watermark stays ` +
          'behind it until a restart emits those windows again',
      );
    });
    this.written = next;
  }

  /** Live and replayed events alike: the replay rebuilds the windows not yet emitted. */
  subscribe(events: PipelineEvents): void {
    events.on('viewCreated', ({ view }) => {
      const tracker = new WindowTracker(
        view,
        partitionOf(view.viewId, this.config.partitions),
        this.config.intervalMs,
        this.watermark,
        this.countLate,
      );
      view.machine.spans = tracker;
      this.trackers.add(tracker);
    });
    events.on('viewState', ({ view }) => this.observe(trackerOf(view)));
    events.on('viewFinal', ({ view }) => {
      const t = trackerOf(view);
      if (t) t.final = true;
    });
    events.on('batchApplied', ({ beacons }) => this.batch(beacons));
    events.on('tick', ({ nowMs }) => this.tick(nowMs));
  }

  /** Notices the first frame (it changes the view's state; its startup time is known then). */
  private observe(t: WindowTracker | undefined): void {
    const m = t?.view.machine;
    if (t && m?.started && !t.startReported) {
      const startup = m.metrics(false).videoStartupTimeMs;
      if (startup !== null) t.startedAt(m.firstFrameAtMs, startup);
      else t.startReported = true;
    }
  }

  private batch(applied: readonly AppliedBeacon[]): void | Promise<void> {
    for (const a of applied) {
      if (!a.view) continue;
      const t = trackerOf(a.view);
      if (!t) continue;
      // The playhead an exit before video start reports (usually 0).
      for (const item of a.items) {
        const f = item.facts as { videoTimeEndMs?: number; playheadMs?: number };
        const playhead = item.kind === 'segment' ? f.videoTimeEndMs : f.playheadMs;
        if (playhead !== undefined) t.lastPlayheadMs = playhead;
      }
      this.observe(t);
    }
    // A full buffer holds the pipeline: the log's backlog grows and the intake answers 429 once it is
    // full, rather than records being dropped. The batch was applied; only its commit waits.
    if (this.sinks.some((s) => s.delivery.queue.holding)) return this.waitForRoom();
  }

  /**
   * Resolves when no sink holds payloads in memory any more, or rejects after
   * a while so the pipeline offers the batch again later (and can stop meanwhile).
   */
  private async waitForRoom(): Promise<void> {
    const room = await Promise.all(this.sinks.map((s) => s.delivery.queue.untilRoom(1000)));
    if (room.includes(false))
      throw new Error('a monitoring sink buffer is full; the pipeline waits for it to drain');
    this.log.warn('monitoring: every sink buffer has room again; the pipeline resumes');
  }

  /**
   * Emission runs at each window's emission point (end + allowed lateness)
   * rather than only on the coarser lifecycle tick. It starts with
   * `startEmitting`, i.e. after the view model was rebuilt and the log's
   * backlog applied: emitting earlier would close windows still being filled.
   */
  private scheduleEmission(): void {
    if (this.emitTimer || this.closed || !this.emitOnSchedule) return;
    const { intervalMs, allowedLatenessMs } = this.config;
    const now = Date.now();
    const next = (Math.floor((now - allowedLatenessMs) / intervalMs) + 1) * intervalMs + allowedLatenessMs;
    const wait = Math.max(1, next - now);
    this.emitTimer = setTimeout(() => {
      this.emitTimer = undefined;
      this.tick(Date.now());
    }, wait);
    this.emitTimer.unref();
  }

  /**
   * Called once the pipeline caught up with the log after start: beacons
   * acknowledged before a crash but not yet applied belong to windows that
   * must not be closed before they are in.
   */
  startEmitting(): void {
    this.emitting = true;
    this.scheduleEmission();
  }

  tick(nowMs: number): void {
    if (!this.emitting) return;
    this.scheduleEmission();
    if (this.sinks.length === 0) {
      this.trackers.clear();
      return;
    }
    const interval = this.config.intervalMs;
    const until = Math.floor((nowMs - this.config.allowedLatenessMs) / interval) * interval;
    const due: Due[] = [];
    let windows = 0;
    let instants = 0;
    for (const t of this.trackers) {
      const m = t.view.machine;
      if (m.openStallMs >= this.minStallMs) t.creditOpenStall(m.openStallStartMs, m.openStallMs);
      if (
        m.isView &&
        !m.started &&
        !m.failed &&
        !m.businessException &&
        !t.ebvsReported &&
        nowMs - t.view.lastActivityMs >= this.config.ebvsDelayMs
      ) {
        t.ebvsReported = true;
        t.instant({
          kind: 'exit_before_video_start',
          atMs: m.lastTimeMs || m.playRequestedAtMs,
          valueMs: t.lastPlayheadMs,
        });
      }
      const records = t.takeWindows(until).flatMap((w) => windowRecord(w.start, interval, w) ?? []);
      windows += records.length;
      const instantRecords = t.takeInstants(until).map(instantRecord);
      instants += instantRecords.length;
      records.push(...instantRecords);
      if (records.length) due.push({ view: t.view, ebvs: t.ebvsReported, partition: t.partition, records });
      if (t.final && t.empty) this.trackers.delete(t);
    }
    const dueAtMs = until + this.config.allowedLatenessMs;
    if (due.length) this.buffer(due, dueAtMs);
    this.metrics.records.labels('window').inc(windows);
    this.metrics.records.labels('instant').inc(instants);
    if (until > this.emittedBefore) {
      this.emittedBefore = until;
      // Payloads still being written or waiting in memory are not durable: the recorded watermark follows them.
      this.afterWritten(() => this.writeWatermark(until));
    }
  }

  private buffer(due: Due[], dueAtMs: number): void {
    const byPartition = new Map<number, { sample: pb.Sample; records: number }[]>();
    for (const d of due) {
      const sample = sampleOf(d.view, d.records, d.ebvs);
      entry(byPartition, d.partition, () => []).push({ sample, records: d.records.length });
    }
    // Encoded once per format, whichever sinks share it.
    const encoded = new Map<StreamFormat, QueueRecord[]>();
    const payloads = (format: StreamFormat): QueueRecord[] =>
      [...byPartition].flatMap(([partition, samples]) => {
        const parts = samples.map((s) => ({ bytes: encodeSample(s.sample, format), records: s.records }));
        return packPayloads(String(partition), parts, format, this.config.maxPayloadBytes).map((p) => {
          const id = createHash('sha256').update(p.body).digest('hex').slice(0, 32);
          return { key: p.partitionKey, id, dueAtMs, payload: p.body };
        });
      });
    // Dropped (`drop`) or held in memory (`block`) when the sink's buffer is full: the core counts and logs.
    for (const { config, delivery } of this.sinks)
      this.afterWritten(delivery.offer(entry(encoded, config.format, () => payloads(config.format))));
  }

  /** Resolves once every payload emitted so far is durable in its sinks' queues (and the watermark written). */
  flushed(): Promise<void> {
    return this.written.catch(() => {});
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.emitTimer) clearTimeout(this.emitTimer);
    // A held batch may now commit: the recorded watermark stays behind the payloads that waited in
    // memory, so the next start rebuilds and emits them again.
    for (const s of this.sinks) await s.delivery.close();
    await this.flushed();
  }
}
