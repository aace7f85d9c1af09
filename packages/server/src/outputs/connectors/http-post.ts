/**
 * Sends a built request and turns the answer into a SendOutcome: 2xx is
 * accepted; 408, 429 and 5xx are retried (honouring Retry-After); 401/403
 * are retried too, because a fixed key should not cost the buffered events;
 * any other 4xx refuses the batch. Network errors and timeouts are retried.
 */
import { gzipSync } from 'node:zlib';
import type { HttpRequest, SendOutcome } from './destination.js';

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
  const text = (await res.text().catch(() => '')).slice(0, 300);
  const status = res.status;
  if (status >= 200 && status < 300) return { ok: true };
  const message = `HTTP ${status}${text ? `: ${text}` : ''}`;
  if (status === 408 || status === 429 || status >= 500 || status === 401 || status === 403) {
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
    return {
      ok: false,
      kind: 'retry',
      reason: String(status),
      message,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    };
  }
  return { ok: false, kind: 'reject', reason: String(status), message };
}
