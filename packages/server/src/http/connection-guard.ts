/**
 * Connection hygiene of one listener (HTTP, the Mux TLS listener, RTMP): the
 * caps on open connections, in total and per client address, applied as a
 * connection is accepted (before a byte of it is read), and the accounting of
 * connections that end badly — closed by a timeout, reset, malformed, or
 * failing TLS — as counters and at most a few log lines a minute, one line
 * each, never a stack trace. The timeouts themselves are the listener's
 * (client-errors.ts for HTTP and the Mux listener, rtmp-ingest.ts for RTMP).
 */
import { BlockList, isIPv6, type Server, type Socket } from 'node:net';
import type { Static } from '@sinclair/typebox';
import type { ConnectionsConfigSchema } from '../config/connections-config.js';
import type { Metrics } from '../observability/metrics.js';

export type ConnectionsConfig = Static<typeof ConnectionsConfigSchema>;
export type ListenerName = 'http' | 'mux' | 'rtmp';
export type TimeoutStage = 'handshake' | 'request' | 'idle';

/** Lines about failed connections per listener per minute; the rest are only counted. */
const LOG_LINES_PER_MINUTE = 10;
const MINUTE_MS = 60_000;

/** '::ffff:10.0.0.1' and '10.0.0.1' are one client. */
export function plainAddress(address: string | undefined): string | undefined {
  return address?.startsWith('::ffff:') ? address.slice(7) : address;
}

function proxyList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', bits] = entry.split('/');
    const type = isIPv6(address) ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(bits), type);
  }
  return list;
}

/** Error codes are a bounded set (errno names, llhttp's HPE_*, Node's and OpenSSL's ERR_*); anything else is "other". */
function codeOf(err: Error & { code?: unknown }): string {
  const code = typeof err.code === 'string' ? err.code : '';
  return /^(E[A-Z]+|HPE_[A-Z_]+|ERR_[A-Z0-9_]+)$/.test(code) ? code : 'other';
}

export class ConnectionGuard {
  private readonly open = new Map<string, number>();
  private readonly proxies: BlockList;
  private logWindowStartMs = 0;
  private loggedInWindow = 0;
  private suppressedInWindow = 0;

  constructor(
    private readonly config: ConnectionsConfig,
    readonly listener: ListenerName,
    private readonly metrics: Metrics,
    private readonly log: { info(m: string): void },
  ) {
    this.proxies = proxyList(config.trustedProxies);
  }

  /** Applies the caps to every connection `server` accepts; a TLS server's handshake failures are counted too. */
  attach(server: Server): void {
    server.maxConnections = this.config.maxConnections;
    // Node closes a connection over maxConnections itself, before 'connection'.
    server.on('drop', () => this.metrics.connectionsRefused.labels(this.listener, 'total').inc());
    // First in line, so a refused socket is closed before the HTTP or TLS machinery reads from it.
    server.prependListener('connection', (socket: Socket) => this.admit(socket));
    server.on('tlsClientError', (err: Error & { code?: string }, socket: Socket) => {
      if (err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') this.timedOut('handshake');
      else this.failed(err, socket);
    });
  }

  /** Counts the socket against the caps, or closes it; true when admitted. */
  admit(socket: Socket): boolean {
    const address = plainAddress(socket.remoteAddress);
    if (address === undefined) {
      socket.destroy();
      return false;
    }
    const proxy = this.proxies.check(address, isIPv6(address) ? 'ipv6' : 'ipv4');
    const cap = proxy ? this.config.maxPerTrustedProxy : this.config.maxPerAddress;
    const held = this.open.get(address) ?? 0;
    if (held >= cap) {
      this.metrics.connectionsRefused.labels(this.listener, proxy ? 'trusted_proxy' : 'address').inc();
      socket.destroy();
      return false;
    }
    this.open.set(address, held + 1);
    const gauge = this.metrics.connectionsOpen.labels(this.listener);
    gauge.inc();
    socket.once('close', () => {
      gauge.dec();
      const left = (this.open.get(address) ?? 1) - 1;
      if (left > 0) this.open.set(address, left);
      else this.open.delete(address);
    });
    return true;
  }

  timedOut(stage: TimeoutStage): void {
    this.metrics.connectionsTimedOut.labels(this.listener, stage).inc();
  }

  /** A connection that failed: counted, and one log line while this minute's lines last. */
  failed(err: Error & { code?: unknown }, socket: Socket | undefined): void {
    const code = codeOf(err);
    this.metrics.connectionErrors.labels(this.listener, code).inc();
    const now = Date.now();
    if (now - this.logWindowStartMs >= MINUTE_MS) {
      if (this.suppressedInWindow > 0)
        this.log.info(
          `${this.listener} connections: ${this.suppressedInWindow} more failed connections in the last minute were not logged (openqoe_connection_errors_total counts them)`,
        );
      this.logWindowStartMs = now;
      this.loggedInWindow = 0;
      this.suppressedInWindow = 0;
    }
    if (this.loggedInWindow >= LOG_LINES_PER_MINUTE) {
      this.suppressedInWindow++;
      return;
    }
    this.loggedInWindow++;
    const from = plainAddress(socket?.remoteAddress) ?? 'a closed socket';
    const reason = (err as { reason?: unknown }).reason;
    this.log.info(
      `${this.listener} connection from ${from} failed: ${code}${typeof reason === 'string' ? ` (${reason})` : ''}`,
    );
  }
}
