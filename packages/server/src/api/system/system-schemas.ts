/**
 * The system API's route schemas (environments and access tokens): bodies
 * and parameters (validated), answers from packages/schema (serialised with
 * them), and what the OpenAPI document says of each route.
 */
import {
  AccessTokenListResponse,
  AccessTokenResponse,
  CreatedAccessTokenResponse,
  EnvironmentListResponse,
  EnvironmentResponse,
  PermissionSchema,
} from '@openqoe/schema';
import { type Static, Type } from '@sinclair/typebox';
import { PagingQuery } from '../../http/paging.js';
import { BASIC_AUTH, errorAnswers, NoContent } from '../../http/route-schema.js';

const common = { tags: ['system'], security: BASIC_AUTH };
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

export const ENVIRONMENT_LIST_SCHEMA = {
  ...common,
  summary: 'List environments the token covers',
  querystring: PagingQuery,
  response: { 200: EnvironmentListResponse, ...errorAnswers(401, 403) },
};

export const ENVIRONMENT_CREATE_SCHEMA = {
  ...common,
  summary: 'Create an environment (needs a token that covers all environments)',
  body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 128 }) }, { additionalProperties: false }),
  response: { 201: EnvironmentResponse, ...errorAnswers(400, 401, 403) },
};

export const ENVIRONMENT_GET_SCHEMA = {
  ...common,
  summary: 'Get one environment',
  params: IdParams,
  response: { 200: EnvironmentResponse, ...errorAnswers(401, 403, 404) },
};

export const ENVIRONMENT_DELETE_SCHEMA = {
  ...common,
  summary: 'Delete an environment: its key stops working; its stored data is kept',
  params: IdParams,
  response: { 204: NoContent, ...errorAnswers(401, 403, 404) },
};

const CreateTokenBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128 }),
    permissions: Type.Array(PermissionSchema, { minItems: 1 }),
    environment_ids: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 1000 })),
    all_environments: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type CreateTokenBody = Static<typeof CreateTokenBody>;

export const TOKEN_LIST_SCHEMA = {
  ...common,
  summary: 'List access tokens (never their secrets)',
  querystring: PagingQuery,
  response: { 200: AccessTokenListResponse, ...errorAnswers(401, 403) },
};

export const TOKEN_CREATE_SCHEMA = {
  ...common,
  summary: 'Create an access token; the secret is in this response only',
  body: CreateTokenBody,
  response: { 201: CreatedAccessTokenResponse, ...errorAnswers(400, 401, 403) },
};

export const TOKEN_GET_SCHEMA = {
  ...common,
  summary: 'Get one access token (without its secret)',
  params: IdParams,
  response: { 200: AccessTokenResponse, ...errorAnswers(401, 403, 404) },
};

export const TOKEN_DELETE_SCHEMA = {
  ...common,
  summary: 'Delete (revoke) an access token',
  params: IdParams,
  response: { 204: NoContent, ...errorAnswers(401, 403, 404, 409) },
};
