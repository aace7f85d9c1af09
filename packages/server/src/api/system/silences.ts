/**
 * `/system/v1/silences`: create, list, get, replace, delete silences (access
 * token with `alerts`, only in the environments it covers). Schemas:
 * alerts-schemas.ts.
 */
import { randomUUID } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { checkSilence, type SilenceRecord, silenceAnswer } from '../../alerts/silences.js';
import { requirePermission } from '../../http/auth-hook.js';
import { pageOf } from '../../http/paging.js';
import {
  bodyDefaultsToObject,
  coveredEnvironmentIds,
  targetEnvironment,
} from '../../http/target-environment.js';
import { type AlertRoutesDeps, visibleIn } from './alert-rules.js';
import { SILENCE_SCHEMAS } from './alerts-schemas.js';

export function silencesRoutes(app: FastifyInstance, deps: AlertRoutesDeps): void {
  const { registry, engine } = deps;
  const preHandler = requirePermission(registry, 'alerts');
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const out = (s: SilenceRecord) => silenceAnswer(s, Date.now());
  const check = (envId: string, body: unknown) =>
    checkSilence(body, (id) => engine.rules.get(id)?.envId === envId, Date.now());
  const S = SILENCE_SCHEMAS;

  r.post(
    '/system/v1/silences',
    { preHandler, preValidation: bodyDefaultsToObject, attachValidation: true, schema: S.create },
    async (request, reply) => {
      const { environment_id, ...body } = request.body as Record<string, unknown>;
      const envId = targetEnvironment(registry, request.token!, environment_id as string | undefined);
      const s: SilenceRecord = { id: randomUUID(), envId, ...check(envId, body), createdAtMs: Date.now() };
      await engine.putSilence(s);
      return reply.code(201).send({ data: out(s) });
    },
  );

  r.get('/system/v1/silences', { preHandler, schema: S.list }, async (request) => {
    const envs = new Set(coveredEnvironmentIds(registry, request.token!, request.query.environment_id));
    const list = [...engine.silences.values()].filter((s) => envs.has(s.envId));
    const { data, total_row_count } = pageOf(list, request.query.limit, request.query.page);
    return { data: data.map(out), total_row_count };
  });

  const visible = (token: Parameters<typeof visibleIn>[0], id: string) =>
    visibleIn(token, engine.silences.get(id), `silence ${id}`);

  r.get('/system/v1/silences/:id', { preHandler, schema: S.get }, async (request) => ({
    data: out(visible(request.token!, request.params.id)),
  }));

  r.put(
    '/system/v1/silences/:id',
    { preHandler, attachValidation: true, schema: S.update },
    async (request) => {
      const old = visible(request.token!, request.params.id);
      const s: SilenceRecord = { ...old, ...check(old.envId, request.body) };
      await engine.putSilence(s);
      return { data: out(s) };
    },
  );

  r.delete('/system/v1/silences/:id', { preHandler, schema: S.remove }, async (request, reply) => {
    await engine.deleteSilence(visible(request.token!, request.params.id).id);
    return reply.code(204).send();
  });
}
