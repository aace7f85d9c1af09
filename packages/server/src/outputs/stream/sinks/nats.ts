/**
 * NATS JetStream: one payload per message, published with its id as
 * `Nats-Msg-Id`, so JetStream drops a resend inside its duplicate window.
 * Each publish waits for the stream's acknowledgement.
 */
import type { Static } from '@sinclair/typebox';
import { connect, type JetStreamClient, type NatsConnection } from 'nats';
import type { NatsSinkSchema } from '../../../config/monitoring-config.js';
import type { DestinationModule, SendOutcome } from '../../delivery/destination.js';

type NatsSinkConfig = Static<typeof NatsSinkSchema>;

export const natsSink: DestinationModule<NatsSinkConfig> = {
  limits: { maxEvents: 256, maxBytes: 8 * 1024 * 1024, maxRecordBytes: Number.POSITIVE_INFINITY },
  create(config) {
    let nc: NatsConnection | undefined;
    let js: JetStreamClient | undefined;
    let connecting: Promise<JetStreamClient> | undefined;
    const client = (): Promise<JetStreamClient> => {
      if (js && nc && !nc.isClosed()) return Promise.resolve(js);
      connecting ??= (async () => {
        try {
          const c = await connect({
            servers: config.servers.split(',').map((s) => s.trim()),
            maxReconnectAttempts: -1,
            name: `openqoe-monitoring-${config.name}`,
          });
          if (config.stream) {
            const jsm = await c.jetstreamManager();
            try {
              await jsm.streams.info(config.stream);
            } catch {
              await jsm.streams.add({ name: config.stream, subjects: [config.subject] });
            }
          }
          nc = c;
          js = c.jetstream();
          return js;
        } finally {
          connecting = undefined;
        }
      })();
      return connecting;
    };
    return {
      async send(batch): Promise<SendOutcome> {
        try {
          const jetstream = await client();
          // Published together (one connection keeps their order), acknowledged each.
          await Promise.all(
            batch.map((r) => jetstream.publish(config.subject, r.payload, { msgID: r.id, timeout: 10_000 })),
          );
          return { ok: true };
        } catch (err) {
          return {
            ok: false,
            kind: 'retry',
            reason: 'network',
            message: `publish failed: ${(err as Error).message}`,
          };
        }
      },
      async close() {
        await nc?.close();
      },
    };
  },
};
