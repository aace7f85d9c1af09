/**
 * Silences: a time window in which the transitions of a rule, of one series
 * (a breakdown dimension and value, of one rule or of every rule) or of
 * everything in an environment are recorded but not sent.
 */
import type { Silence, SilenceInput } from '@openqoe/schema';
import { SilenceInput as SilenceInputSchema } from '@openqoe/schema';
import { ApiError } from '../http/api-error.js';
import { schemaProblems } from './alert-rules.js';

export interface SilenceRecord {
  id: string;
  envId: string;
  ruleId: string | null;
  breakdown: string | null;
  breakdownValue: string | null;
  startsAtMs: number;
  endsAtMs: number;
  comment: string;
  createdAtMs: number;
}

export type SilenceSpec = Omit<SilenceRecord, 'id' | 'envId' | 'createdAtMs'>;

/** Checks a silence body; throws one ApiError naming every bad field. */
export function checkSilence(
  input: unknown,
  ruleExists: (id: string) => boolean,
  nowMs: number,
): SilenceSpec {
  const problems = schemaProblems(SilenceInputSchema, input);
  const body = (input && typeof input === 'object' ? input : {}) as Partial<SilenceInput>;
  const time = (field: 'starts_at' | 'ends_at', given: string | undefined, fallback: number) => {
    if (given === undefined) return fallback;
    const ms = Date.parse(given);
    if (Number.isNaN(ms)) problems.push({ path: field, problem: 'must be an ISO 8601 date and time' });
    return ms;
  };
  const startsAtMs = time('starts_at', body.starts_at, nowMs);
  const endsAtMs = time('ends_at', body.ends_at, Number.NaN);
  if (!Number.isNaN(startsAtMs) && !Number.isNaN(endsAtMs) && endsAtMs <= startsAtMs)
    problems.push({ path: 'ends_at', problem: 'must be after starts_at' });
  const ruleId = body.rule_id ?? null;
  if (typeof ruleId === 'string' && !ruleExists(ruleId))
    problems.push({ path: 'rule_id', problem: `no alert rule ${ruleId} in this environment` });
  const breakdown = body.breakdown ?? null;
  const breakdownValue = body.breakdown_value ?? null;
  if ((breakdown === null) !== (breakdownValue === null))
    problems.push({
      path: breakdown === null ? 'breakdown' : 'breakdown_value',
      problem: 'breakdown and breakdown_value go together',
    });
  if (problems.length) throw new ApiError('QOE_ERR_VALIDATION', undefined, problems);
  return { ruleId, breakdown, breakdownValue, startsAtMs, endsAtMs, comment: body.comment ?? '' };
}

/** Whether `s` mutes a transition of rule `ruleId`'s series at `nowMs`. */
export function mutes(
  s: SilenceRecord,
  envId: string,
  ruleId: string,
  breakdown: string | null,
  breakdownValue: string | null,
  nowMs: number,
): boolean {
  if (s.envId !== envId || nowMs < s.startsAtMs || nowMs >= s.endsAtMs) return false;
  if (s.ruleId !== null && s.ruleId !== ruleId) return false;
  return s.breakdown === null || (s.breakdown === breakdown && s.breakdownValue === breakdownValue);
}

export function silenceAnswer(s: SilenceRecord, nowMs: number): Silence {
  return {
    id: s.id,
    environment_id: s.envId,
    rule_id: s.ruleId,
    breakdown: s.breakdown,
    breakdown_value: s.breakdownValue,
    starts_at: new Date(s.startsAtMs).toISOString(),
    ends_at: new Date(s.endsAtMs).toISOString(),
    comment: s.comment,
    active: nowMs >= s.startsAtMs && nowMs < s.endsAtMs,
    created_at: new Date(s.createdAtMs).toISOString(),
  };
}
