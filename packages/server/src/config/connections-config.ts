/**
 * Connection hygiene of every listener (HTTP, the Mux TLS listener, RTMP):
 * how long a connection may take to say what it wants, how long it may sit
 * idle, and how many one address (or all together) may hold open. Each
 * listener counts its own connections against these caps.
 */
import { Type } from '@sinclair/typebox';

export const ConnectionsConfigSchema = Type.Object(
  {
    headersTimeoutMs: Type.Integer({
      minimum: 100,
      default: 10_000,
      description:
        'HTTP: a request whose headers are not all in within this long is answered 408 and closed (requestTimeoutMs when that is shorter)',
    }),
    requestTimeoutMs: Type.Integer({
      minimum: 100,
      default: 30_000,
      description: 'HTTP: a request whose body is not all in within this long is answered 408 and closed',
    }),
    keepAliveTimeoutMs: Type.Integer({
      minimum: 100,
      default: 5000,
      description:
        'HTTP: how long a connection stays open waiting for its next request. Behind a load balancer that reuses connections, set it above the balancer’s idle timeout (an AWS ALB keeps 60 s: use 65000)',
    }),
    idleTimeoutMs: Type.Integer({
      minimum: 100,
      default: 60_000,
      description:
        'Any listener: a connection with no bytes in either direction for this long is closed (an RTMP encoder that went silent, a client that stopped reading; also an answer that takes longer than this to start)',
    }),
    handshakeTimeoutMs: Type.Integer({
      minimum: 100,
      default: 15_000,
      description:
        'Mux listener: TLS handshake deadline. RTMP: a connection that has not started publishing within this long is closed',
    }),
    maxConnections: Type.Integer({
      minimum: 1,
      default: 8192,
      description:
        'Open connections per listener; one more is closed as it is accepted. Keep it under the open-file limit (ulimit -n)',
    }),
    maxPerAddress: Type.Integer({
      minimum: 1,
      default: 256,
      description:
        'Open connections per client address (the socket’s, not X-Forwarded-For) per listener; one more is closed as it is accepted',
    }),
    trustedProxies: Type.Array(Type.String({ pattern: '^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$' }), {
      default: [],
      description:
        'Addresses or CIDR blocks of proxies and load balancers in front of the server (e.g. 10.0.0.0/8): their connections count against maxPerTrustedProxy instead. Environment variable: comma-separated',
    }),
    maxPerTrustedProxy: Type.Integer({
      minimum: 1,
      default: 4096,
      description: 'Open connections per trusted proxy address per listener',
    }),
  },
  { additionalProperties: false, default: {} },
);
