/**
 * `POST /v1/beacon`: the native intake. Content type → backfill → IP rate
 * limit → decode → parse → environment key → environment rate limit →
 * validate → publish to the bus → 202 once durable.
 *
 * What is its own is the beacon format (validated by the compiled schema
 * validator, samples counted for the metrics; its OpenAPI schema and
 * refusal in beacon-schema.ts) and backfill (backfill.ts: an admin loads
 * history on its own days); every other step is the intake kit's.
 * The body is taken as raw bytes whatever the content type (sendBeacon sends
 * text/plain to avoid a CORS preflight), parsed once, and the same bytes go
 * to the log, so an accepted beacon is stored exactly as it was sent.
 */
import { validateBeacon } from '@openqoe/schema';
import type { FastifyInstance } from 'fastify';
import type { IntakeRecord } from '../../bus/intake-record.js';
import type { Config } from '../../config/config-schema.js';
import { BEACON_CONTENT_TYPES, requireContentType } from '../kit/content-type.js';
import { type DecodedBody, decodeBody, parseJson } from '../kit/decode-body.js';
import { environmentOfKey } from '../kit/environment-key.js';
import type { IntakeDeps } from '../kit/intake-deps.js';
import { IntakeOutcomes } from '../kit/outcomes.js';
import { IntakePublisher } from '../kit/publish.js';
import { IntakeRateLimits } from '../kit/rate-limiter.js';
import { takeRawBodies } from '../kit/raw-body.js';
import { authorizeBackfill, clientAddress, clockOffsetMs, requireBackfillEnvironment } from './backfill.js';
import { BEACON_SCHEMA, type BeaconRequest, invalidBeacon } from './beacon-schema.js';

const ROUTE = '/v1/beacon';

export interface BeaconRouteDeps extends IntakeDeps {
  config: Config;
}

export async function beaconRoute(app: FastifyInstance, deps: BeaconRouteDeps): Promise<void> {
  const { config, registry } = deps;
  const limits = new IntakeRateLimits(config.intake.rateLimit, 'beacons');
  const outcomes = new IntakeOutcomes(deps, 'native', ROUTE);
  const publisher = new IntakePublisher(deps.bus, deps.metrics, 'native', 'beacon');
  takeRawBodies(app, config.intake.maxBodyBytes);

  app.post<BeaconRequest>(
    ROUTE,
    {
      schema: BEACON_SCHEMA,
      // The schema is documentation; validation is the compiled beacon validator below.
      validatorCompiler: () => () => true,
      // Size errors happen before the handler; they are refused and recorded here.
      errorHandler: outcomes.errorHandler(),
    },
    async (request, reply) => {
      const receivedAtMs = Date.now();
      const ip = request.ip;
      let envId: string | null = null;
      let decoded: DecodedBody | undefined;
      let sampleCount = 0;
      try {
        requireContentType(request.headers['content-type'], BEACON_CONTENT_TYPES, 'text/plain');
        const backfill = authorizeBackfill(registry, request.query.backfill, request.headers.authorization);
        if (!backfill) limits.fromIp(ip, receivedAtMs);

        decoded = decodeBody(
          request.body,
          request.headers['content-encoding'],
          config.intake.maxDecompressedBytes,
        );
        const parsed = parseJson(decoded.text);
        // `null` is valid JSON: optional chaining so it reaches validation (400), not a TypeError (500).
        const samples = (parsed as { samples?: unknown } | null)?.samples;
        if (Array.isArray(samples)) sampleCount = samples.length;

        // The key in the body wins over the query's (sendBeacon cannot set headers; either is fine).
        const bodyKey = (parsed as { envKey?: unknown } | null)?.envKey;
        const env = environmentOfKey(registry, typeof bodyKey === 'string' ? bodyKey : request.query.env_key);
        envId = env.id;
        requireBackfillEnvironment(backfill, env.id);
        if (!backfill) limits.forEnvironment(env.id, receivedAtMs);

        const result = validateBeacon(parsed);
        if (!result.ok) throw invalidBeacon(parsed, result.fields);
        const beacon = result.value;

        const meta = publisher.meta(
          env.id,
          receivedAtMs,
          clockOffsetMs(backfill, receivedAtMs, beacon.sentAt),
          clientAddress(backfill, request.headers['x-forwarded-for'], ip),
          request.headers['user-agent'],
        );
        const value: IntakeRecord = { meta, beacon };
        const partitionKey = beacon.samples[0]?.viewId ?? beacon.events[0]?.viewId ?? '';
        // The beacon's bytes as sent go to the log, not a re-serialisation.
        try {
          await publisher.publish(partitionKey, meta, decoded.bytes, value);
        } catch (err) {
          throw publisher.failure(err, request.log);
        }
        outcomes.accepted(beacon.events.length, beacon.samples.length);
        return reply.code(202).send({ samples: beacon.samples.length, events: beacon.events.length });
      } catch (err) {
        return outcomes.refuse(request, reply, err, envId, decoded?.bytes ?? request.body, sampleCount);
      }
    },
  );
}
