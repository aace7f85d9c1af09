/**
 * Generic webhook: `POST` of a JSON array of envelopes to any URL. With a
 * signing secret, `X-Openqoe-Signature: sha256=<hex>` carries the
 * HMAC-SHA256 of the body bytes exactly as sent (after gzip when enabled), so
 * a receiver verifies before it decodes.
 */
import { createHmac } from 'node:crypto';
import type { BatchLimits, Destination, HttpRequest } from '../destination.js';
import { encodeBody, postHttp } from '../http-post.js';

export interface WebhookSettings {
  url: string;
  headers: Record<string, string>;
  signingSecret: string | undefined;
  signatureHeader: string;
  compression: 'gzip' | 'none';
  requestTimeoutMs: number;
}

export const WEBHOOK_LIMITS: BatchLimits = {
  maxEvents: 1000,
  maxBytes: 4 * 1024 * 1024,
  maxRecordBytes: 1024 * 1024,
};

export function signBody(secret: string, body: Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export function buildWebhookRequest(s: WebhookSettings, records: readonly string[]): HttpRequest {
  const request = encodeBody(
    {
      url: s.url,
      headers: { ...s.headers, 'Content-Type': 'application/json' },
      body: Buffer.from(`[${records.join(',')}]`),
    },
    s.compression,
  );
  if (s.signingSecret !== undefined)
    request.headers[s.signatureHeader] = signBody(s.signingSecret, request.body);
  return request;
}

export function webhookDestination(s: WebhookSettings): Destination {
  return {
    limits: WEBHOOK_LIMITS,
    send: (records, signal) => postHttp(buildWebhookRequest(s, records), s.requestTimeoutMs, signal),
  };
}
