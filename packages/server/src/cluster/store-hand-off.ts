/**
 * The store as seen from a node that does not own it (ingest, pipeline):
 * writes go over NATS JetStream to the store writer (the api role), each
 * resolving once JetStream acknowledged it, so the pipeline acknowledges
 * the beacon stream only after its rows are durable on the way to the store.
 * Environments and tokens are read from the store writer by request.
 * Works the same whichever store the api role runs.
 */
import type { JetStreamClient, NatsConnection } from 'nats';
import { beaconStream, registrySubject, storeSubject } from '../bus/partitions.js';
import { DUCKDB_DIALECT } from '../store/sql-dialect.js';
import type {
  AccessTokenRecord,
  ConsumerCheckpoint,
  Environment,
  RawBeaconRow,
  ReadValue,
  RejectedPayload,
  Store,
} from '../store/store.js';
import type { ViewRow } from '../store/view-row.js';
import {
  chunkRows,
  type HandOffMessage,
  type PartitionedRow,
  type RegistrySnapshot,
} from './hand-off-messages.js';

export interface HandOffOptions {
  prefix: string;
  /** Pipeline workers: maps a bus position to its partition and stream sequence. */
  locate?: (position: number) => { partition: number; seq: number } | undefined;
  /** Pipeline workers: where the pipeline resumes (the bus's own numbering). */
  resumeFrom?: { logId: string; position: number };
  maxPayload: number;
}

async function managedByTheApiRole(): Promise<never> {
  throw new Error('environments and tokens are managed through the api role');
}

export class StoreHandOff implements Store {
  /** Never used for queries here (select refuses); required by the interface. */
  readonly dialect = DUCKDB_DIALECT;
  private registry: RegistrySnapshot | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly options: HandOffOptions,
  ) {}

  /** Publishes in order, halving a message that is over the server's size limit. */
  private async send(message: HandOffMessage): Promise<void> {
    const data = Buffer.from(JSON.stringify(message));
    const rows = message.rows as unknown[];
    if (data.length > this.options.maxPayload - 4096 && rows.length > 1) {
      const mid = Math.ceil(rows.length / 2);
      await this.send({ ...message, rows: rows.slice(0, mid) } as HandOffMessage);
      await this.send({ ...message, rows: rows.slice(mid) } as HandOffMessage);
      return;
    }
    await this.js.publish(storeSubject(this.options.prefix, message.kind), data, { timeout: 10_000 });
  }

  async writeRaw(rows: readonly RawBeaconRow[], _checkpoint: ConsumerCheckpoint): Promise<void> {
    const locate = this.options.locate;
    if (!locate) throw new Error('only a pipeline worker writes ledger rows');
    const located: PartitionedRow[] = rows.map((r) => {
      const at = locate(r.logPosition);
      if (!at) throw new Error(`no stream position for bus position ${r.logPosition}`);
      // The rows' log id is the beacon stream's name.
      return { ...r, partition: at.partition, logId: beaconStream(this.options.prefix), logPosition: at.seq };
    });
    // In order: the store writer's per-partition checkpoint relies on it.
    for (const chunk of chunkRows(located)) await this.send({ kind: 'raw', rows: chunk });
  }

  async readCheckpoint(consumer: string): Promise<ConsumerCheckpoint | undefined> {
    const r = this.options.resumeFrom;
    return r ? { consumer, ...r } : undefined;
  }

  async lastLoggedPosition(): Promise<number | undefined> {
    return undefined;
  }

  insertRejected(rows: readonly RejectedPayload[]): Promise<void> {
    return this.send({ kind: 'rejected', rows: [...rows] });
  }

  async upsertViews(rows: readonly ViewRow[]): Promise<void> {
    if (rows.length) await this.send({ kind: 'views', rows: [...rows] });
  }

  /** Asks the store writer for environments and tokens (waits until one answers). */
  async fetchRegistry(): Promise<RegistrySnapshot> {
    const m = await this.nc.request(registrySubject(this.options.prefix), '', { timeout: 5_000 });
    this.registry = m.json<RegistrySnapshot>();
    return this.registry;
  }

  async listEnvironments(): Promise<Environment[]> {
    return (this.registry ?? (await this.fetchRegistry())).environments;
  }

  async listAccessTokens(): Promise<AccessTokenRecord[]> {
    return (this.registry ?? (await this.fetchRegistry())).accessTokens;
  }

  readonly insertEnvironment = managedByTheApiRole;
  readonly deleteEnvironment = managedByTheApiRole;
  readonly insertAccessToken = managedByTheApiRole;
  readonly deleteAccessToken = managedByTheApiRole;

  async select(): Promise<Record<string, ReadValue>[]> {
    throw new Error('queries are answered by the api role');
  }

  async close(): Promise<void> {}
}
