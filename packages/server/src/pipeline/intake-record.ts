/**
 * What the intake puts on the bus for one accepted native beacon: a one-line
 * JSON header (environment, receive time, clock offset, client) then the
 * beacon's own text. The text is kept as received, so the log costs no
 * re-serialisation and holds each beacon exactly as it was sent.
 */
import type { Beacon } from '@openqoe/schema';

export interface IntakeMeta {
  /** Source kind; other sources (Mux protocol, CMCD) add their own. */
  kind: 'native';
  envId: string;
  receivedAtMs: number;
  clockOffsetMs: number;
  ip: string;
  userAgent: string;
}

export interface IntakeRecord {
  meta: IntakeMeta;
  beacon: Beacon;
}

const NEWLINE = Buffer.from('\n');

export function encodeIntakeRecord(meta: IntakeMeta, body: Buffer): Buffer[] {
  return [Buffer.from(JSON.stringify(meta)), NEWLINE, body];
}

export function decodeIntakeRecord(payload: Buffer): IntakeRecord {
  const nl = payload.indexOf(10);
  if (nl < 0) throw new Error('intake record has no header line');
  const meta = JSON.parse(payload.subarray(0, nl).toString('utf8')) as IntakeMeta;
  return { meta, beacon: JSON.parse(payload.subarray(nl + 1).toString('utf8')) as Beacon };
}
