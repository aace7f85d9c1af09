/**
 * Slow and broken clients against the real server (the built CLI) over real
 * sockets, on all three listeners (HTTP, the Mux TLS listener, RTMP):
 * thousands of connections trickling a byte a second from many loopback
 * addresses are all closed by the server's timeouts (the 408 envelope, or
 * the TLS and RTMP handshake deadlines, told apart from the caps' closes by
 * the answer and by /metrics), the server's memory stays near its start, valid beacons
 * are accepted during the attack; the caps close the connection one over
 * them as it is accepted, a trusted proxy has its own cap; and what Node's
 * parser refuses (431, malformed) and a wrong method (405) answer in the
 * error envelope.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import { type ErrorEnvelope, makeViewBeacon } from '@openqoe/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rtmpBase } from './helpers/live.js';
import {
  postBeacon,
  readMetric,
  removeDir,
  type ServerProcess,
  startServer,
  TEST_CONFIG,
  waitFor,
} from './helpers/server-process.js';
import { slowTests } from './helpers/slow-tests.js';

slowTests(180_000);

const HTTP_SLOW = 2000;
const MUX_SLOW = 200;
const RTMP_SLOW = 200;
/** Each attacking address holds this many connections: the per-address cap, so none is refused. */
const PER_ADDRESS = 20;
/** Sockets of this process and of the server: the attack, plus room for everything else. */
const OPEN_FILES_NEEDED = 8192;

/** The soft open-file limit of this process, raised (up to the hard limit) if the attack needs more. */
function ensureOpenFiles(): void {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const soft = /Max open files\s+(\S+)/.exec(limits)?.[1];
  if (soft === 'unlimited' || Number(soft) >= OPEN_FILES_NEEDED) return;
  try {
    // The server, spawned later, inherits it.
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${OPEN_FILES_NEEDED}:`]);
  } catch (err) {
    throw new Error(
      `this test needs ${OPEN_FILES_NEEDED} open files (ulimit -n is ${soft}) and prlimit could not raise it: ${(err as Error).message}`,
    );
  }
}

function rssBytes(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

/** The i-th of `count` loopback addresses in 127.<block>.0.0/16. */
function address(block: number, i: number): string {
  return `127.${block}.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}

/** One attacking connection: what it received, and whether the server has closed it. */
interface Slow {
  socket: net.Socket;
  received: string;
  closed: boolean;
  /** Bytes still to trickle, one a second. */
  rest: Buffer;
}

function track(socket: net.Socket, rest: Buffer): Slow {
  const slow: Slow = { socket, received: '', closed: false, rest };
  socket.on('data', (d: Buffer) => {
    slow.received += d.toString('latin1');
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    slow.closed = true;
  });
  return slow;
}

/** Opens `count` connections with `open`, a batch at a time so the listen backlog keeps up. */
async function openAll(count: number, open: (i: number) => Promise<Slow>): Promise<Slow[]> {
  const all: Slow[] = [];
  for (let i = 0; i < count; i += 100) {
    const batch = Array.from({ length: Math.min(100, count - i) }, (_, k) => open(i + k));
    all.push(...(await Promise.all(batch)));
  }
  return all;
}

function tcp(port: number, localAddress: string, rest: Buffer): Promise<Slow> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress });
    socket.once('connect', () => resolve(track(socket, rest)));
    socket.once('error', reject);
  });
}

function tlsThenSlow(port: number, localAddress: string, rest: Buffer): Promise<Slow> {
  return new Promise((resolve, reject) => {
    const tcpSocket = net.connect({ port, host: '127.0.0.1', localAddress });
    const socket = tls.connect({ socket: tcpSocket, rejectUnauthorized: false });
    socket.once('secureConnect', () => resolve(track(socket, rest)));
    socket.once('error', reject);
  });
}

