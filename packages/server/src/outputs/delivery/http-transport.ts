/**
 * The transport of every HTTP destination: POSTs a built request and turns
 * the answer into a SendOutcome. 2xx is accepted; network errors and
 * timeouts are retried, and so is every status the destination's `refuses`
 * does not name (Retry-After honoured). By default (the connectors) 408, 429,
 * 5xx and 401/403 are retried — a fixed key should not cost what is
 * buffered — and any other 4xx refuses the batch.
 */
import { gzipSync } from 'node:zlib';
import type { Destination, QueueRecord, SendOutcome } from './destination.js';

export interface HttpRequest {
  url: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** How much of an answer's body is kept: in messages, and as a refusal's reason. */
const MESSAGE_CHARS = 300;
const DETAIL_CHARS = 500;

const refusesByDefault = (status: number) =>
  status >= 400 && status < 500 && status !== 408 && status !== 429 && status !== 401 && status !== 403;

/** Gzips the body and says so in the headers when asked to. */
export function encodeBody(request: HttpRequest, compression: 'gzip' | 'none'): HttpRequest {
  if (compression === 'none') return request;
  return {
    url: request.url,
    headers: { ...request.headers, 'Content-Encoding': 'gzip' },
    body: gzipSync(request.body),
  };
}

/** Retry-After in seconds or as an HTTP date; undefined if absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : undefined;
}

export async function postHttp(
  request: HttpRequest,
  timeoutMs: number,
  signal: AbortSignal,
  refuses: (status: number) => boolean = refusesByDefault,
  /** Hears every answer's status and body (a notification channel's test send reports them). */
  heard?: (status: number, text: string) => void,
): Promise<SendOutcome> {
  let res: Response;
  try {
    res = await fetch(request.url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return {
      ok: false,
      kind: 'retry',
      reason: 'network',
      message: `request failed: ${cause ?? (err as Error).name}: ${(err as Error).message}`,
    };
  }
  // The body is read (and bounded) so the connection can be reused.
  const text = await res.text().catch(() => '');
  const status = res.status;
  heard?.(status, text);
  if (status >= 200 && status < 300) return { ok: true };
  const start = text.slice(0, MESSAGE_CHARS);
  const message = `HTTP ${status}${start ? `: ${start}` : ''}`;
  if (refuses(status)) {
    const detail = text.replace(/\s+/g, ' ').trim().slice(0, DETAIL_CHARS) || res.statusText;
    return { ok: false, kind: 'reject', reason: String(status), message, detail };
  }
  const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
  return {
    ok: false,
    kind: 'retry',
    reason: String(status),
    message,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  };
}

/** A destination whose transport is one POST per batch: the module gives only the request (its payload). */
export function httpDestination(
  request: (batch: readonly QueueRecord[]) => HttpRequest,
  options: { compression: 'gzip' | 'none'; timeoutMs: number; refuses?: (status: number) => boolean },
): Destination {
  return {
    send: (batch, signal) =>
      postHttp(encodeBody(request(batch), options.compression), options.timeoutMs, signal, options.refuses),
  };
}
