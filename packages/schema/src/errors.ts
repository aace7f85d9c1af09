/**
 * The one list of error codes. Every HTTP error openqoe answers uses one of
 * these with its status and type; `docs/errors.md` documents the same list
 * (a unit test keeps the two in step).
 */
export interface ErrorCodeInfo {
  status: number;
  type: string;
  message: string;
}

export const ERROR_CODES = {
  QOE_ERR_INVALID_JSON: { status: 400, type: 'invalid_parameters', message: 'The body is not valid JSON' },
  QOE_ERR_INVALID_ENCODING: {
    status: 400,
    type: 'invalid_parameters',
    message: 'The body could not be decoded (bad gzip or not UTF-8)',
  },
  QOE_ERR_VALIDATION: {
    status: 400,
    type: 'invalid_parameters',
    message: 'One or more fields are invalid; see fields',
  },
  QOE_ERR_UNSUPPORTED_SCHEMA_VERSION: {
    status: 400,
    type: 'invalid_parameters',
    message: 'This schemaVersion is not supported by this server',
  },
  QOE_ERR_INVALID_PARAMETERS: {
    status: 400,
    type: 'invalid_parameters',
    message: 'The request parameters are invalid; see fields',
  },
  QOE_ERR_MALFORMED_REQUEST: {
    status: 400,
    type: 'invalid_parameters',
    message: 'The request is not valid HTTP/1.1',
  },
  QOE_ERR_REQUEST_ABORTED: {
    status: 400,
    type: 'invalid_parameters',
    message: 'The client closed the connection before the request was complete',
  },
  QOE_ERR_MISSING_ENV_KEY: {
    status: 401,
    type: 'unauthorized',
    message: 'No environment key: send envKey in the body or ?env_key= in the URL',
  },
  QOE_ERR_UNKNOWN_ENV_KEY: { status: 401, type: 'unauthorized', message: 'Unknown environment key' },
  QOE_ERR_UNAUTHORIZED: {
    status: 401,
    type: 'unauthorized',
    message: 'Missing or invalid access token (HTTP Basic: token id as user, secret as password)',
  },
  QOE_ERR_FORBIDDEN: {
    status: 403,
    type: 'forbidden',
    message: 'The access token lacks the permission or environment this request needs',
  },
  QOE_ERR_NOT_FOUND: { status: 404, type: 'not_found', message: 'Not found' },
  QOE_ERR_METHOD_NOT_ALLOWED: { status: 405, type: 'invalid_parameters', message: 'Method not allowed' },
  QOE_ERR_REQUEST_TIMEOUT: {
    status: 408,
    type: 'timeout',
    message: 'The request did not arrive in time (connections.headersTimeoutMs, requestTimeoutMs)',
  },
  QOE_ERR_CONFLICT: {
    status: 409,
    type: 'conflict',
    message: 'The request conflicts with the current state',
  },
  QOE_ERR_PAYLOAD_TOO_LARGE: {
    status: 413,
    type: 'payload_too_large',
    message: 'The body is larger than the intake accepts',
  },
  QOE_ERR_DECOMPRESSED_TOO_LARGE: {
    status: 413,
    type: 'payload_too_large',
    message: 'The body is larger than the intake accepts once decompressed',
  },
  QOE_ERR_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    type: 'unsupported_media_type',
    message: 'Send text/plain or application/json (optionally gzip-encoded)',
  },
  QOE_ERR_HEADERS_TOO_LARGE: {
    status: 431,
    type: 'invalid_parameters',
    message: 'The request headers are larger than the server accepts (16 KiB in all)',
  },
  QOE_ERR_RATE_LIMITED: { status: 429, type: 'rate_limited', message: 'Too many requests; retry later' },
  QOE_ERR_BACKLOG_FULL: {
    status: 429,
    type: 'rate_limited',
    message: 'The pipeline is behind and its buffer is full; retry later',
  },
  QOE_ERR_INTERNAL: { status: 500, type: 'internal_error', message: 'Internal error' },
  QOE_ERR_UNAVAILABLE: {
    status: 503,
    type: 'unavailable',
    message: 'The server is starting or stopping; retry later',
  },
  QOE_ERR_NOT_READY: {
    status: 503,
    type: 'unavailable',
    message: 'Not ready: the messages say why (the server is alive and recovers by itself)',
  },
  QOE_ERR_REALTIME_INCOMPLETE: {
    status: 503,
    type: 'unavailable',
    message: 'The real-time numbers are incomplete: a pipeline worker did not answer in time; retry shortly',
  },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorField {
  path: string;
  problem: string;
}

/** The one error envelope of every API. */
export interface ErrorEnvelope {
  error: { type: string; code: ErrorCode; messages: string[]; fields: ErrorField[] };
}

export function errorEnvelope(
  code: ErrorCode,
  messages?: string[],
  fields: ErrorField[] = [],
): ErrorEnvelope {
  const info = ERROR_CODES[code];
  return { error: { type: info.type, code, messages: messages ?? [info.message], fields } };
}
