/**
 * Kinesis Data Streams: `PutRecords`, one payload per record, its partition
 * key. A request holds at most one record per partition key, so a view's
 * records (always under one key) cannot overtake each other when a subset
 * fails and is retried; the 500-record and 5 MiB request limits hold. The
 * failed records of a call are retried alone, a few times with a short
 * backoff (Kinesis's contract for throttling); if some still fail, the core
 * resends from that request on.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import type { Static } from '@sinclair/typebox';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { KinesisSinkSchema } from '../../../config/monitoring-config.js';
import type { DestinationModule, QueueRecord, SendOutcome } from '../../delivery/destination.js';

const MAX_RECORDS = 500;
const MAX_REQUEST_BYTES = 5 * 1024 * 1024;
/** Calls for the failed subset inside one send, before the core's own backoff takes over. */
const SUBSET_ATTEMPTS = 5;

export const kinesisSink: DestinationModule<Static<typeof KinesisSinkSchema>> = {
  limits: { maxEvents: MAX_RECORDS, maxBytes: MAX_REQUEST_BYTES, maxRecordBytes: Number.POSITIVE_INFINITY },
  create(config) {
    const client = new KinesisClient({
      region: config.region,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      ...(config.accessKeyId
        ? { credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey } }
        : {}),
      // HTTP/1.1: works with every Kinesis-compatible endpoint; the core retries, not the SDK.
      requestHandler: new NodeHttpHandler({ connectionTimeout: 5000, requestTimeout: 30_000 }),
      maxAttempts: 1,
    });

    /** One request; undefined when every record was stored, else why not. */
    async function put(batch: QueueRecord[], signal: AbortSignal): Promise<string | undefined> {
      let pending: PutRecordsRequestEntry[] = batch.map((r) => ({ Data: r.payload, PartitionKey: r.key }));
      for (let attempt = 0; ; attempt++) {
        const out = await client.send(
          new PutRecordsCommand({ StreamName: config.streamName, Records: pending }),
          { abortSignal: signal },
        );
        if (!out.FailedRecordCount) return undefined;
        const failed = pending.filter((_, j) => out.Records?.[j]?.ErrorCode);
        if (attempt + 1 >= SUBSET_ATTEMPTS) {
          const first = out.Records?.find((r) => r.ErrorCode);
          return `${failed.length} records refused (${first?.ErrorCode}: ${first?.ErrorMessage})`;
        }
        pending = failed;
        await sleep(Math.min(2000, 100 * 2 ** attempt), undefined, { signal });
      }
    }

    return {
      async send(batch, signal): Promise<SendOutcome> {
        // Requests in order; each takes a prefix with distinct keys and within the limits.
        let i = 0;
        while (i < batch.length) {
          const first = i;
          const keys = new Set<string>();
          let bytes = 0;
          const request: QueueRecord[] = [];
          while (i < batch.length && request.length < MAX_RECORDS) {
            const r = batch[i]!;
            const size = r.payload.length + Buffer.byteLength(r.key);
            if (keys.has(r.key) || (request.length && bytes + size > MAX_REQUEST_BYTES)) break;
            keys.add(r.key);
            bytes += size;
            request.push(r);
            i++;
          }
          let failure: string | undefined;
          let reason = 'partial';
          try {
            failure = await put(request, signal);
          } catch (err) {
            const e = err as Error & { $metadata?: { httpStatusCode?: number } };
            reason = String(e.$metadata?.httpStatusCode ?? 'network');
            failure = `PutRecords failed: ${e.name}: ${e.message}`;
          }
          if (failure !== undefined)
            return { ok: false, kind: 'retry', reason, message: failure, accepted: first };
        }
        return { ok: true };
      },
      async close() {
        client.destroy();
      },
    };
  },
};
