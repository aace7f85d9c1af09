/**
 * The seam between the intake and the pipeline. `publish` resolves only once
 * the message is durable; consumers read in order from a position they keep
 * themselves and `ack` what they have durably processed, so the bus can drop
 * it. The embedded default is an fsync'd append-only log in the data dir.
 */
export interface BusRecord {
  /** Where the record starts; a consumer resumes from `next` after processing it. */
  position: number;
  next: number;
  payload: Buffer;
  /** The publisher's decoded value, when the record is delivered from memory (never after a restart). */
  value: unknown;
}

export type BatchHandler = (records: BusRecord[]) => Promise<void>;

export interface ConsumerHandle {
  /** Stops after the batch in progress, if any. */
  stop(): Promise<void>;
  /** Resolves when the consumer has caught up with every record durable at the time of the call. */
  caughtUp(): Promise<void>;
}

export interface BusStats {
  /** Bytes durable in the log. */
  endPosition: number;
  /** Bytes durable but not yet acknowledged by the slowest consumer. */
  backlogBytes: number;
  segments: number;
}

export interface Bus {
  /** Identity of this log; a consumer's saved position is only meaningful for the same id. */
  readonly id: string;
  /** Position of the oldest record still held. */
  readonly startPosition: number;
  publish(partitionKey: string, payload: readonly Buffer[], value?: unknown): Promise<void>;
  consume(name: string, from: number, handler: BatchHandler): ConsumerHandle;
  ack(name: string, position: number): void;
  /**
   * Reads the records in [from, to) still held (retention permitting), in
   * order, without a consumer: how the pipeline rebuilds its state on start.
   */
  read(from: number, to: number, onBatch: (records: BusRecord[]) => void | Promise<void>): Promise<void>;
  stats(): BusStats;
  close(): Promise<void>;
}

/** The backlog is over its bound: the intake answers 429 rather than buffer without limit. */
export class BusFullError extends Error {
  constructor(readonly backlogBytes: number) {
    super(`bus backlog ${backlogBytes} bytes is over its bound`);
    this.name = 'BusFullError';
  }
}

export class BusClosedError extends Error {
  constructor() {
    super('bus is closed');
    this.name = 'BusClosedError';
  }
}
