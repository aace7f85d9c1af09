/**
 * `/system/v1/signing-keys`: create, list, get, delete the RSA keys that
 * sign stats API tokens (access token with `system`). The private key is in
 * the create response only; several keys may be active for rotation.
 * Schemas: live-route-schemas.ts.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { type AuthenticatedToken, type Registry, tokenCoversEnvironment } from '../../auth/registry.js';
import { ApiError } from '../../http/api-error.js';
import { requirePermission } from '../../http/auth-hook.js';
import { pageOf } from '../../http/paging.js';
import { bodyDefaultsToObject, targetEnvironment } from '../../http/target-environment.js';
import type { SigningKey, SigningKeys } from '../signing-keys.js';
import {
  KEY_CREATE_SCHEMA,
  KEY_DELETE_SCHEMA,
  KEY_GET_SCHEMA,
  KEY_LIST_SCHEMA,
} from './live-route-schemas.js';

const out = (k: SigningKey) => ({
  id: k.id,
  environment_id: k.envId,
  created_at: String(Math.floor(k.createdAtMs / 1000)),
});

export function systemSigningKeysRoutes(app: FastifyInstance, registry: Registry, keys: SigningKeys): void {
  const preHandler = requirePermission(registry, 'system');
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const visibleKey = (token: AuthenticatedToken, id: string) => {
    const k = keys.get(id);
    if (!k || !tokenCoversEnvironment(token, k.envId))
      throw new ApiError('QOE_ERR_NOT_FOUND', [`No signing key ${id}`]);
    return k;
  };

  const create = { preHandler, preValidation: bodyDefaultsToObject, schema: KEY_CREATE_SCHEMA };
  r.post('/system/v1/signing-keys', create, async (request, reply) => {
    const envId = targetEnvironment(registry, request.token!, request.body.environment_id);
    const { key, privateKeyBase64 } = await keys.create(envId);
    return reply.code(201).send({ data: { ...out(key), private_key: privateKeyBase64 } });
  });

  r.get('/system/v1/signing-keys', { preHandler, schema: KEY_LIST_SCHEMA }, async (request) => {
    const list = keys.list().filter((k) => tokenCoversEnvironment(request.token!, k.envId));
    const { data, total_row_count } = pageOf(list, request.query.limit, request.query.page);
    return { data: data.map(out), total_row_count };
  });

  r.get('/system/v1/signing-keys/:id', { preHandler, schema: KEY_GET_SCHEMA }, async (request) => ({
    data: out(visibleKey(request.token!, request.params.id)),
  }));

  const remove = { preHandler, schema: KEY_DELETE_SCHEMA };
  r.delete('/system/v1/signing-keys/:id', remove, async (request, reply) => {
    const k = visibleKey(request.token!, request.params.id);
    await keys.delete(k.id);
    return reply.code(204).send();
  });
}
