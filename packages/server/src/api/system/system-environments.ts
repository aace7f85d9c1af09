/** `/system/v1/environments`: list, create, get, delete (access token with `system`). */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { type Registry, tokenCoversEnvironment } from '../../auth/registry.js';
import { ApiError } from '../../http/api-error.js';
import { requirePermission } from '../../http/auth-hook.js';
import { listOf, PagingQuery, pageOf } from '../../http/paging.js';
import type { Environment } from '../../store/store.js';

const EnvironmentOut = Type.Object({
  id: Type.String(),
  name: Type.String(),
  key: Type.String({ description: 'Environment key for beacons (public: it is put in pages)' }),
  created_at: Type.Integer({ description: 'Epoch seconds' }),
});
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const ErrorRef = { $ref: 'ErrorEnvelope#' };

const out = (e: Environment) => ({
  id: e.id,
  name: e.name,
  key: e.key,
  created_at: Math.floor(e.createdAtMs / 1000),
});

export function systemEnvironmentsRoutes(app: FastifyInstance, registry: Registry): void {
  const auth = requirePermission(registry, 'system');
  const tags = ['system'];
  const security = [{ basicAuth: [] }];

  app.get<{ Querystring: { limit: number; page: number } }>(
    '/system/v1/environments',
    {
      preHandler: auth,
      schema: {
        tags,
        security,
        summary: 'List environments the token covers',
        querystring: PagingQuery,
        response: { 200: listOf(EnvironmentOut), 401: ErrorRef, 403: ErrorRef },
      },
    },
    async (request) => {
      const visible = registry.environments().filter((e) => tokenCoversEnvironment(request.token!, e.id));
      const { data, total_row_count } = pageOf(visible, request.query.limit, request.query.page);
      return { data: data.map(out), total_row_count };
    },
  );

  app.post<{ Body: { name: string } }>(
    '/system/v1/environments',
    {
      preHandler: auth,
      schema: {
        tags,
        security,
        summary: 'Create an environment (needs a token that covers all environments)',
        body: Type.Object(
          { name: Type.String({ minLength: 1, maxLength: 128 }) },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ data: EnvironmentOut }), 400: ErrorRef, 401: ErrorRef, 403: ErrorRef },
      },
    },
    async (request, reply) => {
      if (!request.token!.allEnvironments) {
        throw new ApiError('QOE_ERR_FORBIDDEN', ['Only a token that covers all environments can create one']);
      }
      const env = await registry.createEnvironment(request.body.name);
      return reply.code(201).send({ data: out(env) });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/system/v1/environments/:id',
    {
      preHandler: auth,
      schema: {
        tags,
        security,
        summary: 'Get one environment',
        params: IdParams,
        response: { 200: Type.Object({ data: EnvironmentOut }), 401: ErrorRef, 403: ErrorRef, 404: ErrorRef },
      },
    },
    async (request) => {
      const env = registry.environment(request.params.id);
      if (!env || !tokenCoversEnvironment(request.token!, env.id)) {
        throw new ApiError('QOE_ERR_NOT_FOUND', [`No environment ${request.params.id}`]);
      }
      return { data: out(env) };
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/system/v1/environments/:id',
    {
      preHandler: auth,
      schema: {
        tags,
        security,
        summary: 'Delete an environment: its key stops working; its stored data is kept',
        params: IdParams,
        response: { 204: Type.Null(), 401: ErrorRef, 403: ErrorRef, 404: ErrorRef },
      },
    },
    async (request, reply) => {
      const env = registry.environment(request.params.id);
      if (!env || !tokenCoversEnvironment(request.token!, env.id)) {
        throw new ApiError('QOE_ERR_NOT_FOUND', [`No environment ${request.params.id}`]);
      }
      await registry.deleteEnvironment(env.id);
      return reply.code(204).send();
    },
  );
}
