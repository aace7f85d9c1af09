/**
 * The route schemas of /system/v1/notification-channels: bodies and
 * parameters (validated; each type's settings are checked key by key by the
 * notifications output, so refusals name `settings.<key>`), answers from
 * packages/schema (serialised with them), and their OpenAPI text.
 */
import {
  NotificationChannelListResponse,
  NotificationChannelResponse,
  NotificationChannelTestResponse,
  NotificationChannelType,
} from '@openqoe/schema';
import { type Static, Type } from '@sinclair/typebox';
import { PagingQuery } from '../../http/paging.js';
import { BASIC_AUTH, errorAnswers, NoContent } from '../../http/route-schema.js';

const common = { tags: ['system'], security: BASIC_AUTH };
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const Settings = Type.Object(
  {},
  {
    additionalProperties: true,
    description:
      'By type (docs/alerting.md): webhook url, signing_secret; slack webhook_url; pagerduty routing_key, events_url; ' +
      'email smtp_host, smtp_port, smtp_secure, smtp_user, smtp_password, from, to; alertmanager url, ' +
      'resend_interval_seconds; any: rate_limit_per_minute. Secrets are write-only',
  },
);

const CreateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128 }),
    type: NotificationChannelType,
    environment_id: Type.Optional(
      Type.String({ maxLength: 64, description: 'Needed when the token covers several environments' }),
    ),
    settings: Settings,
  },
  { additionalProperties: false },
);
export type CreateChannelBody = Static<typeof CreateBody>;

const UpdateBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    settings: Type.Optional(Settings),
  },
  { additionalProperties: false },
);

export const CHANNEL_LIST_SCHEMA = {
  ...common,
  summary: 'List notification channels (never their secrets)',
  querystring: Type.Composite([
    PagingQuery,
    Type.Object({
      environment_id: Type.Optional(
        Type.String({
          maxLength: 64,
          description: 'Only this environment’s channels (one the token covers)',
        }),
      ),
    }),
  ]),
  response: { 200: NotificationChannelListResponse, ...errorAnswers(401, 403) },
};

export const CHANNEL_CREATE_SCHEMA = {
  ...common,
  summary: 'Create a notification channel',
  body: CreateBody,
  response: { 201: NotificationChannelResponse, ...errorAnswers(400, 401, 403) },
};

export const CHANNEL_GET_SCHEMA = {
  ...common,
  summary: 'Get one notification channel (without its secret)',
  params: IdParams,
  response: { 200: NotificationChannelResponse, ...errorAnswers(401, 403, 404) },
};

export const CHANNEL_UPDATE_SCHEMA = {
  ...common,
  summary: 'Change a channel: its name, or the settings given (others, and a secret not given, are kept)',
  params: IdParams,
  body: UpdateBody,
  response: { 200: NotificationChannelResponse, ...errorAnswers(400, 401, 403, 404) },
};

export const CHANNEL_DELETE_SCHEMA = {
  ...common,
  summary: 'Delete a channel: what it had queued is dropped',
  params: IdParams,
  response: { 204: NoContent, ...errorAnswers(401, 403, 404) },
};

export const CHANNEL_TEST_SCHEMA = {
  ...common,
  summary: 'Send a test notification through the channel now and answer what the receiver said',
  params: IdParams,
  response: { 200: NotificationChannelTestResponse, ...errorAnswers(401, 403, 404) },
};
