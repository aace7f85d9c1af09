/**
 * `/system/v1/signing-keys`: create, list, get, delete the RSA keys that
 * sign stats API tokens (access token with `system`). The private key is in
 * the create response only; several keys may be active for rotation.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { type Registry, tokenCoversEnvironment } from '../../auth/registry.js';
import { ApiError } from '../../http/api-error.js';
import { requirePermission } from '../../http/auth-hook.js';
import { listOf, PagingQuery, pageOf } from '../../http/paging.js';
import { bodyDefaultsToObject, targetEnvironment } from '../../http/target-environment.js';
import type { SigningKey, SigningKeys } from '../signing-keys.js';

const KeyOut = Type.Object({
  id: Type.String({ description: 'The kid of tokens signed with this key' }),
  environment_id: Type.String(),
  created_at: Type.String({ description: 'Epoch seconds (a string, as the reference answers)' }),
});
const CreatedKeyOut = Type.Composite([
  KeyOut,
  Type.Object({
    private_key: Type.String({ description: 'Base64 of a PEM RSA private key; shown once: keep it now' }),
  }),
]);
const CreateBody = Type.Object(
  {
    environment_id: Type.Optional(
      Type.String({ maxLength: 64, description: 'Needed when the token covers several environments' }),
    ),
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const ErrorRef = { $ref: 'ErrorEnvelope#' };

const out = (k: SigningKey) => ({
  id: k.id,
  environment_id: k.envId,
  created_at: String(Math.floor(k.createdAtMs / 1000)),
});

export function systemSigningKeysRoutes(app: FastifyInstance, registry: Registry, keys: SigningKeys): void {
  const auth = requirePermission(registry, 'system');
  const tags = ['system'];
  const security = [{ basicAuth: [] }];
  const visibleKey = (request: { token?: Parameters<typeof tokenCoversEnvironment>[0] }, id: string) => {
    const k = keys.get(id);
    if (!k || !tokenCoversEnvironment(request.token!, k.envId))
      throw new ApiError('QOE_ERR_NOT_FOUND', [`No signing key ${id}`]);
    return k;
  };

  app.post<{ Body: { environment_id?: string } }>(
    '/system/v1/signing-keys',
    {
      preHandler: auth,
      preValidation: bodyDefaultsToObject,
      schema: {
        tags,
        security,
        summary: 'Create a 2048-bit RSA signing key; the private key is in this response only',
        body: CreateBody,
        response: { 201: Type.Object({ data: CreatedKeyOut }), 400: ErrorRef, 401: ErrorRef, 403: ErrorRef },
      },
    },
    async (request, reply) => {
      const envId = targetEnvironment(registry, request.token!, request.body.environment_id);
      const { key, privateKeyBase64 } = await keys.create(envId);
      return reply.code(201).send({ data: { ...out(key), private_key: privateKeyBase64 } });
    },
  );

  app.get<{ Querystring: { limit: number; page: number } }>(
    '/system/v1/signing-keys',
    {
      preHandler: auth,
      schema: {
        tags,
        security,
        summary: 'List signing keys (never private keys)',
        querystring: PagingQuery,
        response: { 200: listOf(KeyOut), 401: ErrorRef, 403: ErrorRef },
      },
    },
    async (request) => {
      const list = keys.list().filter((k) => tokenCoversEnvironment(request.token!, k.envId));
      const { data, total_row_count } = pageOf(list, request.query.limit, request.query.page);
      return { data: data.map(out), total_row_count };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/system/v1/signing-keys/:id',
    {
      preHandler: auth,
      schema: {
        tags,
        security,
        summary: 'Get one signing key (without its private key)',
        params: IdParams,
        response: { 200: Type.Object({ data: KeyOut }), 401: ErrorRef, 403: ErrorRef, 404: ErrorRef },
      },
    },
    async (request) => ({ data: out(visibleKey(request, request.params.id)) }),
  );

  app.delete<{ Params: { id: string } }>(
    '/system/v1/signing-keys/:id',
    {
      preHandler: auth,
      schema: {
        tags,
        security,
        summary: 'Delete a signing key: tokens signed with it stop working at once',
        params: IdParams,
        response: { 204: Type.Null(), 401: ErrorRef, 403: ErrorRef, 404: ErrorRef },
      },
    },
    async (request, reply) => {
      const k = visibleKey(request, request.params.id);
      await keys.delete(k.id);
      return reply.code(204).send();
    },
  );
}
