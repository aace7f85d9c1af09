/**
 * HTTP: one POST per payload, in order. 2xx is an acknowledgement. A status
 * that refuses the payload itself (400, 413, 422) is final: the runner
 * dead-letters that payload and goes on. Everything else — 401/403 (fixing
 * the credentials must not lose data), 404/405/415 (a wrong url or format
 * refuses every payload alike), 408, 429, 5xx, network errors — is retried.
 * The payload id goes in `X-Openqoe-Message-Id`.
 */
import type { Static } from '@sinclair/typebox';
import type { HttpSinkSchema } from '../../../config/monitoring-config.js';
import type { QueueEntry } from './disk-queue.js';
import { PayloadRefusedError, type SinkTransport } from './sink.js';

/** Statuses that refuse the payload's content, not the request's destination or credentials. */
const PAYLOAD_REFUSED = new Set([400, 413, 422]);
/** How much of a refusal's body is kept as its reason. */
const REASON_CHARS = 500;

export class HttpSink implements SinkTransport {
  readonly maxBatchEntries = 64;
  readonly maxBatchBytes = 8 * 1024 * 1024;

  constructor(private readonly config: Static<typeof HttpSinkSchema>) {}

  async send(entries: QueueEntry[]): Promise<void> {
    const contentType = this.config.format === 'json' ? 'application/json' : 'application/x-protobuf';
    for (const [i, e] of entries.entries()) {
      const res = await fetch(this.config.url, {
        method: 'POST',
        headers: {
          ...this.config.headers,
          'content-type': contentType,
          'x-openqoe-message-id': e.id,
          'x-openqoe-partition-key': e.partitionKey,
        },
        body: e.payload,
        signal: AbortSignal.timeout(this.config.timeoutMs),
      });
      const body = await res.text().catch(() => '');
      if (res.status >= 200 && res.status < 300) continue;
      if (PAYLOAD_REFUSED.has(res.status)) {
        const reason = body.replace(/\s+/g, ' ').trim().slice(0, REASON_CHARS) || res.statusText;
        throw new PayloadRefusedError(i, res.status, reason);
      }
      throw new Error(`POST ${this.config.url} answered ${res.status}`);
    }
  }

  async close(): Promise<void> {}
}
