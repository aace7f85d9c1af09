/**
 * Shorthands of the configuration schema: a key is its type, its default and
 * the line of docs/configuration.md that explains it (with its bounds), and a
 * section rejects unknown keys and defaults to `{}`.
 */
import { type TProperties, Type } from '@sinclair/typebox';

interface Bounds {
  minimum?: number;
  maximum?: number;
}

/** An integer; without a default it is unset unless given (wrap it in Type.Optional). */
export const int = (o: Bounds & { default?: number }, description: string) =>
  Type.Integer({ ...o, description });

export const num = (o: Bounds & { default: number }, description: string) =>
  Type.Number({ ...o, description });

export const bool = (value: boolean, description: string) => Type.Boolean({ default: value, description });

export const str = (value: string, description: string, o: { pattern?: string; minLength?: number } = {}) =>
  Type.String({ ...o, default: value, description });

/** A string without a default (wrap it in Type.Optional). */
export const text = (description: string, o: { pattern?: string; minLength?: number } = {}) =>
  Type.String({ ...o, description });

/** One of a list of words. */
export const oneOf = <const T extends readonly string[]>(words: T, value: T[number], description: string) =>
  Type.Union(
    words.map((w: T[number]) => Type.Literal(w)),
    { default: value, description },
  );

export const section = <T extends TProperties>(properties: T) =>
  Type.Object(properties, { additionalProperties: false, default: {} });
