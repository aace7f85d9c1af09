/**
 * The pipeline's first stage: reads accepted beacons from the bus, drops
 * (view, sequence) pairs already stored, and commits one raw row per beacon
 * and view together with the bus position, so a restart resumes exactly
 * where the store left off.
 */
import type { PlayerEvent, Sample } from '@openqoe/schema';
import type { Bus, BusRecord, ConsumerHandle } from '../bus/bus.js';
import type { Metrics } from '../observability/metrics.js';
import type { RawBeaconRow, RawStore } from '../store/store.js';
import { Dedupe } from './dedupe.js';
import { decodeIntakeRecord, type IntakeRecord } from './intake-record.js';

export const PIPELINE_CONSUMER = 'pipeline';

export interface IntakeConsumerOptions {
  dedupeRetentionMs: number;
  log?: { info(msg: string): void; warn(msg: string): void; error(msg: string): void };
}

interface ViewGroup {
  samples: Sample[];
  events: PlayerEvent[];
}

export class IntakeConsumer {
  readonly dedupe = new Dedupe();
  private handle: ConsumerHandle | undefined;
  private evictTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly bus: Bus,
    private readonly store: RawStore,
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
    await this.warmDedupe();
    this.handle = this.bus.consume(PIPELINE_CONSUMER, from, (records) => this.process(records));
    this.evictTimer = setInterval(
      () => this.dedupe.evict(Date.now() - this.options.dedupeRetentionMs),
      60_000,
    );
    this.evictTimer.unref();
  }

  /** Rebuilds de-duplication state from what the store holds for views that may still be retried. */
  private async warmDedupe(): Promise<void> {
    const ranges = await this.store.recentSequences(Date.now() - this.options.dedupeRetentionMs);
    for (const r of ranges) {
      const key = Dedupe.key(r.envId, r.viewId);
      if (r.body === null) this.dedupe.markRange(key, r.firstSeq, r.lastSeq, r.lastReceivedAtMs);
      else {
        const parsed = JSON.parse(r.body) as {
          samples?: { sequenceNumber: number }[];
          events?: { sequenceNumber: number }[];
        };
        for (const item of [...(parsed.samples ?? []), ...(parsed.events ?? [])]) {
          this.dedupe.mark(key, item.sequenceNumber, r.lastReceivedAtMs);
        }
      }
    }
    if (ranges.length) this.options.log?.info(`de-duplication warmed with ${this.dedupe.size} recent views`);
  }

  async process(records: BusRecord[]): Promise<void> {
    const rows: RawBeaconRow[] = [];
    let samples = 0;
    let events = 0;
    let duplicates = 0;
    for (const record of records) {
      const rec = (record.value as IntakeRecord | undefined) ?? decodeIntakeRecord(record.payload);
      const built = this.rowsFor(rec);
      rows.push(...built.rows);
      samples += built.samples;
      events += built.events;
      duplicates += built.duplicates;
    }
    const last = records[records.length - 1]!;
    const started = performance.now();
    try {
      await this.store.writeRaw(rows, {
        consumer: PIPELINE_CONSUMER,
        logId: this.bus.id,
        position: last.next,
      });
    } catch (err) {
      this.dedupe.abort();
      this.metrics.errors.labels('store').inc();
      throw err;
    }
    this.dedupe.commit(Date.now());
    this.metrics.storeWrite.observe((performance.now() - started) / 1000);
    this.bus.ack(PIPELINE_CONSUMER, last.next);
    this.metrics.pipelineSamples.inc(samples);
    this.metrics.pipelineEvents.inc(events);
    if (duplicates) this.metrics.pipelineDuplicates.inc(duplicates);
  }

  private rowsFor(rec: IntakeRecord): {
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
    // The beacon's own text is stored when nothing was split off or dropped; otherwise the kept part.
    const verbatim = duplicates === 0 && groups.size === 1;
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
        ip: meta.ip,
        userAgent: meta.userAgent,
        body: verbatim ? rec.text : JSON.stringify({ samples: g.samples, events: g.events }),
      });
      samples += g.samples.length;
      events += g.events.length;
    }
    return { rows, samples, events, duplicates };
  }

  caughtUp(): Promise<void> {
    return this.handle?.caughtUp() ?? Promise.resolve();
  }

  async stop(): Promise<void> {
    if (this.evictTimer) clearInterval(this.evictTimer);
    await this.handle?.stop();
  }
}
