/**
 * The bus on NATS JetStream, for the scale-out roles (docs/deploy.md).
 *
 * One stream `<prefix>_BEACONS` holds subjects `<prefix>.beacons.<p>`; the
 * ingest side computes `p` from the view id (bus/partitions.ts) and answers
 * the beacon only once JetStream acknowledged it. A beacon that carries
 * several views is split so that every view's data lands in its own
 * partition.
 *
 * A pipeline worker owns a list of partitions, each read through a durable
 * pull consumer (one per partition: a single filter subject works on every
 * JetStream version, several per consumer need 2.10). The worker's pipeline
 * sees one ordered sequence of records, so positions here are the worker's
 * own: records older than the consumers' ack floors (what the store already
 * has) are numbered from 0 for the rebuild, records delivered live from
 * LIVE_START. `ack(position)` acknowledges, per partition, the last message
 * below it (ack policy "all"); JetStream redelivers the rest after a crash.
 */
import {
  AckPolicy,
  connect,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type NatsConnection,
  nanos,
  RetentionPolicy,
  StorageType,
} from 'nats';
import type { BatchHandler, Bus, BusRecord, BusStats, ConsumerHandle } from '../bus.js';
import { BusClosedError } from '../bus.js';
import type { IntakeRecord } from '../intake-record.js';
import { encodeIntakeRecord } from '../intake-record.js';
import { beaconStream, beaconSubject, partitionOf, storeStream, storeSubject } from '../partitions.js';
import { Wakeup } from '../wakeup.js';

/** Where live positions start: far above any rebuild, below 2^53. */
export const LIVE_START = 2 ** 50;
const FETCH_MAX = 512;
const FETCH_EXPIRES_MS = 1000;
/** Records fetched but not yet handed to the pipeline, beyond which fetching waits. */
const MAX_QUEUED = 4096;

export interface NatsBusOptions {
  servers: string;
  prefix: string;
  partitions: number;
  beaconRetentionMs: number;
  storeRetentionMs: number;
  /** Process name shown by the NATS server. */
  name: string;
  onError?: (err: Error, context: string) => void;
}

