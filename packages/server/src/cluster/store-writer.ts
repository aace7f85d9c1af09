/**
 * The store's single owner in a NATS deployment (the api role): reads the
 * `<prefix>_STORE` stream through one durable consumer, in order, and writes
 * ledger rows, views and refused payloads to whichever store this process
 * runs. It also answers the other nodes' requests for environments and tokens.
 *
 * Ledger rows arrive at least once (a worker that crashed after handing
 * rows over and before acknowledging its beacons hands them over again): the
 * store keeps, per partition, the stream sequence after the last beacon it
 * holds (a consumer checkpoint `<stream>:p<N>`, written in the same
 * transaction as the rows), and rows below it are dropped. Views are upserts
 * by id, so a repeat only writes the same row again.
 */
import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type NatsConnection,
  nanos,
  type Subscription,
} from 'nats';
import type { Registry } from '../auth/registry.js';
import { registrySubject, storeStream } from '../bus/partitions.js';
import { Wakeup } from '../bus/wakeup.js';
import { entry } from '../pipeline/realtime/map-entry.js';
import { retryDelayMs } from '../pipeline/view-write-queue.js';
import type { RejectedPayload, Store } from '../store/store.js';
import type { ViewRow } from '../store/view-row.js';
import type { HandOffMessage, PartitionedRow, RegistrySnapshot } from './hand-off-messages.js';

const FETCH_MAX = 256;
/** Messages taken from the stream and not yet written, beyond which taking waits. */
const MAX_QUEUED = 2048;

export interface StoreWriterOptions {
  prefix: string;
  log: { warn(m: string): void; error(m: string): void };
  onWritten?: (kind: HandOffMessage['kind'], rows: number) => void;
  /** The store refused a write (`failures` in a row; it is retried), or took one again (0). */
  onFailures?: (failures: number) => void;
  /** Least time between two writes: what arrives meanwhile goes in the next one. */
  minWriteIntervalMs?: number;
}

