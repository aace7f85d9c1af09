/**
 * What every API answer shares: the error envelope (one schema, registered
 * once by the server as `ErrorEnvelope`, referenced by every route) and the
 * shape of a paged list.
 */
import { type TSchema, Type } from '@sinclair/typebox';
import type { ErrorEnvelope } from '../errors.js';

export const ErrorEnvelopeSchema = Type.Object(
  {
    error: Type.Object({
      type: Type.String(),
      code: Type.String(),
      messages: Type.Array(Type.String()),
      fields: Type.Array(Type.Object({ path: Type.String(), problem: Type.String() })),
    }),
  },
  { $id: 'ErrorEnvelope' },
);

/** An error answer of a route: a reference to the registered envelope, typed as the envelope. */
export const ErrorRef = Type.Unsafe<ErrorEnvelope>({ $ref: 'ErrorEnvelope#' });

/** A page of a list: `data` and the number of items in the whole list. */
export const ListOf = <S extends TSchema>(item: S) =>
  Type.Object({ data: Type.Array(item), total_row_count: Type.Integer() });

/** A single item: `{ data }`. */
export const DataOf = <S extends TSchema>(item: S) => Type.Object({ data: item });
