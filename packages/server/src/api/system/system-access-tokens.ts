/**
 * `/system/v1/access-tokens`: list, create, get, delete. A token can only
 * grant what it has (access-token-grant.ts), the secret is shown once at
 * creation, and the last token with `system` cannot be deleted.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AccessTokenInfo } from '@openqoe/schema';
import type { FastifyInstance } from 'fastify';
import { type AuthenticatedToken, type Registry, tokenCoversEnvironment } from '../../auth/registry.js';
import { ApiError } from '../../http/api-error.js';
import { requirePermission } from '../../http/auth-hook.js';
import { pageOf } from '../../http/paging.js';
import type { AccessTokenRecord } from '../../store/store.js';
import { checkGrant } from './access-token-grant.js';
import {
  TOKEN_CREATE_SCHEMA,
  TOKEN_DELETE_SCHEMA,
  TOKEN_GET_SCHEMA,
  TOKEN_LIST_SCHEMA,
} from './system-schemas.js';

const out = (t: AccessTokenRecord): AccessTokenInfo => ({
  id: t.id,
  name: t.name,
  permissions: t.permissions,
  environment_ids: t.environmentIds,
  all_environments: t.allEnvironments,
  created_at: Math.floor(t.createdAtMs / 1000),
});

/** A caller sees the tokens whose environments it covers wholly. */
const visible = (caller: AuthenticatedToken, t: AccessTokenRecord) =>
  caller.allEnvironments ||
  (!t.allEnvironments && t.environmentIds.every((e) => tokenCoversEnvironment(caller, e)));

export function systemAccessTokensRoutes(app: FastifyInstance, registry: Registry): void {
  const preHandler = requirePermission(registry, 'system');
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const visibleToken = (caller: AuthenticatedToken, id: string): AccessTokenRecord => {
    const t = registry.token(id);
    if (!t || !visible(caller, t)) throw new ApiError('QOE_ERR_NOT_FOUND', [`No access token ${id}`]);
    return t;
  };

  r.get('/system/v1/access-tokens', { preHandler, schema: TOKEN_LIST_SCHEMA }, async (request) => {
    const list = registry.tokenRecords().filter((t) => visible(request.token!, t));
    const { data, total_row_count } = pageOf(list, request.query.limit, request.query.page);
    return { data: data.map(out), total_row_count };
  });

  r.post('/system/v1/access-tokens', { preHandler, schema: TOKEN_CREATE_SCHEMA }, async (request, reply) => {
    const { name, permissions } = request.body;
    const grant = checkGrant(registry, request.token!, request.body);
    const { record, secret } = await registry.createToken({ name, permissions, ...grant });
    return reply.code(201).send({ data: { ...out(record), secret } });
  });

  r.get('/system/v1/access-tokens/:id', { preHandler, schema: TOKEN_GET_SCHEMA }, async (request) => ({
    data: out(visibleToken(request.token!, request.params.id)),
  }));

  const remove = { preHandler, schema: TOKEN_DELETE_SCHEMA };
  r.delete('/system/v1/access-tokens/:id', remove, async (request, reply) => {
    const t = visibleToken(request.token!, request.params.id);
    const systemTokens = registry.tokenRecords().filter((x) => x.permissions.includes('system'));
    if (t.permissions.includes('system') && systemTokens.length === 1) {
      throw new ApiError('QOE_ERR_CONFLICT', [
        'This is the last token with the system permission; create another first',
      ]);
    }
    await registry.deleteToken(t.id);
    return reply.code(204).send();
  });
}
