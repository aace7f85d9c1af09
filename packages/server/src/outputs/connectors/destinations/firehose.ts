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
import type { Destination, SendOutcome } from '../../delivery/destination.js';
import { ConnectorConfigError, type ConnectorModule, readSecret, required } from '../connector-settings.js';

export const firehose: ConnectorModule = {
  limits: { maxEvents: 500, maxBytes: 4 * 1024 * 1024 - 64 * 1024, maxRecordBytes: 1000 * 1024 - 1 },
  create(c, { key, env }) {
    if ((c.accessKeyId === undefined) !== (c.secretAccessKey === undefined))
      throw new ConnectorConfigError(`${key}: give both accessKeyId and secretAccessKey, or neither`);
    const stream = required(c, 'deliveryStreamName', key);
    const config: FirehoseClientConfig = {
      region: required(c, 'region', key),
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({ requestTimeout: c.requestTimeoutMs, connectionTimeout: 10_000 }),
    };
    if (c.url) config.endpoint = c.url;
    if (c.accessKeyId && c.secretAccessKey)
      config.credentials = {
        accessKeyId: readSecret(c.accessKeyId, `${key}.accessKeyId`, env),
        secretAccessKey: readSecret(c.secretAccessKey, `${key}.secretAccessKey`, env),
      };
    return firehoseDestination(new FirehoseClient(config), stream);
  },
};

const NEWLINE = Buffer.from('\n');

const RETRYABLE_STATUS = (status: number | undefined) =>
  status === undefined || status === 429 || status >= 500 || status === 401 || status === 403;

function firehoseDestination(client: FirehoseClient, deliveryStreamName: string): Destination {
  return {
    async send(batch, signal): Promise<SendOutcome> {
      let out: PutRecordBatchCommandOutput;
      try {
        out = await client.send(
          new PutRecordBatchCommand({
            DeliveryStreamName: deliveryStreamName,
            Records: batch.map((r) => ({ Data: Buffer.concat([r.payload, NEWLINE]) })),
          }),
          { abortSignal: signal },
        );
      } catch (err) {
        const e = err as Error & { $metadata?: { httpStatusCode?: number } };
        const status = e.$metadata?.httpStatusCode;
        const message = `PutRecordBatch failed: ${e.name}: ${e.message}`;
        if (e.name === 'InvalidArgumentException' || (status !== undefined && !RETRYABLE_STATUS(status)))
          return { ok: false, kind: 'reject', reason: String(status ?? e.name), message };
        const reason = status === undefined ? 'network' : String(status);
        return { ok: false, kind: 'retry', reason, message };
      }
      if (!out.FailedPutCount) return { ok: true };
      const failed = (out.RequestResponses ?? []).flatMap((r, i) => (r.ErrorCode ? [i] : []));
      const message = `${out.FailedPutCount} records failed`;
      if (failed.length === 0) return { ok: false, kind: 'retry', reason: 'partial', message };
      const first = out.RequestResponses?.[failed[0] ?? 0];
      return {
        ok: false,
        kind: 'partial',
        failed,
        message: `${out.FailedPutCount} of ${batch.length} records failed (${first?.ErrorCode ?? ''}: ${first?.ErrorMessage ?? ''})`,
      };
    },
    async close() {
      client.destroy();
    },
  };
}
