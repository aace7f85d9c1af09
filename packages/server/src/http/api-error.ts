/**
 * Errors as data: handlers throw an ApiError (or return one through
 * `sendError`), and one error handler turns everything — including Fastify's
 * own validation and body-limit errors — into the one envelope. No stack
 * trace ever reaches a client.
 */
import { ERROR_CODES, type ErrorCode, type ErrorField, errorEnvelope } from '@openqoe/schema';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly messages?: string[],
    readonly fields: ErrorField[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(messages?.join('; ') ?? ERROR_CODES[code].message);
    this.name = 'ApiError';
  }
}

export function sendError(reply: FastifyReply, err: ApiError): FastifyReply {
  for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
  return reply.code(ERROR_CODES[err.code].status).send(errorEnvelope(err.code, err.messages, err.fields));
}

/** Fastify's ajv errors → our field paths ("/limit" → "limit", "querystring/limit"). */
function fieldsFromValidation(err: FastifyError): ErrorField[] {
  const where = err.validationContext ?? 'body';
  const errors = err.validation ?? [];
  // A union of literals (an enum such as a permission) fails once per member ("must be equal to
  // constant") and once as a whole ("must match a schema in anyOf"): one line listing the choices instead.
  const unions = new Set(errors.filter((v) => v.keyword === 'anyOf').map((v) => v.instancePath));
  const choices = new Map<string, unknown[]>();
  for (const v of errors) {
    if (v.keyword !== 'const' || !unions.has(v.instancePath)) continue;
    choices.set(v.instancePath, [...(choices.get(v.instancePath) ?? []), v.params['allowedValue']]);
  }
  const kept = errors.filter((v) => !(v.keyword === 'const' && choices.has(v.instancePath)));
  return kept.map((v) => {
    const allowed = v.keyword === 'anyOf' ? choices.get(v.instancePath) : undefined;
    let path = v.instancePath
      .replace(/^\//, '')
      .replace(/\/(\d+)(?=\/|$)/g, '[$1]')
      .replace(/\//g, '.');
    const missing = (v.params as { missingProperty?: string }).missingProperty;
    const extra = (v.params as { additionalProperty?: string }).additionalProperty;
    if (missing) path = path ? `${path}.${missing}` : missing;
    if (extra) path = path ? `${path}.${extra}` : extra;
    const problem = missing
      ? 'is required'
      : extra
        ? 'is not a known field'
        : allowed
          ? `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`
          : (v.message ?? 'is invalid');
    return { path: `${where === 'body' ? '' : `${where}.`}${path || '(root)'}`, problem };
  });
}

/** Maps any thrown error to an ApiError. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const e = err as FastifyError;
  if (e.validation)
    return new ApiError(
      e.validationContext === 'body' ? 'QOE_ERR_VALIDATION' : 'QOE_ERR_INVALID_PARAMETERS',
      undefined,
      fieldsFromValidation(e),
    );
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError('QOE_ERR_PAYLOAD_TOO_LARGE');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError('QOE_ERR_UNSUPPORTED_MEDIA_TYPE');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError('QOE_ERR_INVALID_JSON', ['The body is empty']);
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError('QOE_ERR_INVALID_PARAMETERS', ['Content-Length does not match the body']);
  }
  // A body cut off by the client or by connections.requestTimeoutMs: nobody is left to answer, and nothing is wrong here.
  if (e.code === 'ECONNRESET' || e.message === 'aborted') return new ApiError('QOE_ERR_REQUEST_ABORTED');
  if (e instanceof SyntaxError || e.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return new ApiError('QOE_ERR_INVALID_JSON', [`The body is not valid JSON: ${e.message}`]);
  }
  if (e.statusCode === 404) return new ApiError('QOE_ERR_NOT_FOUND');
  if (e.statusCode === 405) return new ApiError('QOE_ERR_METHOD_NOT_ALLOWED');
  if (e.statusCode === 413) return new ApiError('QOE_ERR_PAYLOAD_TOO_LARGE');
  if (e.statusCode === 415) return new ApiError('QOE_ERR_UNSUPPORTED_MEDIA_TYPE');
  return new ApiError('QOE_ERR_INTERNAL');
}

/** Bodies declared at most this large are read to their end after a 413, not cut off. */
const DRAIN_REFUSED_BODY_MAX_BYTES = 32 * 1024 * 1024;

/**
 * A body over the limit is refused before it is read, and the framework then closes the
 * connection while the client is still sending: the client sees a broken pipe or a reset, not
 * the 413. For a declared length up to DRAIN_REFUSED_BODY_MAX_BYTES the connection stays open
 * and the rest of the body is read and dropped, so the client gets the answer (as servers with a
 * lingering close do); larger ones are still cut off.
 */
export function drainRefusedBodies(app: FastifyInstance): void {
  app.addHook('onError', async (request: FastifyRequest, reply: FastifyReply, err: FastifyError) => {
    if (err.code !== 'FST_ERR_CTP_BODY_TOO_LARGE') return;
    const declared = Number(request.headers['content-length']);
    if (!Number.isFinite(declared) || declared > DRAIN_REFUSED_BODY_MAX_BYTES) return;
    reply.removeHeader('connection');
    request.raw.resume();
  });
}

export function installErrorHandling(app: FastifyInstance, onInternal: (err: unknown) => void): void {
  drainRefusedBodies(app);
  app.setErrorHandler((err, request, reply) => {
    const apiErr = toApiError(err);
    if (apiErr.code === 'QOE_ERR_INTERNAL') {
      onInternal(err);
      request.log.error({ err }, 'internal error');
    }
    return sendError(reply, apiErr);
  });
}
