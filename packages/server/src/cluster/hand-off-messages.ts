/**
 * What pipeline workers and ingest nodes send the store writer over the
 * `<prefix>_STORE` stream (JSON, one kind per subject), and how a row batch
 * is cut to stay under the NATS message size.
 */
import type { AccessTokenRecord, Environment, RawBeaconRow, RejectedPayload } from '../store/store.js';
import type { ViewRow } from '../store/view-row.js';

/** A ledger row located in the beacon stream: `logPosition` is the stream sequence of its beacon. */
export interface PartitionedRow extends RawBeaconRow {
  partition: number;
}

export type HandOffMessage =
  | { kind: 'raw'; rows: PartitionedRow[] }
  | { kind: 'views'; rows: ViewRow[] }
  | { kind: 'rejected'; rows: RejectedPayload[] };

export interface RegistrySnapshot {
  environments: Environment[];
  accessTokens: AccessTokenRecord[];
}

/** Rows per message: ~300 bytes each stays well under the 1 MB default max_payload. */
export const ROWS_PER_MESSAGE = 1000;

/**
 * Cuts rows into chunks of at most `max`, never splitting the rows of one
 * beacon (same partition and position): the store writer's checkpoint per
 * partition assumes a beacon's rows arrive together.
 */
export function chunkRows(rows: readonly PartitionedRow[], max = ROWS_PER_MESSAGE): PartitionedRow[][] {
  const out: PartitionedRow[][] = [];
  let cur: PartitionedRow[] = [];
  for (const r of rows) {
    const prev = cur[cur.length - 1];
    const sameBeacon = prev && prev.partition === r.partition && prev.logPosition === r.logPosition;
    if (cur.length >= max && !sameBeacon) {
      out.push(cur);
      cur = [];
    }
    cur.push(r);
  }
  if (cur.length) out.push(cur);
  return out;
}
