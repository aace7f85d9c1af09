/**
 * NATS JetStream: one payload per message, published with its id as
 * `Nats-Msg-Id`, so JetStream drops a resend inside its duplicate window.
 * Each publish waits for the stream's acknowledgement.
 */
import type { Static } from '@sinclair/typebox';
import { connect, type JetStreamClient, type NatsConnection } from 'nats';
import type { NatsSinkSchema } from '../../../config/monitoring-config.js';
import type { QueueEntry } from './disk-queue.js';
import type { SinkTransport } from './sink.js';

export class NatsSink implements SinkTransport {
  readonly maxBatchEntries = 256;
  readonly maxBatchBytes = 8 * 1024 * 1024;
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private connecting: Promise<JetStreamClient> | undefined;

  constructor(private readonly config: Static<typeof NatsSinkSchema>) {}

  private client(): Promise<JetStreamClient> {
    if (this.js && this.nc && !this.nc.isClosed()) return Promise.resolve(this.js);
    this.connecting ??= (async () => {
      try {
        const nc = await connect({
          servers: this.config.servers.split(',').map((s) => s.trim()),
          maxReconnectAttempts: -1,
          name: `openqoe-monitoring-${this.config.name}`,
        });
        if (this.config.stream) {
          const jsm = await nc.jetstreamManager();
          try {
            await jsm.streams.info(this.config.stream);
          } catch {
            await jsm.streams.add({ name: this.config.stream, subjects: [this.config.subject] });
          }
        }
        this.nc = nc;
        this.js = nc.jetstream();
        return this.js;
      } finally {
        this.connecting = undefined;
      }
    })();
    return this.connecting;
  }

  async send(entries: QueueEntry[]): Promise<void> {
    const js = await this.client();
    // Published together (one connection keeps their order), acknowledged each.
    await Promise.all(
      entries.map((e) => js.publish(this.config.subject, e.payload, { msgID: e.id, timeout: 10_000 })),
    );
  }

  async close(): Promise<void> {
    await this.nc?.close();
  }
}
