/** `/system/v1/environments`: list, create, get, delete (access token with `system`). */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { EnvironmentInfo } from '@openqoe/schema';
import type { FastifyInstance } from 'fastify';
import { type AuthenticatedToken, type Registry, tokenCoversEnvironment } from '../../auth/registry.js';
import { ApiError } from '../../http/api-error.js';
import { requirePermission } from '../../http/auth-hook.js';
import { pageOf } from '../../http/paging.js';
import type { Environment } from '../../store/store.js';
import {
  ENVIRONMENT_CREATE_SCHEMA,
  ENVIRONMENT_DELETE_SCHEMA,
  ENVIRONMENT_GET_SCHEMA,
  ENVIRONMENT_LIST_SCHEMA,
} from './system-schemas.js';

const out = (e: Environment): EnvironmentInfo => ({
  id: e.id,
  name: e.name,
  key: e.key,
  created_at: Math.floor(e.createdAtMs / 1000),
});

export function systemEnvironmentsRoutes(app: FastifyInstance, registry: Registry): void {
  const preHandler = requirePermission(registry, 'system');
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const visible = (token: AuthenticatedToken, id: string): Environment => {
    const env = registry.environment(id);
    if (!env || !tokenCoversEnvironment(token, env.id))
      throw new ApiError('QOE_ERR_NOT_FOUND', [`No environment ${id}`]);
    return env;
  };

  r.get('/system/v1/environments', { preHandler, schema: ENVIRONMENT_LIST_SCHEMA }, async (request) => {
    const list = registry.environments().filter((e) => tokenCoversEnvironment(request.token!, e.id));
    const { data, total_row_count } = pageOf(list, request.query.limit, request.query.page);
    return { data: data.map(out), total_row_count };
  });

  const create = { preHandler, schema: ENVIRONMENT_CREATE_SCHEMA };
  r.post('/system/v1/environments', create, async (request, reply) => {
    if (!request.token!.allEnvironments)
      throw new ApiError('QOE_ERR_FORBIDDEN', ['Only a token that covers all environments can create one']);
    const env = await registry.createEnvironment(request.body.name);
    return reply.code(201).send({ data: out(env) });
  });

  r.get('/system/v1/environments/:id', { preHandler, schema: ENVIRONMENT_GET_SCHEMA }, async (request) => ({
    data: out(visible(request.token!, request.params.id)),
  }));

  const remove = { preHandler, schema: ENVIRONMENT_DELETE_SCHEMA };
  r.delete('/system/v1/environments/:id', remove, async (request, reply) => {
    const env = visible(request.token!, request.params.id);
    await registry.deleteEnvironment(env.id);
    return reply.code(204).send();
  });
}
