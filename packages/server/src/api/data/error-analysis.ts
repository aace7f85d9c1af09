/**
 * `GET /data/v1/errors`: the error analysis over stored views. A view counts
 * under the code of its first fatal or business error (`error_code`); per
 * code (and player, with `by_player`): the views affected, their share of all
 * views in the timeframe and filters, the ends of the first and last of them,
 * the most frequent messages, the players and versions, and example views.
 */
import { type ErrorAnalysisResponse, ErrorAnalysisResponse as ErrorAnalysisSchema } from '@openqoe/schema';
import { type Static, Type } from '@sinclair/typebox';
import type { AuthenticatedToken } from '../../auth/registry.js';
import type { Scope } from '../../query/query-scope.js';
import type { ReadValue } from '../../store/store.js';
import { type MetricQueries, num, timeframeOf } from './metric-queries.js';
import { DATA_ROUTE, QUERY_ERRORS, ScopeQuerySchema } from './metrics-schemas.js';

const ORDER = { views: 'views', last_seen: 'last_ms', first_seen: 'first_ms', error_code: 'code' } as const;
const TOP_MESSAGES = 5;
const TOP_PLAYERS = 10;
const EXAMPLES = 5;

const ErrorsQuery = Type.Object(
  {
    ...ScopeQuerySchema,
    by_player: Type.Boolean({ default: false, description: 'One row per error code and player_software' }),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 25 }),
    page: Type.Integer({ minimum: 1, default: 1 }),
    order_by: Type.Optional(
      Type.Union(
        (Object.keys(ORDER) as (keyof typeof ORDER)[]).map((o) => Type.Literal(o)),
        {
          description: 'Default: views',
        },
      ),
    ),
    order_direction: Type.Optional(
      Type.Union([Type.Literal('asc'), Type.Literal('desc')], {
        description: 'Default: asc for error_code, else desc',
      }),
    ),
  },
  { additionalProperties: false },
);
export type ErrorsQuery = Static<typeof ErrorsQuery>;

export const ERRORS_SCHEMA = {
  ...DATA_ROUTE,
  summary: 'Error analysis: per error code (and player), the views affected and what they have in common',
  description:
    'A view counts under the code of its first fatal or business error. share_of_views = views ÷ all views in ' +
    'the timeframe and filters × 100; first_seen and last_seen are the ends of the earliest and latest affected views.',
  querystring: ErrorsQuery,
  response: { 200: ErrorAnalysisSchema, ...QUERY_ERRORS },
};

const iso = (v: ReadValue | undefined) => new Date(Number(v)).toISOString();
const keyOf = (r: Record<string, ReadValue>) => `${r['code']}\u0000${r['player']}`;

