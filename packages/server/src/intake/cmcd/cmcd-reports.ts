/**
 * CMCD reports from a request, decoded with the reference library
 * (`@svta/cml-cmcd`): event-mode bodies (one report per line), the `CMCD=`
 * query parameter and the `CMCD-*` headers of request mode. Validated here
 * for what the pipeline relies on (`sid`, `sn`, `ts`), grouped by session.
 */
import { BEACON_LIMITS, type ErrorField } from '@openqoe/schema';
import { decodeCmcd, fromCmcdHeaders, fromCmcdQuery } from '@svta/cml-cmcd';
import type { CmcdReport, CompatValue } from '../../bus/intake-record.js';
import { ApiError } from '../../http/api-error.js';

const MAX_STRING = 2048;
const MAX_LIST = 64;

/** A structured-field value → a plain one (parameters dropped, strings bounded). */
function plain(v: unknown): CompatValue | undefined {
  if (typeof v === 'object' && v !== null && 'value' in v) return plain((v as { value: unknown }).value);
  if (typeof v === 'string') return v.length > MAX_STRING ? v.slice(0, MAX_STRING) : v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'symbol') return v.description ?? '';
  return undefined;
}

function plainReport(decoded: Record<string, unknown>): CmcdReport {
  const out: CmcdReport = {};
  for (const [k, v] of Object.entries(decoded)) {
    if (Array.isArray(v)) out[k] = v.slice(0, MAX_LIST).flatMap((x) => plain(x) ?? []);
    else {
      const p = plain(v);
      if (p !== undefined) out[k] = p;
    }
  }
  return out;
}

const L = BEACON_LIMITS;
/**
 * Every number the mapping (pipeline/view-model/normalize-cmcd.ts) reads, with its bound (the native
 * beacon's, docs/beacon-format.md "Bounds"): durations a day, the playhead the position bound,
 * bitrates (kbps) the bitrate bound. A larger value (1e308) is refused by name, not stored.
 */
const BOUNDED: [string, number][] = [
  ['pt', L.maxPositionMs],
  ['ltc', L.maxIntervalMs],
  ['ttfb', L.maxIntervalMs],
  ['msd', L.maxIntervalMs],
  ['bsd', L.maxIntervalMs],
  ['br', L.maxBitrateBps / 1000],
  ['pb', L.maxBitrateBps / 1000],
];

/**
 * A `ttfb` that is a point in time, not a duration from `ts`: dash.js 5.2 sends one for a request
 * whose Resource Timing entry it cannot use (cross-origin without Timing-Allow-Origin, a range, a
 * cached response), timed by its XHR loader instead (the first byte's wall-clock time from `Date`
 * minus the start's `performance.now()`). It contradicts the report: later than its own time to last
 * byte, or a day or more yet not after the report's time. The report is good otherwise (its
 * request, status and URL), so the key alone is ignored and the answer says so; refusing would
 * lose the request and have the player resend the report for the rest of the session.
 */
function wallClockTtfb(r: CmcdReport): boolean {
  const { ttfb, ttlb, ts } = r;
  if (typeof ttfb !== 'number') return false;
  if (typeof ttlb === 'number' && ttfb > ttlb) return true;
  return typeof ts === 'number' && ttfb > L.maxIntervalMs && ttfb <= ts;
}

