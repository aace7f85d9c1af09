/**
 * Amazon Kinesis Data Firehose: `PutRecordBatch` through the AWS SDK v3.
 * Each record is one envelope followed by a newline (newline-delimited JSON
 * in the delivery stream's objects). Limits: ≤ 500 records, ≤ 4 MiB per call,
 * ≤ 1000 KiB per record. A partly failed call (`FailedPutCount` > 0) is
 * answered with the indexes of the failed records, which are retried alone.
 * The SDK's own retries are off: the delivery loop retries with its buffer.
 */
import {
  FirehoseClient,
  type FirehoseClientConfig,
  PutRecordBatchCommand,
  type PutRecordBatchCommandOutput,
} from '@aws-sdk/client-firehose';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { BatchLimits, Destination, SendOutcome } from '../destination.js';

export interface FirehoseSettings {
  deliveryStreamName: string;
  region: string;
  endpoint: string | undefined;
  credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
  requestTimeoutMs: number;
}

export const FIREHOSE_LIMITS: BatchLimits = {
  maxEvents: 500,
  maxBytes: 4 * 1024 * 1024 - 64 * 1024,
  maxRecordBytes: 1000 * 1024 - 1,
};

const RETRYABLE_STATUS = (status: number | undefined) =>
  status === undefined || status === 429 || status >= 500 || status === 401 || status === 403;

export function firehoseDestination(s: FirehoseSettings): Destination {
  const config: FirehoseClientConfig = {
    region: s.region,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ requestTimeout: s.requestTimeoutMs, connectionTimeout: 10_000 }),
  };
  if (s.endpoint) config.endpoint = s.endpoint;
  if (s.credentials) config.credentials = s.credentials;
  const client = new FirehoseClient(config);
  return {
    limits: FIREHOSE_LIMITS,
    async send(records, signal): Promise<SendOutcome> {
      let out: PutRecordBatchCommandOutput;
      try {
        out = await client.send(
          new PutRecordBatchCommand({
            DeliveryStreamName: s.deliveryStreamName,
            Records: records.map((r) => ({ Data: Buffer.from(`${r}\n`) })),
          }),
          { abortSignal: signal },
        );
      } catch (err) {
        const e = err as Error & { $metadata?: { httpStatusCode?: number } };
        const status = e.$metadata?.httpStatusCode;
        const message = `PutRecordBatch failed: ${e.name}: ${e.message}`;
        if (e.name === 'InvalidArgumentException' || (status !== undefined && !RETRYABLE_STATUS(status)))
          return { ok: false, kind: 'reject', reason: String(status ?? e.name), message };
        return {
          ok: false,
          kind: 'retry',
          reason: status === undefined ? 'network' : String(status),
          message,
        };
      }
      if (!out.FailedPutCount) return { ok: true };
      const failed: number[] = [];
      (out.RequestResponses ?? []).forEach((r, i) => {
        if (r.ErrorCode) failed.push(i);
      });
      if (failed.length === 0)
        return {
          ok: false,
          kind: 'retry',
          reason: 'partial',
          message: `${out.FailedPutCount} records failed`,
        };
      const first = out.RequestResponses?.[failed[0] ?? 0];
      return {
        ok: false,
        kind: 'partial',
        failed,
        message: `${out.FailedPutCount} of ${records.length} records failed (${first?.ErrorCode ?? ''}: ${first?.ErrorMessage ?? ''})`,
      };
    },
    async close() {
      client.destroy();
    },
  };
}
