/**
 * Generic webhook: `POST` of a JSON array of envelopes to any URL. With a
 * signing secret, `X-Openqoe-Signature: sha256=<hex>` carries the
 * HMAC-SHA256 of the body bytes exactly as sent (after gzip when enabled), so
 * a receiver verifies before it decodes.
 */
import { createHmac } from 'node:crypto';
import { encodeBody, httpDestination } from '../../delivery/http-transport.js';
import { type ConnectorModule, readSecret, required, texts } from '../connector-settings.js';

export const webhook: ConnectorModule = {
  limits: { maxEvents: 1000, maxBytes: 4 * 1024 * 1024, maxRecordBytes: 1024 * 1024 },
  create(c, { key, env }) {
    const url = required(c, 'url', key);
    const headers = { ...c.headers, 'Content-Type': 'application/json' };
    const secret = c.signingSecret ? readSecret(c.signingSecret, `${key}.signingSecret`, env) : undefined;
    const compression = c.compression ?? 'none';
    // Compressed here, not by the transport: the signature covers the body as sent.
    return httpDestination(
      (batch) => {
        const request = encodeBody(
          { url, headers: { ...headers }, body: Buffer.from(`[${texts(batch).join(',')}]`) },
          compression,
        );
        if (secret !== undefined)
          request.headers[c.signatureHeader] =
            `sha256=${createHmac('sha256', secret).update(request.body).digest('hex')}`;
        return request;
      },
      { compression: 'none', timeoutMs: c.requestTimeoutMs },
    );
  },
};