export async function connectNats(options: NatsBusOptions): Promise<NatsConnection> {
  return connect({
    servers: options.servers.split(',').map((s) => s.trim().replace(/^nats:\/\//, '')),
    name: options.name,
    maxReconnectAttempts: -1,
  });
}

/** Creates the two streams if missing (every role calls it; creating twice is harmless). */
export async function ensureStreams(jsm: JetStreamManager, o: NatsBusOptions): Promise<void> {
  const want = [
    {
      name: beaconStream(o.prefix),
      subjects: [beaconSubject(o.prefix, 0).replace(/0$/, '*')],
      maxAge: o.beaconRetentionMs,
    },
    { name: storeStream(o.prefix), subjects: [storeSubject(o.prefix, '*')], maxAge: o.storeRetentionMs },
  ];
  for (const s of want) {
    try {
      await jsm.streams.info(s.name);
    } catch {
      try {
        await jsm.streams.add({
          name: s.name,
          subjects: s.subjects,
          retention: RetentionPolicy.Limits,
          storage: StorageType.File,
          max_age: nanos(s.maxAge),
        });
      } catch (err) {
        // Another node created it meanwhile.
        await jsm.streams.info(s.name).catch(() => {
          throw err;
        });
      }
    }
  }
}

/** Splits a beacon by partition so every view's data goes to the worker owning that view. */
export function splitByPartition(
  value: IntakeRecord,
  partitions: number,
): { partition: number; record: IntakeRecord }[] {
  const byPartition = new Map<number, IntakeRecord>();
  const slot = (viewId: string) => {
    const p = partitionOf(viewId, partitions);
    let r = byPartition.get(p);
    if (!r) {
      r = { meta: value.meta, beacon: { ...value.beacon, samples: [], events: [] } };
      byPartition.set(p, r);
    }
    return r.beacon;
  };
  for (const s of value.beacon.samples) slot(s.viewId).samples.push(s);
  for (const e of value.beacon.events) slot(e.viewId).events.push(e);
  return [...byPartition].map(([partition, record]) => ({ partition, record }));
}

/** Header room left in a message besides the payload. */
const HEADROOM_BYTES = 4096;

/**
 * Cuts a record whose encoding exceeds the server's largest message into
 * halves until each fits (de-duplication is per item, so the pieces add up
 * to the beacon). A single item too large for a message is an error.
 */
export function fitRecord(record: IntakeRecord, maxBytes: number): Buffer[] {
  const body = Buffer.concat(encodeIntakeRecord(record.meta, Buffer.from(JSON.stringify(record.beacon))));
  const { samples, events } = record.beacon;
  if (body.length <= maxBytes) return [body];
  if (samples.length + events.length <= 1)
    throw new Error(`one item of ${body.length} bytes is larger than the bus allows (${maxBytes})`);
  const a = Math.ceil(samples.length / 2);
  const b = Math.ceil(events.length / 2);
  const half = (s: typeof samples, e: typeof events): IntakeRecord => ({
    meta: record.meta,
    beacon: { ...record.beacon, samples: s, events: e },
  });
  return [
    ...fitRecord(half(samples.slice(0, a), events.slice(0, b)), maxBytes),
    ...fitRecord(half(samples.slice(a), events.slice(b)), maxBytes),
  ];
}

/**
 * The publishing side (ingest, and the stats every role reports). Reading
 * is for workers: see NatsWorkerBus.
 */
export class NatsIngestBus implements Bus {
  readonly id: string;
  readonly startPosition = 0;
  private published = 0;
  private inFlight = 0;
  private closed = false;

  constructor(
    private readonly js: JetStreamClient,
    private readonly options: NatsBusOptions,
    /** The server's largest message (its `max_payload`). */
    private readonly maxPayload: number,
  ) {
    this.id = `nats:${beaconStream(options.prefix)}`;
  }

  async publish(partitionKey: string, payload: readonly Buffer[], value?: unknown): Promise<void> {
    if (this.closed) throw new BusClosedError();
    const { prefix, partitions } = this.options;
    // Native beacons are split by view; any other record goes whole to its key's partition.
    const native = (value as IntakeRecord | undefined)?.meta?.kind === 'native';
    const parts = native
      ? splitByPartition(value as IntakeRecord, partitions)
      : [{ partition: partitionOf(partitionKey, partitions), record: undefined }];
    const maxBytes = this.maxPayload - HEADROOM_BYTES;
    this.inFlight++;
    try {
      await Promise.all(
        parts.flatMap(({ partition, record }) => {
          // One view that fits (the usual case) keeps the beacon's text as received.
          const whole = parts.length === 1 ? Buffer.concat(payload as Buffer[]) : undefined;
          const bodies =
            whole && whole.length <= maxBytes ? [whole] : record ? fitRecord(record, maxBytes) : [whole!];
          return bodies.map((body) =>
            this.js.publish(beaconSubject(prefix, partition), body, { timeout: 10_000 }),
          );
        }),
      );
      this.published++;
    } finally {
      this.inFlight--;
    }
  }

  consume(): ConsumerHandle {
    throw new Error('the ingest side of the NATS bus does not consume; run a pipeline worker');
  }

  ack(): void {}

  async read(): Promise<void> {}

  /** Makes `stats().backlogBytes` report another backlog (the api node's store writer). */
  reportBacklog(backlog: () => number): void {
    this.backlog = backlog;
  }

  private backlog = () => this.inFlight;

  /** `backlogBytes` counts publishes in flight (or what `reportBacklog` names). */
  stats(): BusStats {
    return { endPosition: this.published, backlogBytes: this.backlog(), segments: 0 };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

interface Delivered {
  position: number;
  msg: JsMsg;
}

interface PartitionState {
  partition: number;
  durable: string;
  /** Stream sequence of the last message handed on: a redelivery at or below it is dropped. */
  lastSeq: number;
  /** Handed on, not yet acknowledged, in position order. */
  unacked: Delivered[];
  pending: number;
}

/** The consuming side: one durable consumer per owned partition, merged into one ordered feed. */
export class NatsWorkerBus implements Bus {
  readonly id: string;
  readonly startPosition = 0;
  private readonly states: PartitionState[];
  /** Where each position came from (live and rebuilt), until acknowledged. */
  private readonly origin = new Map<number, { partition: number; seq: number }>();
  private nextPosition = LIVE_START;
  private queue: BusRecord[] = [];
  private readonly wakeProcessor = new Wakeup();
  private wakeFetchers: (() => void)[] = [];
  private stopFetchers: (() => void)[] = [];
  private handling = false;
  private running = false;
  private loops: Promise<void>[] = [];
  private statsTimer: NodeJS.Timeout | undefined;
  private backlog = 0;

  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly options: NatsBusOptions & { own: number[]; rebuildWindowMs: number },
  ) {
    this.id = `nats:${beaconStream(options.prefix)}:${options.own.join(',')}`;
    this.states = options.own.map((partition) => ({
      partition,
      durable: `${options.prefix}_pipeline_p${partition}`,
      lastSeq: 0,
      unacked: [],
      pending: 0,
    }));
  }

  /**
   * Creates the durable consumers and learns where each stands. Messages a
   * previous process of this worker received and never acknowledged would
   * only come back after `ack_wait`, behind newer ones; so such a consumer
   * is recreated to deliver again, in order, from just after what was
   * acknowledged (this worker owns its partitions alone, so nobody else reads
   * them meanwhile).
   */
  async open(): Promise<{ partition: number; unacknowledged: number }[]> {
    const stream = beaconStream(this.options.prefix);
    const redelivered: { partition: number; unacknowledged: number }[] = [];
    for (const s of this.states) {
      const filter = beaconSubject(this.options.prefix, s.partition);
      const create = (floor: number) =>
        this.jsm.consumers.add(stream, {
          durable_name: s.durable,
          filter_subject: filter,
          ack_policy: AckPolicy.All,
          ...(floor > 0
            ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: floor + 1 }
            : { deliver_policy: DeliverPolicy.All }),
          // Commits come every pipeline.commitIntervalMs; redelivery is only for a commit this slow.
          ack_wait: nanos(120_000),
          max_ack_pending: 100_000,
        });
      const info = await this.jsm.consumers.info(stream, s.durable).catch(() => undefined);
      if (!info) {
        await create(0);
        s.lastSeq = 0;
        continue;
      }
      // A consumer created at a start sequence reports an ack floor of 0 until its first ack.
      const floor = Math.max(info.ack_floor.stream_seq, (info.config.opt_start_seq ?? 1) - 1);
      if (info.delivered.stream_seq > floor || info.num_ack_pending > 0) {
        await this.jsm.consumers.delete(stream, s.durable);
        await create(floor);
        redelivered.push({ partition: s.partition, unacknowledged: info.num_ack_pending });
      }
      s.lastSeq = floor;
    }
    this.statsTimer = setInterval(() => void this.refreshStats(), 500);
    this.statsTimer.unref();
    await this.refreshStats();
    return redelivered;
  }

  /** Where this stream sequence came from, for positions handed out and not yet acknowledged. */
  locate(position: number): { partition: number; seq: number } | undefined {
    return this.origin.get(position);
  }

  async publish(): Promise<void> {
    throw new Error('a pipeline worker does not publish beacons');
  }

  /**
   * Reads back, per partition, what the store already has (up to the ack
   * floor), from `rebuildWindowMs` ago: the pipeline rebuilds its views
   * and de-duplication from it. `from`/`to` are ignored: the rebuild range
   * is exactly that history.
   */
  async read(
    _from: number,
    _to: number,
    onBatch: (records: BusRecord[]) => void | Promise<void>,
  ): Promise<void> {
    const stream = beaconStream(this.options.prefix);
    let position = 0;
    const startTime = new Date(Date.now() - this.options.rebuildWindowMs - 60_000).toISOString();
    for (const s of this.states) {
      if (s.lastSeq === 0) continue;
      // An ordered consumer notices a missed message and starts again from it, so the history is whole.
      const consumer = await this.js.consumers.get(stream, {
        filterSubjects: beaconSubject(this.options.prefix, s.partition),
        opt_start_time: startTime,
      });
      let done = false;
      while (!done) {
        const batch: BusRecord[] = [];
        const msgs = await consumer.fetch({ max_messages: FETCH_MAX, expires: FETCH_EXPIRES_MS });
        for await (const m of msgs) {
          if (m.seq > s.lastSeq) {
            done = true;
            break;
          }
          batch.push({ position, next: position + 1, payload: Buffer.from(m.data), value: undefined });
          position++;
          if (m.seq === s.lastSeq) done = true;
        }
        if (batch.length === 0) done = true;
        else await onBatch(batch);
      }
      await consumer.delete().catch(() => {});
    }
  }

  consume(_name: string, _from: number, handler: BatchHandler): ConsumerHandle {
    this.running = true;
    const stream = beaconStream(this.options.prefix);
    for (const s of this.states) this.loops.push(this.fetchLoop(stream, s));
    const processor = this.processLoop(handler);
    return {
      stop: async () => {
        this.running = false;
        this.wakeProcessor.notify();
        for (const w of this.wakeFetchers.splice(0)) w();
        for (const f of this.stopFetchers.splice(0)) f();
        await Promise.all(this.loops);
        await processor;
      },
      caughtUp: () => this.caughtUp(),
    };
  }

  private async fetchLoop(stream: string, s: PartitionState): Promise<void> {
    while (this.running) {
      try {
        const consumer = await this.js.consumers.get(stream, s.durable);
        // One long-lived pull: its inbox stays open, so nothing delivered is dropped between pulls.
        const msgs = await consumer.consume({ max_messages: FETCH_MAX });
        this.stopFetchers.push(() => msgs.stop());
        for await (const m of msgs) {
          s.pending = m.info.pending;
          // A redelivery of something already handed on (its commit is slow): the pipeline has it.
          if (m.seq <= s.lastSeq) continue;
          s.lastSeq = m.seq;
          const position = this.nextPosition++;
          s.unacked.push({ position, msg: m });
          this.origin.set(position, { partition: s.partition, seq: m.seq });
          this.queue.push({ position, next: position + 1, payload: Buffer.from(m.data), value: undefined });
          this.wakeProcessor.notify();
          // Backpressure: stop taking messages while the pipeline is behind (JetStream holds them).
          while (this.running && this.queue.length >= MAX_QUEUED)
            await new Promise<void>((r) => this.wakeFetchers.push(r));
          if (!this.running) break;
        }
      } catch (err) {
        if (!this.running) return;
        // The server is away or restarting: try again shortly.
        this.options.onError?.(err as Error, `consume from partition ${s.partition}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  private async processLoop(handler: BatchHandler): Promise<void> {
    while (this.running || this.queue.length > 0) {
      if (this.queue.length === 0) {
        if (!this.running) break;
        await this.wakeProcessor.wait();
        continue;
      }
      // The queue holds records of several partitions in the order they arrived; positions rise.
      const records = this.queue.splice(0, FETCH_MAX);
      for (const w of this.wakeFetchers.splice(0)) w();
      this.handling = true;
      for (;;) {
        try {
          await handler(records);
          break;
        } catch (err) {
          // The pipeline could not take it (store hand-off refused): offer it again.
          this.options.onError?.(err as Error, 'pipeline batch');
          await new Promise((r) => setTimeout(r, 500));
        }
      }
      this.handling = false;
    }
  }

  ack(_name: string, position: number): void {
    for (const s of this.states) {
      let last: Delivered | undefined;
      let n = 0;
      while (n < s.unacked.length && s.unacked[n]!.position < position) last = s.unacked[n++];
      if (!last) continue;
      last.msg.ack();
      for (const d of s.unacked.splice(0, n)) this.origin.delete(d.position);
    }
  }

  private async caughtUp(): Promise<void> {
    for (;;) {
      await this.refreshStats();
      const idle = this.queue.length === 0 && !this.handling;
      if (idle && this.states.every((s) => s.pending === 0)) return;
      if (!this.running) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private async refreshStats(): Promise<void> {
    const stream = beaconStream(this.options.prefix);
    let backlog = 0;
    for (const s of this.states) {
      try {
        const info = await this.jsm.consumers.info(stream, s.durable);
        s.pending = info.num_pending;
        backlog += info.num_pending + info.num_ack_pending;
      } catch {
        // Keep the last known value while the server is away.
        backlog += s.pending + s.unacked.length;
      }
    }
    this.backlog = backlog;
  }

  /** `backlogBytes` counts messages here: published to owned partitions and not yet acknowledged. */
  stats(): BusStats {
    return { endPosition: this.nextPosition - LIVE_START, backlogBytes: this.backlog, segments: 0 };
  }

  async close(): Promise<void> {
    this.running = false;
    if (this.statsTimer) clearInterval(this.statsTimer);
  }
}
