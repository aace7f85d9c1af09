/**
 * Kinesis: one payload per record, `PutRecords` with the payload's partition
 * key. A request holds at most one record per partition key, so a view's
 * records (always under one key) cannot overtake each other when a subset
 * fails and is retried; the 500-record and 5 MiB request limits hold.
 */
import { KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import type { Static } from '@sinclair/typebox';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { KinesisSinkSchema } from '../../../config/monitoring-config.js';
import type { QueueEntry } from './disk-queue.js';
import { backoffMs, type SinkTransport, sleep } from './sink.js';

const MAX_RECORDS = 500;
const MAX_REQUEST_BYTES = 5 * 1024 * 1024;
/** Retries of the failed subset inside one send, before the runner's own backoff takes over. */
const SUBSET_ATTEMPTS = 5;

export class KinesisSink implements SinkTransport {
  readonly maxBatchEntries = MAX_RECORDS;
  readonly maxBatchBytes = MAX_REQUEST_BYTES;
  private readonly client: KinesisClient;

  constructor(private readonly config: Static<typeof KinesisSinkSchema>) {
    this.client = new KinesisClient({
      region: config.region,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      ...(config.accessKeyId
        ? { credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey } }
        : {}),
      // HTTP/1.1: works with every Kinesis-compatible endpoint; the runner retries, not the SDK.
      requestHandler: new NodeHttpHandler({ connectionTimeout: 5000, requestTimeout: 30_000 }),
      maxAttempts: 1,
    });
  }

  async send(entries: QueueEntry[]): Promise<void> {
    // Requests in order; each takes a prefix with distinct keys and within the limits.
    let i = 0;
    while (i < entries.length) {
      const keys = new Set<string>();
      let bytes = 0;
      const batch: QueueEntry[] = [];
      while (i < entries.length && batch.length < MAX_RECORDS) {
        const e = entries[i]!;
        const size = e.payload.length + Buffer.byteLength(e.partitionKey);
        if (keys.has(e.partitionKey) || (batch.length && bytes + size > MAX_REQUEST_BYTES)) break;
        keys.add(e.partitionKey);
        bytes += size;
        batch.push(e);
        i++;
      }
      await this.put(batch);
    }
  }

  private async put(batch: QueueEntry[]): Promise<void> {
    let pending: PutRecordsRequestEntry[] = batch.map((e) => ({
      Data: e.payload,
      PartitionKey: e.partitionKey,
    }));
    for (let attempt = 0; ; attempt++) {
      const out = await this.client.send(
        new PutRecordsCommand({ StreamName: this.config.streamName, Records: pending }),
      );
      if (!out.FailedRecordCount) return;
      const failed = pending.filter((_, j) => out.Records?.[j]?.ErrorCode);
      if (attempt + 1 >= SUBSET_ATTEMPTS) {
        const first = out.Records?.find((r) => r.ErrorCode);
        throw new Error(`${failed.length} records refused (${first?.ErrorCode}: ${first?.ErrorMessage})`);
      }
      pending = failed;
      await sleep(backoffMs({ initialDelayMs: 100, maxDelayMs: 2000 }, attempt));
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
