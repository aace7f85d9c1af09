/**
 * Putting what an intake accepted on the bus. The answer (202/200) goes out
 * only once the bus has the record durably; a full backlog is 429, any other
 * bus failure 503, both with Retry-After, since the client keeps the data and
 * retries (records already durable are de-duplicated by sequence number).
 */
import type { FastifyBaseLogger } from 'fastify';
import { type Bus, BusFullError } from '../../bus/bus.js';
import {
  type CompatBatch,
  type CompatRecord,
  encodeIntakeRecord,
  type IntakeMeta,
} from '../../bus/intake-record.js';
import { ApiError } from '../../http/api-error.js';
import type { Metrics } from '../../observability/metrics.js';
import type { IntakeSource } from './intake-deps.js';

export class IntakePublisher {
  /**
   * `what` names the data in the 503 message ("The beacon could not be made
   * durable").
   */
  constructor(
    private readonly bus: Bus,
    private readonly metrics: Metrics,
    private readonly kind: IntakeSource,
    private readonly what: string,
  ) {}

  /** The header of the intake's bus records: environment, receive time, clock offset, client. */
  meta(
    envId: string,
    receivedAtMs: number,
    clockOffsetMs: number,
    ip: string,
    userAgent: string | undefined,
  ): IntakeMeta {
    return { kind: this.kind, envId, receivedAtMs, clockOffsetMs, ip, userAgent: userAgent ?? '' };
  }

  /**
   * Publishes one record: the header, then `body` as it is. Returns the bus's
   * own promise (no wrapper: no extra promise on the native hot path), so the
   * caller awaits it and turns a rejection into its answer with `failure`.
   */
  publish(partitionKey: string, meta: IntakeMeta, body: Buffer, value: unknown): Promise<void> {
    return this.bus.publish(partitionKey, encodeIntakeRecord(meta, body), value);
  }

  /** Publishes one record per view (partitioned by view id); resolves once every one is durable. */
  async publishViews(meta: IntakeMeta, batches: CompatBatch[], log: FastifyBaseLogger): Promise<void> {
    try {
      const record = (compat: CompatBatch): CompatRecord => ({ meta, compat });
      await Promise.all(
        batches.map((c) => this.publish(c.viewId, meta, Buffer.from(JSON.stringify(c)), record(c))),
      );
    } catch (err) {
      throw this.failure(err, log);
    }
  }

  /** The refusal a failed publish is answered with (logged and counted unless it is back-pressure). */
  failure(err: unknown, log: FastifyBaseLogger): ApiError {
    if (err instanceof BusFullError)
      return new ApiError('QOE_ERR_BACKLOG_FULL', undefined, [], { 'retry-after': '1' });
    log.error({ err }, 'bus publish failed');
    this.metrics.errors.labels('bus').inc();
    return new ApiError(
      'QOE_ERR_UNAVAILABLE',
      [`The ${this.what} could not be made durable; retry later`],
      [],
      { 'retry-after': '1' },
    );
  }
}
