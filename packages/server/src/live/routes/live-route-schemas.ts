/**
 * The route schemas of live streams (/video/v1/live-streams…) and signing
 * keys (/system/v1/signing-keys): bodies, parameters and queries
 * (validated), answers (serialised with them; the live streams' from
 * packages/schema, which the dashboard reads), and their OpenAPI text.
 */
import {
  ListOf,
  LiveStreamCreatedResponse,
  LiveStreamCurrentResponse,
  LiveStreamHealthResponse,
  LiveStreamListResponse,
  LiveStreamResponse,
} from '@openqoe/schema';
import { Type } from '@sinclair/typebox';
import { PagingQuery } from '../../http/paging.js';
import { BASIC_AUTH, errorAnswers, NoContent } from '../../http/route-schema.js';

const video = { tags: ['video'], security: BASIC_AUTH };
const system = { tags: ['system'], security: BASIC_AUTH };
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const CreateBody = Type.Object(
  {
    environment_id: Type.Optional(
      Type.String({ maxLength: 64, description: 'Needed when the token covers several environments' }),
    ),
  },
  { additionalProperties: false },
);

export const STREAM_CREATE_SCHEMA = {
  ...video,
  summary: 'Create a live stream with a new secret stream key',
  body: CreateBody,
  response: { 201: LiveStreamCreatedResponse, ...errorAnswers(400, 401, 403) },
};

export const STREAM_LIST_SCHEMA = {
  ...video,
  summary: 'List live streams',
  querystring: PagingQuery,
  response: { 200: LiveStreamListResponse, ...errorAnswers(401, 403) },
};

export const STREAM_GET_SCHEMA = {
  ...video,
  summary: 'Get one live stream',
  params: IdParams,
  response: { 200: LiveStreamResponse, ...errorAnswers(401, 403, 404) },
};

export const STREAM_DELETE_SCHEMA = {
  ...video,
  summary: 'Delete a live stream: its key stops working and a connected encoder is dropped',
  params: IdParams,
  response: { 204: NoContent, ...errorAnswers(401, 403, 404) },
};

export const STREAM_HEALTH_SCHEMA = {
  ...video,
  summary: 'Ingest health history of a live stream (one row per interval while connected)',
  params: IdParams,
  querystring: Type.Object(
    {
      since: Type.Optional(
        Type.Integer({ minimum: 0, description: 'Epoch seconds; default: the last hour' }),
      ),
      limit: Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 }),
    },
    { additionalProperties: false },
  ),
  response: { 200: LiveStreamHealthResponse, ...errorAnswers(400, 401, 403, 404) },
};

export const STREAM_CURRENT_SCHEMA = {
  ...video,
  summary: 'Ingest health and viewer counts of a live stream now',
  params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
  response: { 200: LiveStreamCurrentResponse, ...errorAnswers(401, 403, 404) },
};

const SigningKey = Type.Object({
  id: Type.String({ description: 'The kid of tokens signed with this key' }),
  environment_id: Type.String(),
  created_at: Type.String({ description: 'Epoch seconds (a string, as the reference answers)' }),
});
const CreatedSigningKey = Type.Composite([
  SigningKey,
  Type.Object({
    private_key: Type.String({ description: 'Base64 of a PEM RSA private key; shown once: keep it now' }),
  }),
]);

export const KEY_CREATE_SCHEMA = {
  ...system,
  summary: 'Create a 2048-bit RSA signing key; the private key is in this response only',
  body: CreateBody,
  response: { 201: Type.Object({ data: CreatedSigningKey }), ...errorAnswers(400, 401, 403) },
};

export const KEY_LIST_SCHEMA = {
  ...system,
  summary: 'List signing keys (never private keys)',
  querystring: PagingQuery,
  response: { 200: ListOf(SigningKey), ...errorAnswers(401, 403) },
};

export const KEY_GET_SCHEMA = {
  ...system,
  summary: 'Get one signing key (without its private key)',
  params: IdParams,
  response: { 200: Type.Object({ data: SigningKey }), ...errorAnswers(401, 403, 404) },
};

export const KEY_DELETE_SCHEMA = {
  ...system,
  summary: 'Delete a signing key: tokens signed with it stop working at once',
  params: IdParams,
  response: { 204: NoContent, ...errorAnswers(401, 403, 404) },
};
