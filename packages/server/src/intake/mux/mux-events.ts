/**
 * One Mux-protocol POST body → validated events with their keys expanded,
 * grouped by view. Stateless on purpose: merging a view's deltas needs the
 * view's earlier events, which the pipeline worker owning the view has
 * (normalize-mux.ts), whereas any ingest node may receive any POST.
 */
import { BEACON_LIMITS, type ErrorField } from '@openqoe/schema';
import type { CompatValue } from '../../bus/intake-record.js';
import { ApiError } from '../../http/api-error.js';
import { expandKey } from './mux-keys.js';

export interface MuxViewEvents {
  envKey: string;
  events: Record<string, CompatValue>[];
}

export interface DecodedMuxBeacon {
  /** `metadata.transmission_timestamp`: the device clock at sending, for the clock offset. */
  sentAtMs: number | undefined;
  views: Map<string, MuxViewEvents>;
  eventCount: number;
}

/** Longest string value kept; longer ones are cut (a URL with a long query is not an error). */
export const MUX_VALUE_MAX_LENGTH = 2048;
const MAX_KEYS_PER_EVENT = 500;

type Check = (v: CompatValue) => string | undefined;

const isInt = (v: CompatValue, min: number, max: number) =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const idString: Check = (v) =>
  typeof v === 'string' && v.length > 0 && v.length <= BEACON_LIMITS.idMaxLength
    ? undefined
    : `must be a string of 1 to ${BEACON_LIMITS.idMaxLength} characters`;
const epoch: Check = (v) =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= BEACON_LIMITS.maxEpochMs
    ? undefined
    : 'must be epoch milliseconds (a number ≥ 0)';
const nonNegative: Check = (v) =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 ? undefined : 'must be a number ≥ 0';
/** Mux sends some numbers as numeric strings; both are accepted where a number is meant. */
const numeric: Check = (v) =>
  (typeof v === 'number' && Number.isFinite(v)) ||
  (typeof v === 'string' && v !== '' && Number.isFinite(Number(v)))
    ? undefined
    : 'must be a number';

/** Keys the pipeline relies on, with what each must be. */
const REQUIRED: Record<string, Check> = {
  event: (v) =>
    typeof v === 'string' && v.length > 0 && v.length <= 64 ? undefined : 'must be an event name (a string)',
  env_key: idString,
  view_id: idString,
  view_sequence_number: (v) =>
    isInt(v, 1, BEACON_LIMITS.maxSequenceNumber)
      ? undefined
      : `must be an integer from 1 to ${BEACON_LIMITS.maxSequenceNumber}`,
  viewer_time: epoch,
};

const OPTIONAL: Record<string, Check> = {
  player_playhead_time: nonNegative,
  video_source_bitrate: numeric,
  video_source_width: numeric,
  video_source_height: numeric,
  player_width: numeric,
  player_height: numeric,
  request_bytes_loaded: numeric,
  request_start: numeric,
  request_response_start: numeric,
  request_response_end: numeric,
};

/** Every check, the required keys first (so their problems are listed first). */
const CHECKS = [
  ...Object.entries(REQUIRED).map(([key, check]) => [key, check, true] as const),
  ...Object.entries(OPTIONAL).map(([key, check]) => [key, check, false] as const),
];

function scalar(v: unknown): CompatValue | undefined {
  if (typeof v === 'string') return v.length > MUX_VALUE_MAX_LENGTH ? v.slice(0, MUX_VALUE_MAX_LENGTH) : v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'boolean') return v;
  if (v === null || v === undefined) return undefined;
  // Nested values are not part of the protocol; kept as text rather than refused.
  const text = JSON.stringify(v) ?? '';
  return text.length > MUX_VALUE_MAX_LENGTH ? text.slice(0, MUX_VALUE_MAX_LENGTH) : text;
}

export function decodeMuxBeacon(parsed: unknown, maxEvents: number): DecodedMuxBeacon {
  const invalid = (path: string, problem: string) =>
    new ApiError('QOE_ERR_VALIDATION', undefined, [{ path, problem }]);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw invalid('', 'must be a JSON object');
  const body = parsed as { events?: unknown; metadata?: unknown };
  if (!Array.isArray(body.events)) throw invalid('events', 'must be an array');
  if (body.events.length > maxEvents)
    throw invalid('events', `must hold at most ${maxEvents} events (has ${body.events.length})`);
  let sentAtMs: number | undefined;
  if (typeof body.metadata === 'object' && body.metadata !== null) {
    const ts = (body.metadata as { transmission_timestamp?: unknown }).transmission_timestamp;
    if (typeof ts === 'number' && epoch(ts) === undefined) sentAtMs = ts;
  }

  const fields: ErrorField[] = [];
  const views = new Map<string, MuxViewEvents>();
  body.events.forEach((raw: unknown, i) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      fields.push({ path: `events[${i}]`, problem: 'must be an object' });
      return;
    }
    const entries = Object.entries(raw);
    if (entries.length > MAX_KEYS_PER_EVENT) {
      fields.push({ path: `events[${i}]`, problem: `must have at most ${MAX_KEYS_PER_EVENT} keys` });
      return;
    }
    const event: Record<string, CompatValue> = {};
    const wireKeys: Record<string, string> = {};
    for (const [wire, value] of entries) {
      const v = scalar(value);
      if (v === undefined) continue;
      const full = expandKey(wire);
      event[full] = v;
      wireKeys[full] = wire;
    }
    const bad = (key: string, problem: string) =>
      fields.push({ path: `events[${i}].${wireKeys[key] ?? key}`, problem: `${key} ${problem}` });
    let ok = true;
    for (const [key, check, required] of CHECKS) {
      const v = event[key];
      const problem = v === undefined ? (required ? 'is required' : undefined) : check(v);
      if (!problem) continue;
      bad(key, problem);
      ok = false;
    }
    if (!ok) return;
    const viewId = event['view_id'] as string;
    let view = views.get(viewId);
    if (!view) {
      view = { envKey: event['env_key'] as string, events: [] };
      views.set(viewId, view);
    } else if (view.envKey !== event['env_key']) {
      bad('env_key', 'must be the same for every event of a view');
      return;
    }
    view.events.push(event);
  });
  if (fields.length > 0) throw new ApiError('QOE_ERR_VALIDATION', undefined, fields.slice(0, 50));
  return { sentAtMs, views, eventCount: body.events.length };
}