export class StoreWriter {
  private running = false;
  private loop: Promise<void> | undefined;
  private sub: Subscription | undefined;
  /** Per partition: the stream sequence after the last beacon whose rows the store holds. */
  private readonly checkpoints = new Map<number, number>();
  private pending = 0;
  private handling = false;
  private readonly durable: string;
  private readonly queue: JsMsg[] = [];
  private lastWriteMs = 0;
  private readonly wake = new Wakeup();
  private stopConsume: (() => void) | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly store: Store,
    private readonly registry: Registry,
    private readonly options: StoreWriterOptions,
  ) {
    this.durable = `${options.prefix}_store_writer`;
  }

  private consumerName(partition: number): string {
    return `${storeStream(this.options.prefix)}:p${partition}`;
  }

  async start(): Promise<void> {
    const stream = storeStream(this.options.prefix);
    try {
      await this.jsm.consumers.info(stream, this.durable);
    } catch {
      await this.jsm.consumers.add(stream, {
        durable_name: this.durable,
        ack_policy: AckPolicy.All,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(120_000),
        max_ack_pending: 100_000,
      });
    }
    this.sub = this.nc.subscribe(registrySubject(this.options.prefix), {
      callback: (err, msg) => {
        if (err) return;
        const snapshot: RegistrySnapshot = {
          environments: this.registry.environments(),
          accessTokens: this.registry.tokenRecords(),
        };
        msg.respond(JSON.stringify(snapshot));
      },
    });
    this.running = true;
    this.loop = this.run(stream);
  }

  private async run(stream: string): Promise<void> {
    // A long-lived pull feeds a queue; the writer takes everything queued in one go (one store
    // transaction per kind), so under load one write carries many workers' batches.
    let lastSeq = 0;
    const writing = this.writeLoop();
    while (this.running) {
      try {
        const consumer = await this.js.consumers.get(stream, this.durable);
        const msgs = await consumer.consume({ max_messages: FETCH_MAX });
        this.stopConsume = () => msgs.stop();
        for await (const m of msgs) {
          this.pending = m.info.pending;
          // Redelivered after a slow write: already queued or stored.
          if (m.seq <= lastSeq) continue;
          lastSeq = m.seq;
          this.queue.push(m);
          this.wake.notify();
          while (this.running && this.queue.length >= MAX_QUEUED) await new Promise((r) => setTimeout(r, 20));
          if (!this.running) break;
        }
      } catch (err) {
        if (!this.running) break;
        this.options.log.error(`store writer: ${(err as Error).message}; reconnecting`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    this.wake.notify();
    await writing;
  }

  private async writeLoop(): Promise<void> {
    while (this.running || this.queue.length > 0) {
      if (this.queue.length === 0) {
        if (!this.running) break;
        await this.wake.wait();
        continue;
      }
      const wait = (this.options.minWriteIntervalMs ?? 0) - (performance.now() - this.lastWriteMs);
      if (wait > 1 && this.running) await new Promise((r) => setTimeout(r, wait));
      this.lastWriteMs = performance.now();
      const batch = this.queue.splice(0, MAX_QUEUED);
      this.handling = true;
      for (let failures = 0; ; ) {
        try {
          await this.write(batch.map((m) => m.json<HandOffMessage>()));
          // Ack policy "all": the last one acknowledges the batch.
          batch[batch.length - 1]!.ack();
          if (failures) this.options.onFailures?.(0);
          break;
        } catch (err) {
          // The store refused (full disk, …): the batch stays, unacknowledged, and is tried again.
          this.options.onFailures?.(++failures);
          this.options.log.error(
            `store writer: ${(err as Error).message}; retrying in ${retryDelayMs(failures)} ms`,
          );
          await new Promise((r) => setTimeout(r, retryDelayMs(failures)));
        }
      }
      this.handling = false;
    }
  }

  private async checkpoint(partition: number): Promise<number> {
    let c = this.checkpoints.get(partition);
    if (c === undefined) {
      c = (await this.store.readCheckpoint(this.consumerName(partition)))?.position ?? 0;
      this.checkpoints.set(partition, c);
    }
    return c;
  }

  private async write(messages: HandOffMessage[]): Promise<void> {
    const raw = new Map<number, PartitionedRow[]>();
    const views: ViewRow[] = [];
    const rejected: RejectedPayload[] = [];
    for (const m of messages) {
      if (m.kind === 'raw') {
        for (const r of m.rows) entry(raw, r.partition, () => [] as PartitionedRow[]).push(r);
      } else if (m.kind === 'views') views.push(...m.rows);
      else rejected.push(...m.rows);
    }
    for (const [partition, rows] of raw) {
      const from = await this.checkpoint(partition);
      // Past the stored position, and once each: a worker that handed a beacon over again may have
      // both copies land in the same write.
      const seen = new Set<string>();
      const fresh = rows.filter((r) => {
        const key = `${r.logPosition}\u0000${r.envId}\u0000${r.viewId}\u0000${r.firstSeq}`;
        if (r.logPosition < from || seen.has(key)) return false;
        seen.add(key);
        return true;
      });
      if (fresh.length === 0) continue;
      const next = Math.max(...fresh.map((r) => r.logPosition)) + 1;
      await this.store.writeRaw(
        fresh.map(({ partition: _p, ...row }) => row),
        { consumer: this.consumerName(partition), logId: fresh[0]!.logId, position: next },
      );
      this.checkpoints.set(partition, next);
      this.options.onWritten?.('raw', fresh.length);
    }
    // Views after the ledger rows of the same batch, in the order they were sent (the store keeps the last).
    if (views.length) {
      await this.store.upsertViews(views);
      this.options.onWritten?.('views', views.length);
    }
    if (rejected.length) {
      await this.store.insertRejected(rejected);
      this.options.onWritten?.('rejected', rejected.length);
    }
  }

  /** Rows handed over and not yet written (messages), for /healthz. */
  backlog(): number {
    return this.pending + this.queue.length + (this.handling ? 1 : 0);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.sub?.unsubscribe();
    this.stopConsume?.();
    this.wake.notify();
    await this.loop;
  }
}
