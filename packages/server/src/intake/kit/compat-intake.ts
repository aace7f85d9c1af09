/**
 * What the drop-in intakes (Mux protocol, CMCD) share: choosing the
 * environment from the key the SDK sends, refusing with the one error
 * envelope (and keeping the refused payload), and publishing one bus record
 * per view, so the bus partitions them by view id like native beacons.
 */
import { ERROR_CODES } from '@openqoe/schema';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Registry } from '../../auth/registry.js';
import { type Bus, BusFullError } from '../../bus/bus.js';
import {
  type CompatBatch,
  type CompatRecord,
  encodeIntakeRecord,
  type IntakeMeta,
} from '../../bus/intake-record.js';
import { ApiError, sendError } from '../../http/api-error.js';
import type { Metrics } from '../../observability/metrics.js';
import type { RejectedRecorder } from './rejected-recorder.js';

export interface CompatDeps {
  bus: Bus;
  registry: Registry;
  metrics: Metrics;
  rejected: RejectedRecorder;
}

/**
 * The environment of a key an SDK sends: a configured mapping first, else
 * the key itself when it is an openqoe environment key.
 */
export function compatEnvironment(
  registry: Registry,
  envKeys: Record<string, string>,
  sentKey: string,
): { id: string } {
  const mapped = envKeys[sentKey];
  const env = registry.environmentByKey(mapped ?? sentKey);
  if (!env) {
    throw new ApiError('QOE_ERR_UNKNOWN_ENV_KEY', [
      mapped
        ? `env_key ${JSON.stringify(sentKey.slice(0, 64))} maps to an openqoe environment key that does not exist`
        : `Unknown env_key ${JSON.stringify(sentKey.slice(0, 64))}: add it to compat's envKeys or use an openqoe environment key`,
    ]);
  }
  return env;
}

/** Publishes one record per view; resolves once every one is durable. */
export async function publishCompat(
  deps: CompatDeps,
  meta: IntakeMeta,
  batches: CompatBatch[],
  log: FastifyRequest['log'],
): Promise<void> {
  try {
    await Promise.all(
      batches.map((compat) => {
        const value: CompatRecord = { meta, compat };
        return deps.bus.publish(
          compat.viewId,
          encodeIntakeRecord(meta, Buffer.from(JSON.stringify(compat))),
          value,
        );
      }),
    );
  } catch (err) {
    if (err instanceof BusFullError)
      throw new ApiError('QOE_ERR_BACKLOG_FULL', undefined, [], { 'retry-after': '1' });
    log.error({ err }, 'bus publish failed');
    deps.metrics.errors.labels('bus').inc();
    // Records already durable are de-duplicated by sequence number when the client retries.
    throw new ApiError('QOE_ERR_UNAVAILABLE', ['The data could not be made durable; retry later'], [], {
      'retry-after': '1',
    });
  }
}

/** Answers with the error envelope, counts it, and keeps the payload unless it was only rate or back-pressure. */
export function refuseCompat(
  deps: CompatDeps,
  source: 'mux' | 'cmcd',
  route: string,
  request: FastifyRequest,
  reply: FastifyReply,
  err: ApiError,
  envId: string | null,
  body: Buffer | undefined,
): FastifyReply {
  deps.metrics.beacons.labels(source, err.code).inc();
  if (err.code !== 'QOE_ERR_RATE_LIMITED' && err.code !== 'QOE_ERR_BACKLOG_FULL') {
    deps.rejected.record({
      envId,
      ip: request.ip,
      userAgent: request.headers['user-agent'] ?? '',
      route,
      code: err.code,
      messages: err.messages ?? [ERROR_CODES[err.code].message],
      fields: err.fields,
      body,
      bodyBytes: Number(request.headers['content-length'] ?? body?.length ?? 0),
    });
  }
  return sendError(reply, err);
}
