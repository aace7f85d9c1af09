/**
 * `/system/v1/alert-rules`: create, list, get, replace, delete alert rules
 * (access token with `alerts`, only in the environments it covers). Rules
 * from the config file are listed with `source: "config"` and cannot be
 * changed here (409). Schemas: alerts-schemas.ts.
 */
import { randomUUID } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { AlertEngine } from '../../alerts/alert-engine.js';
import { checkRule, type Rule, type RuleSpec, ruleAnswer } from '../../alerts/alert-rules.js';
import { backtest } from '../../alerts/backtest.js';
import type { SeriesHistory } from '../../alerts/series-history.js';
import { type AuthenticatedToken, type Registry, tokenCoversEnvironment } from '../../auth/registry.js';
import { ApiError } from '../../http/api-error.js';
import { requirePermission } from '../../http/auth-hook.js';
import { pageOf } from '../../http/paging.js';
import {
  bodyDefaultsToObject,
  coveredEnvironmentIds,
  targetEnvironment,
} from '../../http/target-environment.js';
import { BACKTEST_SCHEMAS, RULE_SCHEMAS } from './alerts-schemas.js';

export interface AlertRoutesDeps {
  registry: Registry;
  engine: AlertEngine;
  /** The notifications output's channels (rules refuse unknown ids). */
  notifier: { hasChannel(envId: string, channelId: string): Promise<boolean> };
  /** The per-series minute history backtests replay, and the days it keeps. */
  history: Pick<SeriesHistory, 'read' | 'dimension'>;
  historyDays: number;
}

/** The thing of `id` a token may see, or 404 (another environment's is as absent as a missing one). */
export function visibleIn<T extends { envId: string }>(
  token: AuthenticatedToken,
  found: T | undefined,
  what: string,
): T {
  if (!found || !tokenCoversEnvironment(token, found.envId))
    throw new ApiError('QOE_ERR_NOT_FOUND', [`No ${what}`]);
  return found;
}

export function alertRulesRoutes(app: FastifyInstance, deps: AlertRoutesDeps): void {
  const { registry, engine } = deps;
  const preHandler = requirePermission(registry, 'alerts');
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const out = (rule: Rule) =>
    ruleAnswer(rule, engine.openIncidents(rule.id).length, engine.verdicts.get(rule.id));
  const check = (envId: string, body: unknown) =>
    checkRule(body, (id) => deps.notifier.hasChannel(envId, id));
  const changeable = (token: AuthenticatedToken, id: string) => {
    const rule = visibleIn(token, engine.rules.get(id), `alert rule ${id}`);
    if (rule.source === 'config')
      throw new ApiError('QOE_ERR_CONFLICT', [
        `Alert rule ${id} comes from the config file (alerts.rules): change it there`,
      ]);
    return rule;
  };

  const S = RULE_SCHEMAS;
  r.post(
    '/system/v1/alert-rules',
    { preHandler, preValidation: bodyDefaultsToObject, attachValidation: true, schema: S.create },
    async (request, reply) => {
      const { environment_id, ...body } = request.body as Record<string, unknown>;
      const envId = targetEnvironment(registry, request.token!, environment_id as string | undefined);
      const nowMs = Date.now();
      const rule: Rule = {
        id: randomUUID(),
        envId,
        source: 'api',
        spec: await check(envId, body),
        createdAtMs: nowMs,
        updatedAtMs: nowMs,
      };
      await engine.putRule(rule);
      return reply.code(201).send({ data: out(rule) });
    },
  );

  r.get('/system/v1/alert-rules', { preHandler, schema: S.list }, async (request) => {
    const envs = new Set(coveredEnvironmentIds(registry, request.token!, request.query.environment_id));
    const list = [...engine.rules.values()].filter((x) => envs.has(x.envId));
    const { data, total_row_count } = pageOf(list, request.query.limit, request.query.page);
    return { data: data.map(out), total_row_count };
  });

  r.get('/system/v1/alert-rules/:id', { preHandler, schema: S.get }, async (request) => ({
    data: out(
      visibleIn(request.token!, engine.rules.get(request.params.id), `alert rule ${request.params.id}`),
    ),
  }));

  r.put(
    '/system/v1/alert-rules/:id',
    { preHandler, attachValidation: true, schema: S.update },
    async (request) => {
      const old = changeable(request.token!, request.params.id);
      const rule: Rule = { ...old, spec: await check(old.envId, request.body), updatedAtMs: Date.now() };
      await engine.putRule(rule);
      return { data: out(rule) };
    },
  );

  const replay = (spec: RuleSpec, envId: string, days: number | undefined) => {
    const toMs = Date.now();
    return backtest(spec, envId, deps.history, toMs - (days ?? deps.historyDays) * 86_400_000, toMs);
  };
  r.post(
    '/system/v1/alert-rules/backtest',
    {
      preHandler,
      preValidation: bodyDefaultsToObject,
      attachValidation: true,
      schema: BACKTEST_SCHEMAS.draft,
    },
    async (request) => {
      // The body is checked by checkRule (every field named); a bad `days` is refused as Fastify found it.
      if (request.validationError?.validationContext === 'querystring') throw request.validationError;
      const { environment_id, ...body } = request.body as Record<string, unknown>;
      const envId = targetEnvironment(registry, request.token!, environment_id as string | undefined);
      return { data: await replay(await check(envId, body), envId, request.query.days) };
    },
  );

  r.get(
    '/system/v1/alert-rules/:id/backtest',
    { preHandler, schema: BACKTEST_SCHEMAS.saved },
    async (request) => {
      const rule = visibleIn(
        request.token!,
        engine.rules.get(request.params.id),
        `alert rule ${request.params.id}`,
      );
      return { data: await replay(rule.spec, rule.envId, request.query.days) };
    },
  );

  r.delete('/system/v1/alert-rules/:id', { preHandler, schema: S.remove }, async (request, reply) => {
    await engine.deleteRule(changeable(request.token!, request.params.id));
    return reply.code(204).send();
  });
}