export async function errorAnalysisAnswer(
  mq: MetricQueries,
  token: AuthenticatedToken,
  q: ErrorsQuery,
): Promise<ErrorAnalysisResponse> {
  const scope = mq.scope(q, token);
  const { store } = mq;
  const d = store.dialect;
  const base = [...scope.params.values];
  const player = q.by_player ? "coalesce(player_software, '')" : "''";
  const affected = `FROM ${d.views} WHERE ${scope.where} AND error_code <> ''`;
  const orderBy = q.order_by ?? 'views';
  const direction = q.order_direction ?? (orderBy === 'error_code' ? 'asc' : 'desc');
  const limit = scope.params.add(q.limit);
  const offset = scope.params.add((q.page - 1) * q.limit);
  const [[all], groups] = await Promise.all([
    store.select(`SELECT count(*) AS n FROM ${d.views} WHERE ${scope.where}`, base),
    store.select(
      `SELECT g.*, count(*) OVER () AS total FROM (
         SELECT error_code AS code, ${player} AS player, count(*) AS views,
                count(*) FILTER (WHERE playback_failure) AS failures,
                ${d.timestampToMs('min(view_end)')} AS first_ms, ${d.timestampToMs('max(view_end)')} AS last_ms
         ${affected} GROUP BY ALL
       ) g
       ORDER BY g.${ORDER[orderBy]} ${direction}, g.code, g.player LIMIT ${limit} OFFSET ${offset}`,
      scope.params.values,
    ),
  ]);
  const totalViews = num(all?.['n']) ?? 0;
  const details = await detailsOf(mq, scope, base, player, groups);
  return {
    data: groups.map((g) => {
      const k = keyOf(g);
      const views = num(g['views']) ?? 0;
      return {
        error_code: String(g['code']),
        player_software: q.by_player ? String(g['player']) : null,
        views,
        share_of_views: totalViews ? (100 * views) / totalViews : 0,
        playback_failures: num(g['failures']) ?? 0,
        first_seen: iso(g['first_ms']),
        last_seen: iso(g['last_ms']),
        messages: (details.messages.get(k) ?? []).map((r) => ({
          message: String(r['a']),
          views: Number(r['n']),
        })),
        players: (details.players.get(k) ?? []).map((r) => ({
          player_software: String(r['a']),
          player_version: String(r['b']),
          views: Number(r['n']),
        })),
        example_view_ids: (details.examples.get(k) ?? []).map((r) => String(r['a'])),
      };
    }),
    total_row_count: num(groups[0]?.['total']) ?? (await countGroups(mq, affected, player, base)),
    total_views: totalViews,
    timeframe: timeframeOf(scope),
  };
}

/** The top messages, players and example views of the page's groups, by group. */
async function detailsOf(
  mq: MetricQueries,
  scope: Scope,
  base: unknown[],
  player: string,
  groups: Record<string, ReadValue>[],
) {
  const codes = [...new Set(groups.map((g) => String(g['code'])))];
  const values = [...base, ...codes];
  const inPage = `error_code IN (${codes.map((_, i) => `$${base.length + i + 1}`).join(', ')})`;
  const from = `FROM ${mq.store.dialect.views} WHERE ${scope.where} AND ${inPage}`;
  /** The first `n` rows of each group by `order` (a and b: what is listed, n: its count or end time). */
  const top = async (columns: string, grouped: boolean, order: string, n: number) => {
    const rows = codes.length
      ? await mq.store.select(
          `SELECT * FROM (
             SELECT t.*, row_number() OVER (PARTITION BY t.code, t.player ORDER BY ${order}) AS rn FROM (
               SELECT error_code AS code, ${player} AS player, ${columns} ${from} ${grouped ? 'GROUP BY ALL' : ''}
             ) t
           ) r WHERE r.rn <= ${n} ORDER BY r.rn`,
          values,
        )
      : [];
    const byGroup = new Map<string, Record<string, ReadValue>[]>();
    for (const r of rows) byGroup.set(keyOf(r), [...(byGroup.get(keyOf(r)) ?? []), r]);
    return byGroup;
  };
  const [messages, players, examples] = await Promise.all([
    top("coalesce(error_message, '') AS a, count(*) AS n", true, 't.n DESC, t.a', TOP_MESSAGES),
    top(
      "coalesce(player_software, '') AS a, coalesce(player_version, '') AS b, count(*) AS n",
      true,
      't.n DESC, t.a, t.b',
      TOP_PLAYERS,
    ),
    top(`view_id AS a, ${mq.store.dialect.timestampToMs('view_end')} AS n`, false, 't.n DESC, t.a', EXAMPLES),
  ]);
  return { messages, players, examples };
}

/** The number of groups when the requested page is past the last one. */
async function countGroups(mq: MetricQueries, affected: string, player: string, base: unknown[]) {
  const [r] = await mq.store.select(
    `SELECT count(*) AS n FROM (SELECT error_code, ${player} AS player ${affected} GROUP BY ALL) g`,
    base,
  );
  return num(r?.['n']) ?? 0;
}
