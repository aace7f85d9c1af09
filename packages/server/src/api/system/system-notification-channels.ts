/**
 * `/system/v1/notification-channels`: create, list, get, update, delete and
 * test-send alert notification channels (access token with `alerts`; a token
 * sees only its environments' channels). Secrets are write-only: answers
 * say `has_secret`. Schemas: notification-channel-schemas.ts.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { NotificationChannelInfo } from '@openqoe/schema';
import type { FastifyInstance } from 'fastify';
import { type AuthenticatedToken, type Registry, tokenCoversEnvironment } from '../../auth/registry.js';
import { ApiError } from '../../http/api-error.js';
import { requirePermission } from '../../http/auth-hook.js';
import { pageOf } from '../../http/paging.js';
import { coveredEnvironmentIds, targetEnvironment } from '../../http/target-environment.js';
import {
  ChannelSettingsError,
  type ChannelType,
  secretKey,
} from '../../outputs/notifications/channel-settings.js';
import type { ChannelNotifier } from '../../outputs/notifications/notifier.js';
import type { NotificationChannelRecord } from '../../store/notification-channel-store.js';
import {
  CHANNEL_CREATE_SCHEMA,
  CHANNEL_DELETE_SCHEMA,
  CHANNEL_GET_SCHEMA,
  CHANNEL_LIST_SCHEMA,
  CHANNEL_TEST_SCHEMA,
  CHANNEL_UPDATE_SCHEMA,
} from './notification-channel-schemas.js';

const PATH = '/system/v1/notification-channels';

function out(c: NotificationChannelRecord): NotificationChannelInfo {
  const secret = secretKey(c.type as ChannelType);
  return {
    id: c.id,
    environment_id: c.envId,
    name: c.name,
    type: c.type as ChannelType,
    settings: c.settings,
    has_secret: secret !== undefined && c.secrets[secret] !== undefined,
    created_at: new Date(c.createdAtMs).toISOString(),
    updated_at: new Date(c.updatedAtMs).toISOString(),
  };
}

/** Settings refused by the type's checks: 400 naming each field. */
async function checked<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ChannelSettingsError) throw new ApiError('QOE_ERR_VALIDATION', undefined, err.fields);
    throw err;
  }
}

export function systemNotificationChannelsRoutes(
  app: FastifyInstance,
  registry: Registry,
  notifier: ChannelNotifier,
): void {
  const preHandler = requirePermission(registry, 'alerts');
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { channels } = notifier;
  const visible = (token: AuthenticatedToken, id: string) => {
    const c = channels.get(id);
    if (!c || !tokenCoversEnvironment(token, c.envId))
      throw new ApiError('QOE_ERR_NOT_FOUND', [`No notification channel ${id}`]);
    return c;
  };

  r.post(PATH, { preHandler, schema: CHANNEL_CREATE_SCHEMA }, async (request, reply) => {
    const { name, type, settings, environment_id } = request.body;
    const envId = targetEnvironment(registry, request.token!, environment_id);
    const c = await checked(() => channels.create(envId, { name, type, settings }));
    return reply.code(201).send({ data: out(c) });
  });

  r.get(PATH, { preHandler, schema: CHANNEL_LIST_SCHEMA }, async (request) => {
    const envs = new Set(coveredEnvironmentIds(registry, request.token!, request.query.environment_id));
    const list = channels.list().filter((c) => envs.has(c.envId));
    const { data, total_row_count } = pageOf(list, request.query.limit, request.query.page);
    return { data: data.map(out), total_row_count };
  });

  r.get(`${PATH}/:id`, { preHandler, schema: CHANNEL_GET_SCHEMA }, async (request) => ({
    data: out(visible(request.token!, request.params.id)),
  }));

  r.patch(`${PATH}/:id`, { preHandler, schema: CHANNEL_UPDATE_SCHEMA }, async (request) => {
    const c = visible(request.token!, request.params.id);
    return { data: out(await checked(() => channels.update(c.id, request.body))) };
  });

  r.delete(`${PATH}/:id`, { preHandler, schema: CHANNEL_DELETE_SCHEMA }, async (request, reply) => {
    await channels.delete(visible(request.token!, request.params.id).id);
    return reply.code(204).send();
  });

  r.post(`${PATH}/:id/test`, { preHandler, schema: CHANNEL_TEST_SCHEMA }, async (request) => {
    const c = visible(request.token!, request.params.id);
    const { delivered, said } = await notifier.test(c, registry.environment(c.envId)?.name ?? c.envId);
    return { data: { delivered, receiver_said: said } };
  });
}
