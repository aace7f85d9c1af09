/**
 * A media server for browser tests, on 127.0.0.1 and a free port. It serves
 *
 * - `/media/…` from a media directory (byte ranges, a CDN header), where
 *   rules can hold a request for a known time, answer an error status, or
 *   throttle; every hold is recorded with its real start and end, so a test
 *   knows the server's side of a stall;
 * - `/media-untimed/…`, the same files without `Timing-Allow-Origin`: loaded
 *   from another origin (`localhost` for a page on 127.0.0.1), their resource
 *   timing hides when the first byte came, as many CDNs' does;
 * - any path registered with `page()` (HTML the test writes) or `file()`
 *   (player libraries, collector builds).
 */
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';

export const CDN_HEADER_VALUE = 'openqoe-test-cdn';

export interface Rule {
  /** Matched against the path under /media/ (e.g. /seg_00003\.ts$/). */
  match: RegExp;
  /** Hold matching responses until this long after the first match. */
  holdMs?: number;
  /** Answer this status instead of the file (404, 500, …). */
  status?: number;
  /** Send the body at this many bytes per second. */
  throttleBps?: number;
  /** How many first matches start the rule (holds: windows); default: every match. */
  times?: number;
}

export interface Hit {
  path: string;
  /** Epoch ms the request arrived and the response was released. */
  startMs: number;
  endMs: number;
}

export interface RuleHandle {
  hits: Hit[];
  /** Removes the rule. */
  remove(): void;
  /** Removes the rule and answers the requests it holds now (a hold the test ends itself). */
  release(): void;
}

export interface MediaServerOptions {
  /** The `X-CDN` header of media answers (the CDN host the collector reports); default CDN_HEADER_VALUE. */
  cdnHeader?: string;
}

export interface MediaServer {
  url: string;
  rule(rule: Rule): RuleHandle;
  /** Serves HTML at a path. */
  page(path: string, html: string): void;
  /** Serves a file from disk at a path. */
  file(path: string, filePath: string): void;
  /** Serves text made at request time (e.g. a live playlist with program date times). */
  text(path: string, contentType: string, body: () => string): void;
  /** Every /media/ request: path, status, epoch ms. */
  requests: { path: string; status: number; atMs: number }[];
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.mpd': 'application/dash+xml',
  '.ts': 'video/mp2t',
  '.m4s': 'video/iso.segment',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.html': 'text/html; charset=utf-8',
};

interface LiveRule extends Rule {
  handle: RuleHandle;
  windowEndMs: number;
  started: number;
  /** Requests held now: each wakes its own wait. */
  held: Set<() => void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the rule's window ends, or until release() wakes it. */
function holdFor(r: LiveRule, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      r.held.delete(wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    r.held.add(wake);
  });
}

export async function startMediaServer(
  mediaDir: string,
  options: MediaServerOptions = {},
): Promise<MediaServer> {
  const rules: LiveRule[] = [];
  const pages = new Map<string, string>();
  const files = new Map<string, string>();
  const texts = new Map<string, { type: string; body: () => string }>();
  const requests: MediaServer['requests'] = [];

  async function serveMedia(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    timed = true,
  ): Promise<void> {
    const arrived = Date.now();
    const headers: Record<string, string> = {
      'access-control-allow-origin': '*',
      'access-control-expose-headers': 'x-cdn, content-length, content-range',
      ...(timed && { 'timing-allow-origin': '*' }),
      'x-cdn': options.cdnHeader ?? CDN_HEADER_VALUE,
      'cache-control': 'no-store',
    };
    let status = 0;
    let throttleBps = 0;
    for (const r of rules) {
      if (!r.match.test(path)) continue;
      const now = Date.now();
      if (r.holdMs !== undefined) {
        if (now >= r.windowEndMs) {
          if (r.times !== undefined && r.started >= r.times) continue;
          r.started++;
          r.windowEndMs = now + r.holdMs;
        }
        await holdFor(r, r.windowEndMs - now);
      } else if (r.times !== undefined) {
        if (r.started >= r.times) continue;
        r.started++;
      }
      if (r.status) status = r.status;
      if (r.throttleBps) throttleBps = r.throttleBps;
      r.handle.hits.push({ path, startMs: arrived, endMs: Date.now() });
    }
    if (status) {
      requests.push({ path, status, atMs: arrived });
      res.writeHead(status, { ...headers, 'content-type': 'text/plain' });
      res.end(`status ${status} by test rule`);
      return;
    }
    const file = normalize(join(mediaDir, path));
    let size: number;
    try {
      if (!file.startsWith(mediaDir)) throw new Error('outside');
      size = statSync(file).size;
    } catch {
      requests.push({ path, status: 404, atMs: arrived });
      res.writeHead(404, headers).end();
      return;
    }
    headers['content-type'] = TYPES[extname(file)] ?? 'application/octet-stream';
    headers['accept-ranges'] = 'bytes';
    let start = 0;
    let end = size - 1;
    const range = /bytes=(\d*)-(\d*)/.exec(req.headers.range ?? '');
    if (range) {
      start = range[1] ? Number(range[1]) : size - Number(range[2]);
      end = range[1] && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      headers['content-range'] = `bytes ${start}-${end}/${size}`;
    }
    headers['content-length'] = String(end - start + 1);
    requests.push({ path, status: range ? 206 : 200, atMs: arrived });
    res.writeHead(range ? 206 : 200, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    if (!throttleBps) {
      createReadStream(file, { start, end }).pipe(res);
      return;
    }
    const body = readFileSync(file).subarray(start, end + 1);
    const chunk = Math.max(1024, Math.round(throttleBps / 10));
    for (let i = 0; i < body.length && !res.destroyed; i += chunk) {
      res.write(body.subarray(i, i + chunk));
      await sleep((chunk / throttleBps) * 1000);
    }
    res.end();
  }

  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (path.startsWith('/media/')) {
      serveMedia(req, res, path.slice('/media'.length)).catch(() => res.destroy());
      return;
    }
    if (path.startsWith('/media-untimed/')) {
      serveMedia(req, res, path.slice('/media-untimed'.length), false).catch(() => res.destroy());
      return;
    }
    const html = pages.get(path);
    if (html !== undefined) {
      res.writeHead(200, { 'content-type': TYPES['.html']!, 'cache-control': 'no-store' }).end(html);
      return;
    }
    const text = texts.get(path);
    if (text) {
      res
        .writeHead(200, {
          'content-type': text.type,
          'cache-control': 'no-store',
          'access-control-allow-origin': '*',
        })
        .end(text.body());
      return;
    }
    const file = files.get(path);
    if (file) {
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      createReadStream(file).pipe(res);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    rule(rule) {
      const handle: RuleHandle = {
        hits: [],
        release: () => {},
        remove: () => {
          const i = rules.indexOf(live);
          if (i >= 0) rules.splice(i, 1);
        },
      };
      handle.release = () => {
        handle.remove();
        for (const wake of [...live.held]) wake();
      };
      const live: LiveRule = { ...rule, handle, windowEndMs: 0, started: 0, held: new Set() };
      rules.push(live);
      return handle;
    },
    page: (path, html) => void pages.set(path, html),
    file: (path, filePath) => void files.set(path, filePath),
    text: (path, type, body) => void texts.set(path, { type, body }),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