/** The ClientHello a TLS client sends first: the bytes a slow TLS client trickles. */
function clientHello(): Promise<Buffer> {
  return new Promise((resolve) => {
    const wire = new Duplex({
      read() {},
      write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void) {
        resolve(Buffer.from(chunk));
        done();
      },
    });
    const client = tls.connect({ socket: wire, rejectUnauthorized: false, servername: 'localhost' });
    client.on('error', () => {});
    setImmediate(() => client.destroy());
  });
}

/** Writes the next byte of every open attacking connection, once a second. */
function trickle(all: Slow[]): () => void {
  const timer = setInterval(() => {
    for (const s of all) {
      if (s.closed || s.rest.length === 0) continue;
      s.socket.write(s.rest.subarray(0, 1));
      s.rest = s.rest.subarray(1);
    }
  }, 1000);
  return () => clearInterval(timer);
}

/** The HTTP answer a connection got: status and the envelope's code. */
function answerOf(received: string): { status: number; code: string | undefined } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? 0);
  const body = received.slice(received.indexOf('\r\n\r\n') + 4);
  let code: string | undefined;
  try {
    code = (JSON.parse(body) as ErrorEnvelope).error.code;
  } catch {
    code = undefined;
  }
  return { status, code };
}

/** Sends raw bytes (over TLS to the Mux listener), returns everything the server answered before closing. */
function rawRequest(port: number, bytes: string | Buffer, overTls = false): Promise<string> {
  return new Promise((resolve) => {
    const socket = overTls
      ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false })
      : net.connect({ port, host: '127.0.0.1' });
    let out = '';
    socket.on('data', (d: Buffer) => {
      out += d.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve(out));
    socket.write(bytes);
  });
}

