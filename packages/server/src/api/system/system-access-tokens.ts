/**
 * `/system/v1/access-tokens`: list, create, get, delete. A token can only
 * grant what it has (permissions and environments), the secret is shown once
 * at creation, and the last token with `system` cannot be deleted.
 */
import { PERMISSIONS, type Permission } from '@openqoe/schema';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { type Registry, tokenCoversEnvironment } from '../../auth/registry.js';
import { ApiError } from '../../http/api-error.js';
import { requirePermission } from '../../http/auth-hook.js';
import { listOf, PagingQuery, pageOf } from '../../http/paging.js';
import type { AccessTokenRecord } from '../../store/store.js';

const PermissionSchema = Type.Union(PERMISSIONS.map((p) => Type.Literal(p)));
const TokenOut = Type.Object({
  id: Type.String(),
  name: Type.String(),
  permissions: Type.Array(PermissionSchema),
  environment_ids: Type.Array(Type.String()),
  all_environments: Type.Boolean(),
  created_at: Type.Integer({ description: 'Epoch seconds' }),
});
const CreatedTokenOut = Type.Composite([
  TokenOut,
  Type.Object({ secret: Type.String({ description: 'Shown once: keep it now' }) }),
]);
const CreateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128 }),
    permissions: Type.Array(PermissionSchema, { minItems: 1 }),
    environment_ids: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 1000 })),
    all_environments: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const ErrorRef = { $ref: 'ErrorEnvelope#' };

const out = (t: AccessTokenRecord) => ({
  id: t.id,
  name: t.name,
  permissions: t.permissions,
  environment_ids: t.environmentIds,
  all_environments: t.allEnvironments,
  created_at: Math.floor(t.createdAtMs / 1000),
});

export function systemAccessTokensRoutes(app: FastifyInstance, registry: Registry): void {
  const auth = requirePermission(registry, 'system');
  const tags = ['system'];
  const security = [{ basicAuth: [] }];

  /** A caller sees the tokens whose environments it covers wholly. */
  const visible = (caller: NonNullable<import('fastify').FastifyRequest['token']>, t: AccessTokenRecord) =>
    caller.allEnvironments ||
    (!t.allEnvironments && t.environmentIds.every((e) => tokenCoversEnvironment(caller, e)));

  app.get<{ Querystring: { limit: number; page: number } }>(
    '/system/v1/access-tokens',
    {
      preHandler: auth,
      schema: {
        tags,
        security,
        summary: 'List access tokens (never their secrets)',
        querystring: PagingQuery,
        response: { 200: listOf(TokenOut), 401: ErrorRef, 403: ErrorRef },
      },
    },
    async (request) => {
      const list = registry.tokenRecords().filter((t) => visible(request.token!, t));
      const { data, total_row_count } = pageOf(list, request.query.limit, request.query.page);
      return { data: data.map(out), total_row_count };
    },
  );

  app.post<{
    Body: { name: string; permissions: Permission[]; environment_ids?: string[]; all_environments?: boolean };
  }>(
    '/system/v1/access-tokens',
    {
      preHandler: auth,
      schema: {
        tags,
        security,
        summary: 'Create an access token; the secret is in this response only',
        body: CreateBody,
        response: {
          201: Type.Object({ data: CreatedTokenOut }),
          400: ErrorRef,
          401: ErrorRef,
          403: ErrorRef,
        },
      },
    },
    async (request, reply) => {
      const caller = request.token!;
      const body = request.body;
      const all = body.all_environments ?? false;
      const envIds = body.environment_ids ?? [];
      if (!all && envIds.length === 0) {
        throw new ApiError('QOE_ERR_VALIDATION', undefined, [
          {
            path: 'environment_ids',
            problem: 'must list at least one environment unless all_environments is true',
          },
        ]);
      }
      if (all && envIds.length > 0) {
        throw new ApiError('QOE_ERR_VALIDATION', undefined, [
          { path: 'environment_ids', problem: 'must be empty when all_environments is true' },
        ]);
      }
      const missing = envIds.filter((id) => !registry.environment(id));
      if (missing.length) {
        throw new ApiError(
          'QOE_ERR_VALIDATION',
          undefined,
          missing.map((id) => ({ path: 'environment_ids', problem: `no environment ${id}` })),
        );
      }
      const extraPerms = body.permissions.filter((p) => !caller.permissions.includes(p));
      if (extraPerms.length)
        throw new ApiError('QOE_ERR_FORBIDDEN', [
          `A token cannot grant ${extraPerms.join(', ')}: it lacks it`,
        ]);
      if ((all && !caller.allEnvironments) || envIds.some((id) => !tokenCoversEnvironment(caller, id))) {
        throw new ApiError('QOE_ERR_FORBIDDEN', ['A token cannot grant environments it does not cover']);
      }
      const { record, secret } = await registry.createToken({
        name: body.name,
        permissions: body.permissions,
        environmentIds: envIds,
        allEnvironments: all,
      });
      return reply.code(201).send({ data: { ...out(record), secret } });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/system/v1/access-tokens/:id',
    {
      preHandler: auth,
      schema: {
        tags,
        security,
        summary: 'Get one access token (without its secret)',
        params: IdParams,
        response: { 200: Type.Object({ data: TokenOut }), 401: ErrorRef, 403: ErrorRef, 404: ErrorRef },
      },
    },
    async (request) => {
      const t = registry.token(request.params.id);
      if (!t || !visible(request.token!, t))
        throw new ApiError('QOE_ERR_NOT_FOUND', [`No access token ${request.params.id}`]);
      return { data: out(t) };
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/system/v1/access-tokens/:id',
    {
      preHandler: auth,
      schema: {
        tags,
        security,
        summary: 'Delete (revoke) an access token',
        params: IdParams,
        response: { 204: Type.Null(), 401: ErrorRef, 403: ErrorRef, 404: ErrorRef, 409: ErrorRef },
      },
    },
    async (request, reply) => {
      const t = registry.token(request.params.id);
      if (!t || !visible(request.token!, t))
        throw new ApiError('QOE_ERR_NOT_FOUND', [`No access token ${request.params.id}`]);
      const systemTokens = registry.tokenRecords().filter((x) => x.permissions.includes('system'));
      if (t.permissions.includes('system') && systemTokens.length === 1) {
        throw new ApiError('QOE_ERR_CONFLICT', [
          'This is the last token with the system permission; create another first',
        ]);
      }
      await registry.deleteToken(t.id);
      return reply.code(204).send();
    },
  );
}
