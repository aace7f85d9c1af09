/**
 * A real HTTP listener on 127.0.0.1 that records every request (headers and
 * the body as sent, plus the body decoded when gzip) and answers what the
 * test tells it to. `stop()` makes it disappear (connections refused) and
 * `start()` brings it back on the same port, for outage tests.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The body as it came over the wire. */
  raw: Buffer;
  /** The body after Content-Encoding: gzip was undone. */
  body: Buffer;
  atMs: number;
  /** The status it was answered with. */
  status: number;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export type Responder = (req: RecordedRequest) => Reply;

export class HttpRecorder {
  readonly requests: RecordedRequest[] = [];
  respond: Responder = () => ({ status: 200, body: '{}' });
  port = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
        const rec: RecordedRequest = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          raw,
          body,
          atMs: Date.now(),
          status: 0,
        };
        this.requests.push(rec);
        const reply = this.respond(rec);
        rec.status = reply.status;
        answer(res, reply);
      });
    });
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address && typeof address === 'object') this.port = address.port;
    this.server = server;
  }

  /** Closes the listener and every open connection: the destination is gone. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Requests whose path starts with `prefix`. */
  to(prefix: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path.startsWith(prefix));
  }
}

function answer(res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
  res.end(reply.body ?? '');
}
