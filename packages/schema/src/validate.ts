/**
 * Compiled validators and the translation of schema errors into the
 * `{path, problem}` pairs of the error envelope ("samples[3].viewId" /
 * "must be a string"), so a client learns exactly which field is wrong.
 */
import type { TSchema } from '@sinclair/typebox';
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler';
import { type ValueError, ValueErrorType } from '@sinclair/typebox/errors';
import { type Beacon, BeaconSchema } from './beacon.js';

export interface FieldProblem {
  path: string;
  problem: string;
}

export type Validation<T> = { ok: true; value: T } | { ok: false; fields: FieldProblem[] };

/** JSON pointer "/samples/3/viewId" → "samples[3].viewId". */
export function pointerToPath(pointer: string): string {
  if (pointer === '' || pointer === '/') return '(body)';
  let out = '';
  for (const raw of pointer.slice(1).split('/')) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(part)) out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

function literalChoices(schema: TSchema): string[] | undefined {
  const anyOf = (schema as { anyOf?: TSchema[] }).anyOf;
  if (!anyOf?.every((s) => 'const' in s)) return undefined;
  return anyOf.map((s) => JSON.stringify((s as unknown as { const: unknown }).const));
}

/**
 * For a union of objects told apart by a literal `type` (e.g. the kinds of a
 * config entry), the first problem of the member the value names, so the
 * message says what is wrong with it rather than that no member matched.
 */
function memberProblem(error: ValueError): string | undefined {
  const anyOf = (error.schema as { anyOf?: TSchema[] }).anyOf;
  const value = error.value;
  if (!anyOf || typeof value !== 'object' || value === null || !('type' in value)) return undefined;
  const typeOf = (s: TSchema) =>
    (s as { properties?: { type?: { const?: unknown } } }).properties?.type?.const;
  const kinds = anyOf.map(typeOf);
  if (kinds.some((k) => k === undefined)) return undefined;
  const i = kinds.indexOf((value as { type: unknown }).type);
  if (i < 0) return `type must be one of ${kinds.map((k) => JSON.stringify(k)).join(', ')}`;
  const member = anyOf[i] as { properties?: Record<string, { default?: unknown }> };
  for (const e of error.errors[i] ?? []) {
    const key = e.path.slice(error.path.length + 1).split('/')[0]!;
    // Defaults are not filled into a value that matches no member: a missing field with one is not the problem.
    const missing = (value as Record<string, unknown>)[key] === undefined;
    if (missing && member.properties?.[key]?.default !== undefined) continue;
    return `${pointerToPath(e.path.slice(error.path.length))} ${describeProblem(e)}`;
  }
  return undefined;
}

/** One readable sentence per schema error. */
export function describeProblem(error: ValueError): string {
  const s = error.schema as Record<string, unknown>;
  const got = `, got ${typeName(error.value)}`;
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return 'is required';
    case ValueErrorType.ObjectAdditionalProperties:
      return 'is not a known field';
    case ValueErrorType.String:
      return `must be a string${got}`;
    case ValueErrorType.Number:
      return `must be a finite number${got}`;
    case ValueErrorType.Integer:
      return `must be an integer${typeof error.value === 'number' ? `, got ${error.value}` : got}`;
    case ValueErrorType.Boolean:
      return `must be a boolean${got}`;
    case ValueErrorType.Array:
      return `must be an array${got}`;
    case ValueErrorType.Object:
      return `must be an object${got}`;
    case ValueErrorType.StringMaxLength:
      return `must be at most ${s['maxLength']} characters, got ${String(error.value).length}`;
    case ValueErrorType.StringMinLength:
      return `must be at least ${s['minLength']} character(s)`;
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.IntegerMinimum:
      return `must be ≥ ${s['minimum']}, got ${error.value}`;
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.IntegerMaximum:
      return `must be ≤ ${s['maximum']}, got ${error.value}`;
    case ValueErrorType.ArrayMaxItems:
      return `must have at most ${s['maxItems']} items, got ${Array.isArray(error.value) ? error.value.length : '?'}`;
    case ValueErrorType.Literal:
      return `must be ${JSON.stringify(s['const'])}, got ${JSON.stringify(error.value)}`;
    case ValueErrorType.Union: {
      const choices = literalChoices(error.schema);
      if (choices) return `must be one of ${choices.join(', ')}, got ${JSON.stringify(error.value)}`;
      return memberProblem(error) ?? `has the wrong shape${got}`;
    }
    default:
      return error.message;
  }
}

/** At most this many problems are listed; a thousand bad samples need not produce a thousand lines. */
export const MAX_LISTED_PROBLEMS = 50;

export class Validator<T> {
  private readonly check: TypeCheck<TSchema>;

  constructor(schema: TSchema) {
    this.check = TypeCompiler.Compile(schema);
  }

  validate(value: unknown): Validation<T> {
    if (this.check.Check(value)) return { ok: true, value: value as T };
    const fields: FieldProblem[] = [];
    const seen = new Set<string>();
    for (const error of this.check.Errors(value)) {
      // A union reports its members' errors too; the union's own line is the useful one.
      const path = pointerToPath(error.path);
      if (seen.has(path)) continue;
      seen.add(path);
      fields.push({ path, problem: describeProblem(error) });
      if (fields.length >= MAX_LISTED_PROBLEMS) break;
    }
    return { ok: false, fields };
  }
}

let beaconValidator: Validator<Beacon> | undefined;

/** The compiled beacon validator (compiled once, on first use). */
export function validateBeacon(value: unknown): Validation<Beacon> {
  beaconValidator ??= new Validator<Beacon>(BeaconSchema);
  return beaconValidator.validate(value);
}
