/**
 * How an intake's requests end, counted the same way for every intake
 * (`openqoe_intake_*{source}`): accepted, or refused with the one error
 * envelope. A refused payload is kept in rejected_payloads (rejected-recorder.ts)
 * unless it was refused only for rate or back-pressure: those are good
 * payloads, counted but not kept as bad input.
 */
import { ERROR_CODES, type ErrorField } from '@openqoe/schema';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { type ApiError, sendError, toApiError } from '../../http/api-error.js';
import type { IntakeDeps, IntakeSource } from './intake-deps.js';

type Counter = { inc(value?: number): void };

type ErrorHandler = (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => unknown;

export class IntakeOutcomes {
  private readonly beaconsAccepted: Counter;
  private readonly samplesAccepted: Counter;
  private readonly eventsAccepted: Counter;

  /**
   * `route` is what rejected_payloads records the refusals under; without one,
   * the URL the request was sent to (the Mux listener: `/`, `/android`).
   */
  constructor(
    private readonly deps: Pick<IntakeDeps, 'metrics' | 'rejected'>,
    private readonly source: IntakeSource,
    private readonly route?: string,
  ) {
    // Children looked up once: the accepted path runs for every request.
    this.beaconsAccepted = deps.metrics.beacons.labels(source, 'accepted');
    this.samplesAccepted = deps.metrics.samplesAccepted.labels(source);
    this.eventsAccepted = deps.metrics.eventsAccepted.labels(source);
  }

  /**
   * Counts an accepted request; `samples` only where the format has samples (native beacons);
   * `ignored`, keys dropped from its otherwise good items, by key (a field path ends in its key).
   */
  accepted(events: number, samples?: number, ignored: readonly ErrorField[] = []): void {
    this.beaconsAccepted.inc();
    if (samples !== undefined) this.samplesAccepted.inc(samples);
    this.eventsAccepted.inc(events);
    for (const f of ignored)
      this.deps.metrics.keysIgnored.labels(this.source, f.path.slice(f.path.lastIndexOf('.') + 1)).inc();
  }

  /**
   * Answers a request the handler threw `err` for: a refusal (any ApiError but
   * 500) is counted, kept and answered with the envelope; anything else is
   * thrown on to the enclosing error handler. `body` is the payload as far as
   * it was decoded (the decompressed bytes when it was gzip), `sampleCount`
   * the samples it held, when that is known.
   */
  refuse(
    request: FastifyRequest,
    reply: FastifyReply,
    err: unknown,
    envId: string | null,
    body: Buffer | undefined,
    sampleCount = 0,
  ): FastifyReply {
    const apiErr = toApiError(err);
    if (apiErr.code === 'QOE_ERR_INTERNAL') throw err;
    return this.answer(request, reply, apiErr, envId, body, sampleCount);
  }

  /**
   * The error handler for what fails before the handler runs (a body over the
   * size limit, a broken upload): refused like the handler's refusals, with no
   * environment and no body kept. Errors that are not refusals go to
   * `onInternal`, by default to the enclosing error handler.
   */
  errorHandler(onInternal: ErrorHandler = (err, _request, reply) => reply.send(err)): ErrorHandler {
    return (err, request, reply) => {
      const apiErr = toApiError(err);
      if (apiErr.code === 'QOE_ERR_INTERNAL') return onInternal(err, request, reply);
      return this.answer(request, reply, apiErr, null, undefined, 0);
    };
  }

  private answer(
    request: FastifyRequest,
    reply: FastifyReply,
    err: ApiError,
    envId: string | null,
    body: Buffer | undefined,
    sampleCount: number,
  ): FastifyReply {
    const { metrics, rejected } = this.deps;
    metrics.beacons.labels(this.source, err.code).inc();
    if (sampleCount > 0) metrics.samplesRejected.labels(this.source, err.code).inc(sampleCount);
    // Nothing to learn from a body the client never finished sending.
    if (!['QOE_ERR_RATE_LIMITED', 'QOE_ERR_BACKLOG_FULL', 'QOE_ERR_REQUEST_ABORTED'].includes(err.code)) {
      rejected.record({
        envId,
        ip: request.ip,
        userAgent: request.headers['user-agent'] ?? '',
        route: this.route ?? request.url,
        code: err.code,
        // The messages the client was answered, the code's default one included.
        messages: err.messages ?? [ERROR_CODES[err.code].message],
        fields: err.fields,
        body,
        bodyBytes: Number(request.headers['content-length'] ?? body?.length ?? 0),
      });
    }
    return sendError(reply, err);
  }
}
