/**
 * What an HTTP listener (the main one and the Mux TLS one) does about
 * clients that are slow, broken or gone: Node's header, request and idle
 * timeouts set from `connections.*`, the caps of connection-guard.ts, and
 * an answer in the error envelope to what Node's parser refuses before any
 * route sees it (408 timeout, 431 headers too large, 400 malformed), written
 * on the raw socket as Node has no response object for them.
 */
import { STATUS_CODES } from 'node:http';
import type { Server, Socket } from 'node:net';
import { ERROR_CODES, type ErrorCode, errorEnvelope } from '@openqoe/schema';
import type { Metrics } from '../observability/metrics.js';
import { ConnectionGuard, type ConnectionsConfig, type ListenerName } from './connection-guard.js';

type ClientError = Error & { code?: string; reason?: string };

function answerOf(err: ClientError): { code: ErrorCode; messages?: string[] | undefined } {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return { code: 'QOE_ERR_REQUEST_TIMEOUT' };
  if (err.code === 'HPE_HEADER_OVERFLOW') return { code: 'QOE_ERR_HEADERS_TOO_LARGE' };
  const reason = typeof err.reason === 'string' ? err.reason : undefined;
  return {
    code: 'QOE_ERR_MALFORMED_REQUEST',
    messages: reason ? [`${ERROR_CODES.QOE_ERR_MALFORMED_REQUEST.message}: ${reason}`] : undefined,
  };
}

/** Fastify's clientErrorHandler: count, answer in the envelope where the socket still takes it, close. */
function clientErrorHandler(guard: () => ConnectionGuard) {
  return (err: ClientError, socket: Socket): void => {
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') guard().timedOut('request');
    else guard().failed(err, socket);
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code !== 'ECONNRESET' && socket.writable && !inFlight?.headersSent) {
      const { code, messages } = answerOf(err);
      const status = ERROR_CODES[code].status;
      const body = JSON.stringify(errorEnvelope(code, messages));
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    // As Node itself does: a small answer is in the kernel's buffer already, and a client that does not read gets no more time.
    socket.destroy();
  };
}

/**
 * The options a Fastify listener is created with, and `guarded(server)` to call on its
 * server once created. `node` goes into Fastify's `http` (or `https`) options.
 */
export function connectionOptions(config: ConnectionsConfig, listener: ListenerName, metrics: Metrics) {
  let guard: ConnectionGuard | undefined;
  const headersTimeout = Math.min(config.headersTimeoutMs, config.requestTimeoutMs);
  return {
    fastify: {
      requestTimeout: config.requestTimeoutMs,
      keepAliveTimeout: config.keepAliveTimeoutMs,
      connectionTimeout: config.idleTimeoutMs,
      clientErrorHandler: clientErrorHandler(() => guard!),
    },
    node: {
      headersTimeout,
      // Also here: Node checks headersTimeout against it when the server is created.
      requestTimeout: config.requestTimeoutMs,
      // Node checks the header and request deadlines this often (30 s by default, which would stretch a 10 s deadline to 40 s).
      connectionsCheckingInterval: Math.min(1000, Math.ceil(headersTimeout / 4)),
    },
    guarded(server: Server, log: { info(m: string): void }): ConnectionGuard {
      guard = new ConnectionGuard(config, listener, metrics, log);
      guard.attach(server);
      return guard;
    },
  };
}
