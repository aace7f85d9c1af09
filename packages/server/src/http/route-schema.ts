/**
 * What the route schemas of every API share: the Basic-auth security
 * requirement of the OpenAPI document, and error answers by status (each a
 * reference to the one error envelope, typed as it).
 */
import { ErrorRef } from '@openqoe/schema';
import { Type } from '@sinclair/typebox';

export const BASIC_AUTH = [{ basicAuth: [] }];

export function errorAnswers<S extends number>(...statuses: S[]): Record<S, typeof ErrorRef> {
  const out = {} as Record<S, typeof ErrorRef>;
  for (const s of statuses) out[s] = ErrorRef;
  return out;
}

/** A 204 answer: no body (documented as null, as before; typed void so `send()` takes nothing). */
export const NoContent = Type.Unsafe<void>(Type.Null());
