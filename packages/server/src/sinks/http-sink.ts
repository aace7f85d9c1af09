/**
 * HTTP: one POST per payload, in order. 2xx is an acknowledgement; anything
 * else (including 4xx: a misconfigured endpoint must not lose data) is
 * retried by the runner. The payload id goes in `X-Openqoe-Message-Id`.
 */
import type { Static } from '@sinclair/typebox';
import type { HttpSinkSchema } from '../config/monitoring-config.js';
import type { QueueEntry } from './disk-queue.js';
import type { SinkTransport } from './sink.js';

export class HttpSink implements SinkTransport {
  readonly maxBatchEntries = 64;
  readonly maxBatchBytes = 8 * 1024 * 1024;

  constructor(private readonly config: Static<typeof HttpSinkSchema>) {}

  async send(entries: QueueEntry[]): Promise<void> {
    const contentType = this.config.format === 'json' ? 'application/json' : 'application/x-protobuf';
    for (const e of entries) {
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
      await res.arrayBuffer().catch(() => undefined);
      if (res.status < 200 || res.status >= 300)
        throw new Error(`POST ${this.config.url} answered ${res.status}`);
    }
  }

  async close(): Promise<void> {}
}
