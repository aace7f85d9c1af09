/**
 * What a destination is, for the delivery core (delivery.ts): a module that
 * turns a batch of queued records into its payload and sends it, saying how
 * the destination answered. Buffering, batching, retries, dead letters, the
 * outage policy and the counters are the core's; a destination never sleeps
 * or counts (Kinesis's retry of a partly failed call, inside one send, is
 * the one exception: it is part of that API's contract).
 */

/** One unit of delivery: what the queue holds, byte for byte. */
export interface QueueRecord {
  /** Deterministic: a replay of the same record is recognised by it (and destinations may de-duplicate on it). */
  id: string;
  /** Partition key (Kinesis, the http sink's header); '' when there is none. */
  key: string;
  /** When the record was due (window end + lateness), for the acknowledgement lag; 0 when not measured. */
  dueAtMs: number;
  payload: Buffer;
}

export interface BatchLimits {
  /** Records per send. */
  maxEvents: number;
  /** Payload bytes per send (uncompressed). */
  maxBytes: number;
  /** Largest single record the destination takes; bigger ones are dropped (counted) when offered. */
  maxRecordBytes: number;
}

export type SendOutcome =
  | { ok: true }
  /** Try again later (429, 5xx, network, credentials a fix may cure); `accepted` records at the head were taken. */
  | { ok: false; kind: 'retry'; reason: string; message: string; retryAfterMs?: number; accepted?: number }
  /** Some records were refused for now (Firehose): retry those alone (indexes into the batch). */
  | { ok: false; kind: 'partial'; failed: number[]; message: string }
  /**
   * Refused for good. With `accepted`, the records before it were taken and the one at `accepted` is
   * refused; without, the batch as such is refused and the core splits it to find the record.
   */
  | { ok: false; kind: 'reject'; reason: string; message: string; accepted?: number; detail?: string };

export interface Destination {
  /** Sends one batch, in queue order. Never throws for destination or network trouble: it classifies it. */
  send(batch: readonly QueueRecord[], signal: AbortSignal): Promise<SendOutcome>;
  /**
   * How long to hold what is staged before the next send (a notification channel's rate limit):
   * the core waits, then takes everything staged by then into one batch. 0 or absent: send now.
   */
  holdMs?(): number;
  close?(): Promise<void>;
}

/**
 * A kind of destination, as a registry lists it under its config `type`:
 * its limits and how one is built from its config entry (`key` names the
 * entry in error messages, e.g. `connectors[2]`).
 */
export interface DestinationModule<C> {
  readonly limits: BatchLimits;
  create(config: C, context: { key: string; env: NodeJS.ProcessEnv }): Destination;
}
