/**
 * HTTP: one POST per payload, in order. 2xx is an acknowledgement. A status
 * that refuses the payload itself (400, 413, 422) is final: the core
 * dead-letters that payload and goes on. Everything else — 401/403 (fixing
 * the credentials must not lose data), 404/405/415 (a wrong url or format
 * refuses every payload alike), 408, 429, 5xx, network errors — is retried.
 * The payload id goes in `X-Openqoe-Message-Id`.
 */
import type { Static } from '@sinclair/typebox';
import type { HttpSinkSchema } from '../../../config/monitoring-config.js';
import type { DestinationModule, SendOutcome } from '../../delivery/destination.js';
import { postHttp } from '../../delivery/http-transport.js';

/** Statuses that refuse the payload's content, not the request's destination or credentials. */
const PAYLOAD_REFUSED = new Set([400, 413, 422]);
const refuses = (status: number) => PAYLOAD_REFUSED.has(status);

export const httpSink: DestinationModule<Static<typeof HttpSinkSchema>> = {
  limits: { maxEvents: 64, maxBytes: 8 * 1024 * 1024, maxRecordBytes: Number.POSITIVE_INFINITY },
  create(config) {
    const contentType = config.format === 'json' ? 'application/json' : 'application/x-protobuf';
    return {
      async send(batch, signal): Promise<SendOutcome> {
        for (const [i, r] of batch.entries()) {
          const headers = {
            ...config.headers,
            'content-type': contentType,
            'x-openqoe-message-id': r.id,
            'x-openqoe-partition-key': r.key,
          };
          const outcome = await postHttp(
            { url: config.url, headers, body: r.payload },
            config.timeoutMs,
            signal,
            refuses,
          );
          // The payloads before this one were acknowledged.
          if (!outcome.ok) return outcome.kind === 'partial' ? outcome : { ...outcome, accepted: i };
        }
        return { ok: true };
      },
    };
  },
};
