/**
 * What `POST /v1/beacon` tells the OpenAPI document, and how an invalid
 * beacon is refused. The schema is documentation only: the route turns
 * Fastify's validation off (the body arrives as raw bytes, the query
 * unparsed) and validates with the compiled beacon validator.
 */
import { BeaconSchema, type ErrorCode, type ErrorField } from '@openqoe/schema';
import { Type } from '@sinclair/typebox';
import { ApiError } from '../../http/api-error.js';
import { errorAnswers } from '../../http/route-schema.js';

/** The request as the handler reads it (no validation has typed it). */
export interface BeaconRequest {
  Querystring: { env_key?: string; backfill?: string };
  Body: Buffer;
}

export const BEACON_SCHEMA = {
  tags: ['intake'],
  summary: 'Send samples and events (native collector beacon)',
  description:
    'Body: a Beacon as JSON, sent as text/plain (no CORS preflight) or application/json, optionally gzip ' +
    '(Content-Encoding: gzip, or detected by its magic bytes). Answered 202 only once the beacon is durable. ' +
    'The whole beacon is refused if any field is invalid, with every bad field named.',
  querystring: Type.Object({
    env_key: Type.Optional(Type.String({ maxLength: 64 })),
    backfill: Type.Optional(
      Type.Boolean({
        description:
          'Admin only (access token with the system permission for the environment, HTTP Basic): trust ' +
          'the device clock (clock offset 0) so historical views land on their own days; no rate limits',
      }),
    ),
  }),
  body: BeaconSchema,
  response: {
    202: Type.Object({ samples: Type.Integer(), events: Type.Integer() }),
    ...errorAnswers(400, 401, 403, 413, 415, 429),
  },
};

/** A beacon the validator refused: an unsupported schemaVersion says so, anything else is a validation error. */
export function invalidBeacon(parsed: unknown, fields: ErrorField[]): ApiError {
  const version = (parsed as { schemaVersion?: unknown } | null)?.schemaVersion;
  const code: ErrorCode =
    typeof version === 'number' && version !== BeaconSchema.properties.schemaVersion.const
      ? 'QOE_ERR_UNSUPPORTED_SCHEMA_VERSION'
      : 'QOE_ERR_VALIDATION';
  return new ApiError(code, undefined, fields);
}
