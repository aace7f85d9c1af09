/**
 * What the intake puts on the bus for one accepted native beacon: a one-line
 * JSON header (environment, receive time, clock offset, client) then the
 * beacon's own text. The text is kept as received, so the log costs no
 * re-serialisation and holds each beacon exactly as it was sent.
 *
 * The drop-in intakes (Mux protocol, CMCD) put one record per view: the
 * same header, then that view's decoded events or reports as JSON
 * (`CompatBatch`), so the bus partitions them by view like native beacons.
 */
import type { Beacon } from '@openqoe/schema';

export interface IntakeMeta {
  /** Source kind: the native beacon, or a drop-in intake's batch. */
  kind: 'native' | 'mux' | 'cmcd';
  envId: string;
  receivedAtMs: number;
  clockOffsetMs: number;
  /** An admin's backfill: the device clock is trusted (offset 0, no clock bounds; intake/native/backfill.ts). */
  backfill?: true;
  ip: string;
  userAgent: string;
}

export interface IntakeRecord {
  meta: IntakeMeta;
  beacon: Beacon;
}

/** A scalar value of a decoded Mux event or CMCD report. */
export type CompatValue = string | number | boolean;

/** One view's events from one Mux-protocol POST, keys expanded (`view_id`, not `xid`). */
export interface MuxBatch {
  format: 'mux';
  viewId: string;
  events: Record<string, CompatValue>[];
}

/** One CMCD report as the reference decoder gives it: keys as in CTA-5004, lists for inner lists. */
export type CmcdReport = Record<string, CompatValue | CompatValue[]>;

/** One session's CMCD reports from one POST (or import), as the reference decoder gives them. */
export interface CmcdBatch {
  format: 'cmcd';
  viewId: string;
  reports: CmcdReport[];
}

export type CompatBatch = MuxBatch | CmcdBatch;

export interface CompatRecord {
  meta: IntakeMeta;
  compat: CompatBatch;
}

const NEWLINE = Buffer.from('\n');

export function encodeIntakeRecord(meta: IntakeMeta, body: Buffer): Buffer[] {
  return [Buffer.from(JSON.stringify(meta)), NEWLINE, body];
}

export function decodeIntakeRecord(payload: Buffer): IntakeRecord | CompatRecord {
  const nl = payload.indexOf(10);
  if (nl < 0) throw new Error('intake record has no header line');
  const meta = JSON.parse(payload.subarray(0, nl).toString('utf8')) as IntakeMeta;
  const body: unknown = JSON.parse(payload.subarray(nl + 1).toString('utf8'));
  if (meta.kind === 'native') return { meta, beacon: body as Beacon };
  return { meta, compat: body as CompatBatch };
}
