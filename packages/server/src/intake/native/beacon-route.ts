/**
 * `POST /v1/beacon`: the native intake. Decode → parse → environment key →
 * rate limits → validate → publish to the bus → 202 once durable.
 *
 * The body is taken as raw bytes whatever the content type (sendBeacon sends
 * text/plain to avoid a CORS preflight), parsed once, and the same bytes go
 * to the log, so an accepted beacon is stored exactly as it was sent.
 * `?backfill=true` (backfill.ts) lets an admin load history on its own days.
 */
import { BeaconSchema, ERROR_CODES, type ErrorCode, validateBeacon } from '@openqoe/schema';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Registry } from '../../auth/registry.js';
import { type Bus, BusFullError } from '../../bus/bus.js';
import { encodeIntakeRecord, type IntakeMeta, type IntakeRecord } from '../../bus/intake-record.js';
import type { Config } from '../../config/config-schema.js';
import { ApiError, sendError, toApiError } from '../../http/api-error.js';
import type { Metrics } from '../../observability/metrics.js';
import { type DecodedBody, decodeBody, parseJson } from '../kit/decode-body.js';
import { RateLimiter } from '../kit/rate-limiter.js';
import { rawBodyParser } from '../kit/raw-body.js';
import type { RejectedRecorder } from '../kit/rejected-recorder.js';
import { authorizeBackfill, clockOffsetMs, requireBackfillEnvironment } from './backfill.js';

const ROUTE = '/v1/beacon';
const ACCEPTED_TYPES = new Set(['', 'text/plain', 'application/json', 'application/octet-stream']);

export interface BeaconRouteDeps {
  config: Config;
  bus: Bus;
  registry: Registry;
  metrics: Metrics;
  rejected: RejectedRecorder;
}

