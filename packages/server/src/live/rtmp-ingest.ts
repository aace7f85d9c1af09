/**
 * RTMP ingest: encoders publish to rtmp://host:port/live/{stream_key}. The
 * RTMP protocol (handshake, chunking, AMF commands, FLV tags) is
 * node-media-server's; this module owns the listener and what a publish
 * means here: the stream key must name a live stream, one publisher per
 * stream, and every video tag's timestamp goes to the drift tracker. Nothing
 * is relayed or recorded: the ingest exists to measure.
 */
import { createRequire } from 'node:module';
import { createServer, type Server, type Socket } from 'node:net';
import type { ConnectionGuard } from '../http/connection-guard.js';
import type { LiveHealth } from './live-health.js';
import { monotonicNow } from './live-health.js';
import type { LiveMetrics } from './live-metrics.js';
import type { LiveStreams } from './live-streams.js';

/** The part of node-media-server's RTMP protocol class used here. */
interface RtmpProtocol {
  streamApp: string;
  streamId: number;
  parserPacket: { header: { stream_id: number } };
  onConnectCallback: (req: { app: string; name: string }) => void;
  onPushCallback: () => void;
  onPlayCallback: () => void;
  onPacketCallback: (packet: { codec_type: number; dts: number }) => void;
  onOutputCallback: (buffer: Buffer) => void;
  parserData(data: Buffer): string | null;
  onPublish(invoke: { streamName: string }): void;
  sendStatusMessage(streamId: number, level: string, code: string, description: string): void;
}

const require = createRequire(import.meta.url);
const Rtmp = require('node-media-server/src/protocol/rtmp.js') as new () => RtmpProtocol;
const nmsLogger = require('node-media-server/src/core/logger.js') as {
  log: (m: string, level?: string) => void;
};

const FLV_TAG_VIDEO = 9;
/** The RTMP application encoders publish to. */
export const RTMP_APP = 'live';

export interface RtmpIngestOptions {
  host: string;
  port: number;
  /** A connection that has not started publishing within this long is closed. */
  handshakeTimeoutMs: number;
  /** A connection with no bytes either way for this long is closed. */
  idleTimeoutMs: number;
}

export interface IngestLog {
  info(m: string): void;
  warn(m: string): void;
  debug(m: string): void;
}

export class RtmpIngest {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** Live stream ids with a publisher now. */
  private readonly publishing = new Set<string>();

  constructor(
    private readonly streams: LiveStreams,
    private readonly health: LiveHealth,
    private readonly log: IngestLog,
    private readonly metrics: LiveMetrics,
    private readonly guard: ConnectionGuard,
  ) {
    // The library logs to stdout with console.log; route it to the server's log instead.
    nmsLogger.log = (m: string) => log.debug(`rtmp: ${m}`);
  }

  /** Resolves with the port once listening. */
  listen(options: RtmpIngestOptions): Promise<number> {
    // The guard admits a connection (caps) before this sees it; a refused one is already closed.
    const server = createServer((socket) => {
      if (!socket.destroyed) this.accept(socket, options);
    });
    this.guard.attach(server);
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        server.on('error', (err) => this.log.warn(`rtmp listener: ${err.message}`));
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : options.port);
      });
    });
  }

  /** Closes the connection of a stream (e.g. when the stream is deleted). */
  disconnect(streamId: string): void {
    for (const s of this.sockets)
      if ((s as Socket & { streamId?: string }).streamId === streamId) s.destroy();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  private accept(socket: Socket, options: RtmpIngestOptions): void {
    this.sockets.add(socket);
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    const rtmp = new Rtmp();
    let streamId: string | undefined;
    let session = 0;
    const deadline = setTimeout(() => {
      if (streamId) return;
      this.guard.timedOut('handshake');
      socket.destroy();
    }, options.handshakeTimeoutMs);
    deadline.unref();
    socket.setTimeout(options.idleTimeoutMs, () => {
      this.guard.timedOut('idle');
      socket.destroy();
    });

    // Checked before the library answers NetStream.Publish.Start, so a refused encoder is told why.
    const publish = rtmp.onPublish.bind(rtmp);
    rtmp.onPublish = (invoke) => {
      const key = String(invoke.streamName ?? '').split('?')[0] ?? '';
      const stream = rtmp.streamApp === RTMP_APP ? this.streams.byStreamKey(key) : undefined;
      const problem = !stream
        ? `no live stream has this stream key (publish to rtmp://host/${RTMP_APP}/{stream_key})`
        : this.publishing.has(stream.id)
          ? 'this live stream already has a publisher'
          : undefined;
      if (!stream || problem) {
        this.metrics.publishes.labels(stream ? 'already_publishing' : 'unknown_key').inc();
        this.log.info(`rtmp: refused a publish from ${peer}: ${problem}`);
        const rtmpStream = rtmp.parserPacket.header.stream_id;
        rtmp.sendStatusMessage(rtmpStream, 'error', 'NetStream.Publish.BadName', problem!);
        socket.end();
        setTimeout(() => socket.destroy(), 1000).unref();
        return;
      }
      streamId = stream.id;
      (socket as Socket & { streamId?: string }).streamId = stream.id;
      this.publishing.add(stream.id);
      this.metrics.publishes.labels('accepted').inc();
      this.metrics.publishing.set(this.publishing.size);
      session = this.health.connect(stream.id, stream.envId);
      this.log.info(`rtmp: ${peer} publishing live stream ${stream.id}`);
      publish(invoke);
    };
    rtmp.onConnectCallback = () => {};
    rtmp.onPushCallback = () => {};
    rtmp.onPlayCallback = () => {
      // Playback is not served: this ingest only measures.
      socket.destroy();
    };
    rtmp.onPacketCallback = (packet) => {
      if (streamId && packet.codec_type === FLV_TAG_VIDEO) {
        this.health.video(streamId, session, monotonicNow(), packet.dts);
        this.metrics.videoPackets.inc();
      }
    };
    rtmp.onOutputCallback = (buffer) => {
      if (!socket.destroyed) socket.write(buffer);
    };
    socket.on('data', (data) => {
      let err: string | null;
      try {
        err = rtmp.parserData(data);
      } catch (e) {
        err = (e as Error).message;
      }
      if (err) {
        this.log.debug(`rtmp: ${peer}: ${err}`);
        socket.destroy();
      }
    });
    socket.on('error', (err) => this.guard.failed(err, socket));
    socket.on('close', () => {
      clearTimeout(deadline);
      this.sockets.delete(socket);
      if (streamId) {
        this.publishing.delete(streamId);
        this.metrics.publishing.set(this.publishing.size);
        this.health.disconnect(streamId, session);
        this.log.info(`rtmp: ${peer} stopped publishing live stream ${streamId}`);
      }
    });
  }
}
