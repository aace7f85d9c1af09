/**
 * The shape every destination module has: its batching limits, a request
 * builder (pure: envelopes in, the exact request out, so tests can compare it
 * with the vendor's documented examples) and a sender that classifies the
 * answer. The delivery loop owns batching, retries and counters.
 */

export interface BatchLimits {
  /** Records per request. */
  maxEvents: number;
  /** Uncompressed bytes of records per request. */
  maxBytes: number;
  /** Largest single record the destination takes; bigger ones are dropped (counted) on append. */
  maxRecordBytes: number;
}

export type SendOutcome =
  | { ok: true }
  /** Some records were refused (Firehose): retry those (indexes into the batch). */
  | { ok: false; kind: 'partial'; failed: number[]; message: string }
  /** Try again later (429, 5xx, network, auth that a config fix may cure). */
  | { ok: false; kind: 'retry'; message: string; reason: string; retryAfterMs?: number }
  /** The destination refuses this batch as such (400, 413): split it, or give up on a single record. */
  | { ok: false; kind: 'reject'; message: string; reason: string };

export interface Destination {
  readonly limits: BatchLimits;
  /** Sends one batch of envelope JSON texts. Never throws for destination or network trouble. */
  send(records: readonly string[], signal: AbortSignal): Promise<SendOutcome>;
  close?(): Promise<void>;
}

export interface HttpRequest {
  url: string;
  headers: Record<string, string>;
  body: Buffer;
}