export async function beaconRoute(app: FastifyInstance, deps: BeaconRouteDeps): Promise<void> {
  const { config, bus, registry, metrics, rejected } = deps;
  const rl = config.intake.rateLimit;
  const perKey = new RateLimiter(rl.perEnvKeyPerSecond, rl.perEnvKeyBurst);
  const perIp = new RateLimiter(rl.perIpPerSecond, rl.perIpBurst);
  const accepted = metrics.beacons.labels('native', 'accepted');
  const samplesAccepted = metrics.samplesAccepted.labels('native');
  const eventsAccepted = metrics.eventsAccepted.labels('native');

  // Raw bytes for every content type: this route parses its own body.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { bodyLimit: config.intake.maxBodyBytes },
    rawBodyParser(config.intake.maxBodyBytes),
  );

  const refuse = (
    request: FastifyRequest,
    reply: FastifyReply,
    err: ApiError,
    envId: string | null,
    body: Buffer | undefined,
    sampleCount: number,
  ) => {
    metrics.beacons.labels('native', err.code).inc();
    if (sampleCount > 0) metrics.samplesRejected.labels('native', err.code).inc(sampleCount);
    // Rate limiting and back-pressure refuse good payloads: counted, not kept as bad input.
    if (err.code !== 'QOE_ERR_RATE_LIMITED' && err.code !== 'QOE_ERR_BACKLOG_FULL') {
      rejected.record({
        envId,
        ip: request.ip,
        userAgent: request.headers['user-agent'] ?? '',
        route: ROUTE,
        code: err.code,
        // The messages the client was answered, the code's default one included.
        messages: err.messages ?? [ERROR_CODES[err.code].message],
        fields: err.fields,
        body,
        bodyBytes: Number(request.headers['content-length'] ?? body?.length ?? 0),
      });
    }
    return sendError(reply, err);
  };

  app.post<{ Querystring: { env_key?: string; backfill?: string }; Body: Buffer }>(
    ROUTE,
    {
      schema: {
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
          400: { $ref: 'ErrorEnvelope#' },
          401: { $ref: 'ErrorEnvelope#' },
          403: { $ref: 'ErrorEnvelope#' },
          413: { $ref: 'ErrorEnvelope#' },
          415: { $ref: 'ErrorEnvelope#' },
          429: { $ref: 'ErrorEnvelope#' },
        },
      },
      // The schema is documentation; validation is the compiled beacon validator below.
      validatorCompiler: () => () => true,
      // Size errors happen before the handler; they are refused and recorded here.
      errorHandler: (err, request, reply) => {
        const apiErr = toApiError(err);
        if (apiErr.code === 'QOE_ERR_INTERNAL') return reply.send(err);
        return refuse(request, reply, apiErr, null, undefined, 0);
      },
    },
    async (request, reply) => {
      const receivedAtMs = Date.now();
      const ip = request.ip;
      let envId: string | null = null;
      let decoded: DecodedBody | undefined;
      let sampleCount = 0;
      try {
        const contentType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        if (!ACCEPTED_TYPES.has(contentType)) {
          throw new ApiError('QOE_ERR_UNSUPPORTED_MEDIA_TYPE', [
            `Content-Type ${contentType} is not accepted; send text/plain`,
          ]);
        }
        const backfill = authorizeBackfill(registry, request.query.backfill, request.headers.authorization);
        const wait = backfill ? 0 : perIp.take(ip, receivedAtMs);
        if (wait > 0)
          throw new ApiError('QOE_ERR_RATE_LIMITED', [`Too many beacons from ${ip}`], [], {
            'retry-after': String(wait),
          });

        decoded = decodeBody(
          request.body,
          request.headers['content-encoding'],
          config.intake.maxDecompressedBytes,
        );
        const parsed = parseJson(decoded.text);
        // `null` is valid JSON: optional chaining so it reaches validation (400), not a TypeError (500).
        const samples = (parsed as { samples?: unknown } | null)?.samples;
        if (Array.isArray(samples)) sampleCount = samples.length;

        const bodyKey = (parsed as { envKey?: unknown } | null)?.envKey;
        const envKey = typeof bodyKey === 'string' ? bodyKey : request.query.env_key;
        if (!envKey) throw new ApiError('QOE_ERR_MISSING_ENV_KEY');
        const env = registry.environmentByKey(envKey);
        if (!env)
          throw new ApiError('QOE_ERR_UNKNOWN_ENV_KEY', [
            `Unknown environment key ${JSON.stringify(envKey.slice(0, 64))}`,
          ]);
        envId = env.id;
        requireBackfillEnvironment(backfill, env.id);
        const keyWait = backfill ? 0 : perKey.take(env.id, receivedAtMs);
        if (keyWait > 0) {
          throw new ApiError('QOE_ERR_RATE_LIMITED', ['Too many beacons for this environment'], [], {
            'retry-after': String(keyWait),
          });
        }

        const result = validateBeacon(parsed);
        if (!result.ok) {
          const version = (parsed as { schemaVersion?: unknown } | null)?.schemaVersion;
          const code: ErrorCode =
            typeof version === 'number' && version !== BeaconSchema.properties.schemaVersion.const
              ? 'QOE_ERR_UNSUPPORTED_SCHEMA_VERSION'
              : 'QOE_ERR_VALIDATION';
          throw new ApiError(code, undefined, result.fields);
        }
        const beacon = result.value;

        const meta: IntakeMeta = {
          kind: 'native',
          envId: env.id,
          receivedAtMs,
          clockOffsetMs: clockOffsetMs(backfill, receivedAtMs, beacon.sentAt),
          ip,
          userAgent: request.headers['user-agent'] ?? '',
        };
        const value: IntakeRecord = { meta, beacon };
        const partitionKey = beacon.samples[0]?.viewId ?? beacon.events[0]?.viewId ?? '';
        try {
          await bus.publish(partitionKey, encodeIntakeRecord(meta, decoded.bytes), value);
        } catch (err) {
          if (err instanceof BusFullError) {
            throw new ApiError('QOE_ERR_BACKLOG_FULL', undefined, [], { 'retry-after': '1' });
          }
          request.log.error({ err }, 'bus publish failed');
          metrics.errors.labels('bus').inc();
          throw new ApiError(
            'QOE_ERR_UNAVAILABLE',
            ['The beacon could not be made durable; retry later'],
            [],
            {
              'retry-after': '1',
            },
          );
        }
        accepted.inc();
        samplesAccepted.inc(beacon.samples.length);
        eventsAccepted.inc(beacon.events.length);
        return reply.code(202).send({ samples: beacon.samples.length, events: beacon.events.length });
      } catch (err) {
        const apiErr = toApiError(err);
        if (apiErr.code === 'QOE_ERR_INTERNAL') throw err;
        return refuse(request, reply, apiErr, envId, decoded?.bytes ?? request.body, sampleCount);
      }
    },
  );
}