/** Problems of one report, as field errors under `path`; keys it drops go to `ignored`. */
function check(r: CmcdReport, path: string, ignored: ErrorField[]): ErrorField[] {
  const fields: ErrorField[] = [];
  if (r['e'] === 'rr' && wallClockTtfb(r)) {
    ignored.push({
      path: `${path}.ttfb`,
      problem: `is a time of day, not a duration from ts (${r['ttfb']}; the time to last byte is ${r['ttlb'] ?? 'not given'}): ignored`,
    });
    delete r['ttfb'];
  }
  const sid = r['sid'];
  if (typeof sid !== 'string' || sid.length === 0 || sid.length > BEACON_LIMITS.idMaxLength)
    fields.push({
      path: `${path}.sid`,
      problem: `must be a string of 1 to ${BEACON_LIMITS.idMaxLength} characters`,
    });
  const sn = r['sn'];
  if (typeof sn !== 'number' || !Number.isInteger(sn) || sn < 0 || sn > BEACON_LIMITS.maxSequenceNumber)
    fields.push({
      path: `${path}.sn`,
      problem:
        sn === undefined
          ? 'is required (CMCD v2 sequence number; `openqoe import-cmcd` numbers v1 logs)'
          : `must be an integer from 0 to ${BEACON_LIMITS.maxSequenceNumber}`,
    });
  const ts = r['ts'];
  if (ts !== undefined && (typeof ts !== 'number' || ts < 0 || ts > BEACON_LIMITS.maxEpochMs))
    fields.push({ path: `${path}.ts`, problem: 'must be epoch milliseconds' });
  for (const [key, max] of BOUNDED) {
    const v = r[key];
    const values = Array.isArray(v) ? v : v === undefined ? [] : [v];
    if (values.some((x) => typeof x !== 'number' || !(x >= 0 && x <= max)))
      fields.push({ path: `${path}.${key}`, problem: `must be a number from 0 to ${max}` });
  }
  if (r['e'] !== undefined && typeof r['e'] !== 'string')
    fields.push({ path: `${path}.e`, problem: 'must be a token' });
  if (r['e'] !== undefined && ts === undefined)
    fields.push({ path: `${path}.ts`, problem: 'is required in event mode' });
  return fields;
}

export interface CmcdInput {
  body: string;
  /** The raw query string (after `?`), for `CMCD=`. */
  query: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface DecodedReports {
  reports: CmcdReport[];
  /** Keys dropped from otherwise good reports, named like refusals (one per report at most). */
  ignored: ErrorField[];
}

/** Every report the request carries: body lines, then the query's, then the headers'. */
export function decodeCmcdReports(input: CmcdInput, maxReports: number): DecodedReports {
  const reports: CmcdReport[] = [];
  const fields: ErrorField[] = [];
  const ignored: ErrorField[] = [];
  /** Keeps a decoded report, or its problems under `path`. */
  const take = (decoded: unknown, path: string) => {
    const r = plainReport(decoded as Record<string, unknown>);
    const problems = check(r, path, ignored);
    if (problems.length) fields.push(...problems);
    else reports.push(r);
  };
  const lines = input.body.split(/\r?\n/);
  let n = 0;
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    n++;
    if (n > maxReports) return;
    let decoded: unknown;
    try {
      decoded = decodeCmcd(line.trim());
    } catch (err) {
      fields.push({ path: `line ${i + 1}`, problem: `is not a CMCD dictionary: ${(err as Error).message}` });
      return;
    }
    take(decoded, `line ${i + 1}`);
  });
  if (n > maxReports)
    throw new ApiError('QOE_ERR_VALIDATION', undefined, [
      { path: 'body', problem: `must hold at most ${maxReports} reports (has ${n})` },
    ]);
  if (/(^|&)CMCD=/.test(input.query)) take(fromCmcdQuery(input.query), 'query.CMCD');
  const cmcdHeaders: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.headers))
    if (k.toLowerCase().startsWith('cmcd-') && typeof v === 'string') cmcdHeaders[k] = v;
  if (Object.keys(cmcdHeaders).length > 0) {
    let decoded: unknown;
    try {
      decoded = fromCmcdHeaders(cmcdHeaders);
    } catch (err) {
      fields.push({ path: 'headers', problem: `CMCD-* headers do not decode: ${(err as Error).message}` });
    }
    if (decoded) take(decoded, 'headers');
  }
  if (fields.length) throw new ApiError('QOE_ERR_VALIDATION', undefined, fields.slice(0, 50));
  if (reports.length === 0)
    throw new ApiError(
      'QOE_ERR_VALIDATION',
      ['No CMCD report: send a body, a CMCD= query or CMCD-* headers'],
      [{ path: 'body', problem: 'holds no report' }],
    );
  return { reports, ignored };
}

/** Reports grouped by session (`sid`), in the order they came. */
export function bySession(reports: CmcdReport[]): Map<string, CmcdReport[]> {
  const out = new Map<string, CmcdReport[]>();
  for (const r of reports) {
    const sid = r['sid'] as string;
    const list = out.get(sid);
    if (list) list.push(r);
    else out.set(sid, [r]);
  }
  return out;
}
