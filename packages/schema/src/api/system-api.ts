/**
 * Answers of the system API (/system/v1/environments, /system/v1/access-tokens):
 * the server serialises with these schemas and the dashboard reads their types.
 */
import { type Static, Type } from '@sinclair/typebox';
import { PERMISSIONS } from '../permissions.js';
import { DataOf, ListOf } from './envelope.js';

export const EnvironmentInfo = Type.Object({
  id: Type.String(),
  name: Type.String(),
  key: Type.String({ description: 'Environment key for beacons (public: it is put in pages)' }),
  created_at: Type.Integer({ description: 'Epoch seconds' }),
});
export type EnvironmentInfo = Static<typeof EnvironmentInfo>;

/** `GET /system/v1/environments/{id}`, and `POST` (201) */
export const EnvironmentResponse = DataOf(EnvironmentInfo);
export type EnvironmentResponse = Static<typeof EnvironmentResponse>;
/** `GET /system/v1/environments` */
export const EnvironmentListResponse = ListOf(EnvironmentInfo);
export type EnvironmentListResponse = Static<typeof EnvironmentListResponse>;

export const PermissionSchema = Type.Union(PERMISSIONS.map((p) => Type.Literal(p)));

export const AccessTokenInfo = Type.Object({
  id: Type.String(),
  name: Type.String(),
  permissions: Type.Array(PermissionSchema),
  environment_ids: Type.Array(Type.String()),
  all_environments: Type.Boolean(),
  created_at: Type.Integer({ description: 'Epoch seconds' }),
});
export type AccessTokenInfo = Static<typeof AccessTokenInfo>;

/** `GET /system/v1/access-tokens/{id}` */
export const AccessTokenResponse = DataOf(AccessTokenInfo);
export type AccessTokenResponse = Static<typeof AccessTokenResponse>;
/** `POST /system/v1/access-tokens` (201): the only answer with the secret. */
export const CreatedAccessTokenResponse = DataOf(
  Type.Composite([
    AccessTokenInfo,
    Type.Object({ secret: Type.String({ description: 'Shown once: keep it now' }) }),
  ]),
);
export type CreatedAccessTokenResponse = Static<typeof CreatedAccessTokenResponse>;
/** `GET /system/v1/access-tokens` */
export const AccessTokenListResponse = ListOf(AccessTokenInfo);
export type AccessTokenListResponse = Static<typeof AccessTokenListResponse>;
