/** Paging of list responses: `limit` (1–1000, default 25) and `page` (from 1). */
import { Type } from '@sinclair/typebox';

export const PagingQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 25 }),
    page: Type.Integer({ minimum: 1, default: 1 }),
  },
  { additionalProperties: false },
);

export function pageOf<T>(
  items: readonly T[],
  limit: number,
  page: number,
): { data: T[]; total_row_count: number } {
  return { data: items.slice((page - 1) * limit, page * limit), total_row_count: items.length };
}