function envelopeOf(answer: string, status: number, code: string): ErrorEnvelope['error'] {
  expect(answer, answer.slice(0, 300)).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
  expect(answer.toLowerCase()).toContain('content-type: application/json');
  const envelope = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as ErrorEnvelope;
  expect(envelope.error.code).toBe(code);
  expect(envelope.error.messages.length).toBeGreaterThan(0);
  return envelope.error;
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

function muxPort(server: ServerProcess): number {
  const m = /Mux-protocol intake: https:\/\/[^\s:]+:(\d+)/.exec(server.output());
  expect(m, server.output()).not.toBeNull();
  return Number(m![1]);
}

const metricOf = (server: ServerProcess, name: string, labels: string) =>
  readMetric(server, `${name}{${labels}}`);

describe('slow clients', () => {
  let server: ServerProcess;

  beforeAll(async () => {
    ensureOpenFiles();
    server = await startServer({
      config: {
        ...TEST_CONFIG,
        logLevel: 'info',
        compat: { mux: { enabled: true, port: 0 } },
        connections: {
          headersTimeoutMs: 3000,
          requestTimeoutMs: 5000,
          handshakeTimeoutMs: 3000,
          maxConnections: 5000,
          maxPerAddress: PER_ADDRESS,
        },
      },
    });
  });

  afterAll(async () => {
    await server?.kill();
    if (server) removeDir(server.dataDir);
  });

  it('answers 431, malformed HTTP and a wrong method in the envelope', async () => {
    const port = portOf(server.url);
    const big = await rawRequest(
      port,
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    envelopeOf(big, 431, 'QOE_ERR_HEADERS_TOO_LARGE');
    const garbage = await rawRequest(port, 'NOT HTTP AT ALL\r\n\r\n');
    expect(envelopeOf(garbage, 400, 'QOE_ERR_MALFORMED_REQUEST').messages[0]).toMatch(/not valid HTTP/);
    const badLength = await rawRequest(
      port,
      'POST /v1/beacon HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n',
    );
    envelopeOf(badLength, 400, 'QOE_ERR_MALFORMED_REQUEST');

    const put = await rawRequest(port, 'PUT /v1/beacon HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    envelopeOf(put, 405, 'QOE_ERR_METHOD_NOT_ALLOWED');
    expect(put).toMatch(/\r\nallow: POST\r\n/i);
    // A path with a parameter, several methods on it.
    const res = await fetch(`${server.url}/system/v1/access-tokens/some-id`, { method: 'PATCH' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toMatch(/DELETE/);
    expect(((await res.json()) as ErrorEnvelope).error.code).toBe('QOE_ERR_METHOD_NOT_ALLOWED');
    // Many failed connections: each counted, but at most 10 log lines a minute per listener (one line each).
    const failedBefore = await readMetric(
      server,
      'openqoe_connection_errors_total{listener="http",code="HPE_INVALID_METHOD"}',
    );
    // In batches under the per-address cap (20), so all 40 reach the parser.
    for (let i = 0; i < 4; i++)
      await Promise.all(Array.from({ length: 10 }, () => rawRequest(port, 'NOT HTTP AT ALL\r\n\r\n')));
    expect(
      await readMetric(server, 'openqoe_connection_errors_total{listener="http",code="HPE_INVALID_METHOD"}'),
    ).toBe(failedBefore + 40);
    const lines = server.output().match(/http connection from \S+ failed: [^\n]*/g) ?? [];
    expect(lines.length).toBeLessThanOrEqual(10);
    expect(lines[0]).toMatch(
      /^http connection from 127\.0\.0\.1 failed: HPE_HEADER_OVERFLOW \(Header overflow\)/,
    );
    // An unknown path is still 404.
    const unknown = await fetch(`${server.url}/no/such/path`, { method: 'PUT' });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as ErrorEnvelope).error.code).toBe('QOE_ERR_NOT_FOUND');

    // The Mux listener is an application of its own: the same answers.
    const mux = await rawRequest(
      muxPort(server),
      'PUT / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      true,
    );
    envelopeOf(mux, 405, 'QOE_ERR_METHOD_NOT_ALLOWED');
    expect(mux).toMatch(/\r\nallow: GET, HEAD, POST\r\n/i);
    const muxBig = await rawRequest(
      muxPort(server),
      `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      true,
    );
    envelopeOf(muxBig, 431, 'QOE_ERR_HEADERS_TOO_LARGE');
  });

  it('closes thousands of trickling connections by their timeouts, memory stays near its start, beacons pass', async () => {
    const httpPort = portOf(server.url);
    const mux = muxPort(server);
    const rtmp = portOf(rtmpBase(server).replace('rtmp:', 'http:'));
    const metric = (name: string, labels: string) => metricOf(server, name, labels);
    const before = {
      rss: rssBytes(server.child.pid!),
      httpTimedOut: await metric('openqoe_connections_timed_out_total', 'listener="http",stage="request"'),
      muxTimedOut: await metric('openqoe_connections_timed_out_total', 'listener="mux",stage="request"'),
      muxHandshake: await metric('openqoe_connections_timed_out_total', 'listener="mux",stage="handshake"'),
      rtmpHandshake: await metric('openqoe_connections_timed_out_total', 'listener="rtmp",stage="handshake"'),
    };

    const hello = await clientHello();
    const rtmpC0C1 = Buffer.concat([Buffer.from([3]), Buffer.alloc(1536, 7)]);
    // Half the HTTP ones stall in their headers, half in their body.
    const headers = Buffer.from('POST /v1/beacon HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n\r\n');
    const bodyStall = (rest: Buffer) =>
      Buffer.from(
        `POST /v1/beacon HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n${rest}`,
      );
    const http = await openAll(HTTP_SLOW, async (i) => {
      const slow = await tcp(httpPort, address(10, Math.floor(i / PER_ADDRESS)), headers);
      if (i % 2 === 1) slow.socket.write(bodyStall(Buffer.alloc(0)));
      if (i % 2 === 1) slow.rest = Buffer.alloc(1000, 'x');
      return slow;
    });
    const muxSlow = await openAll(MUX_SLOW, (i) =>
      i % 2 === 0
        ? tcp(mux, address(11, Math.floor(i / PER_ADDRESS)), hello)
        : tlsThenSlow(mux, address(12, Math.floor(i / PER_ADDRESS)), headers),
    );
    const rtmpSlow = await openAll(RTMP_SLOW, (i) =>
      tcp(rtmp, address(13, Math.floor(i / PER_ADDRESS)), rtmpC0C1),
    );
    const all = [...http, ...muxSlow, ...rtmpSlow];
    const stop = trickle(all);
    try {
      // While they hold their connections, a valid beacon is accepted.
      const { environment } = server.bootstrap();
      const beacon = await postBeacon(
        server.url,
        JSON.stringify(makeViewBeacon(environment.key, 'during-attack', 0, 3)),
      );
      expect(beacon.status, JSON.stringify(beacon.json)).toBe(202);
      const peakRss = rssBytes(server.child.pid!);

      await waitFor(async () => all.every((s) => s.closed), 'every slow connection to be closed', 60_000);

      // HTTP, and HTTP over TLS: each closed by a timeout, with the 408 envelope.
      const tlsSlow = muxSlow.filter((_, i) => i % 2 === 1);
      for (const s of [...http, ...tlsSlow]) {
        expect(answerOf(s.received), s.received.slice(0, 200)).toEqual({
          status: 408,
          code: 'QOE_ERR_REQUEST_TIMEOUT',
        });
      }
      // The TLS handshake and the RTMP publish deadlines: closed without an answer, and counted as such.
      for (const s of [...muxSlow.filter((_, i) => i % 2 === 0), ...rtmpSlow]) expect(s.received).toBe('');
      expect(
        (await metric('openqoe_connections_timed_out_total', 'listener="http",stage="request"')) -
          before.httpTimedOut,
      ).toBe(HTTP_SLOW);
      expect(
        (await metric('openqoe_connections_timed_out_total', 'listener="mux",stage="request"')) -
          before.muxTimedOut,
      ).toBe(MUX_SLOW / 2);
      expect(
        (await metric('openqoe_connections_timed_out_total', 'listener="mux",stage="handshake"')) -
          before.muxHandshake,
      ).toBe(MUX_SLOW / 2);
      expect(
        (await metric('openqoe_connections_timed_out_total', 'listener="rtmp",stage="handshake"')) -
          before.rtmpHandshake,
      ).toBe(RTMP_SLOW);
      // No cap closed any of them.
      for (const listener of ['http', 'mux', 'rtmp'])
        for (const cap of ['total', 'address'])
          expect(
            await metric('openqoe_connections_refused_total', `listener="${listener}",cap="${cap}"`),
          ).toBe(0);
      for (const listener of ['mux', 'rtmp'])
        expect(await metric('openqoe_connections_open', `listener="${listener}"`)).toBe(0);

      // Memory near where it started (Node keeps freed pages, so RSS stays near its high mark; before the
      // timeouts, every such connection stayed open and memory grew with them).
      const grownMiB = (rssBytes(server.child.pid!) - before.rss) / 2 ** 20;
      console.log(
        `server RSS: ${(before.rss / 2 ** 20).toFixed(0)} MiB before, ${(peakRss / 2 ** 20).toFixed(0)} MiB under attack, +${grownMiB.toFixed(0)} MiB after`,
      );
      await waitFor(
        async () => rssBytes(server.child.pid!) - before.rss < 64 * 2 ** 20,
        'server memory to come back within 64 MiB of its start',
      );
      // And the server still takes beacons.
      const after = await postBeacon(
        server.url,
        JSON.stringify(makeViewBeacon(environment.key, 'after-attack', 0, 3)),
      );
      expect(after.status).toBe(202);
    } finally {
      stop();
      for (const s of all) s.socket.destroy();
    }
    // Timeouts are counted, not logged; nothing about connections came with a stack trace.
    expect(server.output()).not.toMatch(/"stack"|\n\s+at \S+ \(/);
    expect((server.output().match(/connection from .* failed/g) ?? []).length).toBeLessThanOrEqual(30);
  });
});

describe('connection caps', () => {
  let server: ServerProcess;
  const CAP = 5;
  const PROXY = '127.20.0.1';
  const PROXY_CAP = 12;
  /** Per listener: above what the per-address checks hold on one listener (2 × (cap + 1) + 2 = 21). */
  const TOTAL_CAP = 30;

  beforeAll(async () => {
    server = await startServer({
      config: {
        ...TEST_CONFIG,
        compat: { mux: { enabled: true, port: 0 } },
        // Long timeouts: the connections a test holds must outlast it.
        connections: {
          headersTimeoutMs: 600_000,
          requestTimeoutMs: 600_000,
          handshakeTimeoutMs: 600_000,
          maxPerAddress: CAP,
          trustedProxies: [PROXY],
          maxPerTrustedProxy: PROXY_CAP,
          maxConnections: TOTAL_CAP,
        },
      },
    });
  });

  afterAll(async () => {
    await server?.kill();
    if (server) removeDir(server.dataDir);
  });

  it('closes the connection one over the per-address or total cap as it is accepted; a trusted proxy has its own cap', async () => {
    const ports = {
      http: portOf(server.url),
      mux: muxPort(server),
      rtmp: portOf(rtmpBase(server).replace('rtmp:', 'http:')),
    };
    let block = 30;
    const held: Slow[] = [];
    /** Holds `count` connections from one address, then one more: the one more is refused at accept. */
    const overCap = async (listener: keyof typeof ports, from: string, count: number, cap: string) => {
      const open = () => readMetric(server, `openqoe_connections_open{listener="${listener}"}`);
      const refused = () =>
        readMetric(server, `openqoe_connections_refused_total{listener="${listener}",cap="${cap}"}`);
      const openBefore = await open();
      const refusedBefore = await refused();
      const mine = await openAll(count, () => tcp(ports[listener], from, Buffer.alloc(0)));
      held.push(...mine);
      await waitFor(async () => (await open()) === openBefore + count, `${listener}: ${count} admitted`);
      const extra = await tcp(ports[listener], from, Buffer.alloc(0));
      await waitFor(async () => extra.closed, `${listener}: the connection over the cap to be closed`);
      expect(extra.received).toBe('');
      expect(await refused()).toBe(refusedBefore + 1);
      // Closed at accept: its siblings, under the same (long) timeouts, are all still open.
      expect(mine.every((s) => !s.closed)).toBe(true);
      // Another address is not affected.
      const other = await tcp(ports[listener], `127.${block++}.0.1`, Buffer.alloc(0));
      held.push(other);
      await waitFor(
        async () => (await open()) === openBefore + count + 1,
        `${listener}: another address admitted`,
      );
      expect(other.closed).toBe(false);
    };
    try {
      for (const listener of ['http', 'mux', 'rtmp'] as const) {
        await overCap(listener, `127.${block++}.0.1`, CAP, 'address');
        await overCap(listener, PROXY, PROXY_CAP, 'trusted_proxy');
      }
      // The total cap, on RTMP (on HTTP it would also stop this test's own /metrics reads): filled
      // from fresh addresses, each under its own cap; the one more is closed as it is accepted.
      const open = () => readMetric(server, 'openqoe_connections_open{listener="rtmp"}');
      const dropped = () =>
        readMetric(server, 'openqoe_connections_refused_total{listener="rtmp",cap="total"}');
      const room = TOTAL_CAP - (await open());
      const fill = await openAll(room, (i) =>
        tcp(ports.rtmp, `127.${block + Math.floor(i / CAP)}.0.1`, Buffer.alloc(0)),
      );
      held.push(...fill);
      await waitFor(async () => (await open()) === TOTAL_CAP, 'rtmp: filled to its total cap');
      const extra = await tcp(ports.rtmp, '127.99.0.1', Buffer.alloc(0));
      await waitFor(async () => extra.closed, 'rtmp: the connection over the total cap to be closed');
      expect(extra.received).toBe('');
      expect(await dropped()).toBe(1);
      expect(fill.every((s) => !s.closed)).toBe(true);
    } finally {
      for (const s of held) s.socket.destroy();
    }
  });
});
