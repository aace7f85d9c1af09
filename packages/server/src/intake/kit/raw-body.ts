/**
 * How every intake takes its body: as raw bytes for any content type, within
 * the compressed size limit (413 beyond it), without the copy Fastify's
 * `parseAs: 'buffer'` always makes. The intake checks the type and decodes
 * the bytes itself (content-type.ts, decode-body.ts).
 *
 * Why: on the beacon intake that copy (a new off-heap buffer per request,
 * joined from the chunks) cost about as much CPU as validating the beacon
 * (docs/benchmarks.md, "Ingest"). Node gives each body chunk a buffer of its
 * own, so a body that arrives in one chunk, as beacons of tens of kB do, is
 * used as it is. A chunk that is a view into a larger buffer, or as large as
 * a socket read, could share memory with later reads, so it is copied.
 *
 * Errors are Fastify's own, so the refusals, their codes and the draining of
 * refused bodies (api-error.ts) stay exactly as with the built-in parser.
 */
import type { IncomingMessage } from 'node:http';
import { errorCodes, type FastifyInstance, type FastifyRequest } from 'fastify';

/** Node reads sockets in pieces of up to this size; a chunk this large may be a shared read buffer. */
const SOCKET_READ_BYTES = 64 * 1024;

const ownsItsMemory = (chunk: Buffer) =>
  chunk.byteOffset === 0 && chunk.buffer.byteLength === chunk.length && chunk.length < SOCKET_READ_BYTES;

/**
 * Makes `scope` (the intake's own plugin context or listener) hand its routes
 * every body as raw bytes of at most `maxBodyBytes`. A refused body is drained
 * by the application's `drainRefusedBodies` hook, so the client reads the 413.
 */
export function takeRawBodies(scope: FastifyInstance, maxBodyBytes: number): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', { bodyLimit: maxBodyBytes }, rawBodyParser(maxBodyBytes));
}

export function rawBodyParser(limit: number) {
  return (
    request: FastifyRequest,
    payload: IncomingMessage,
    done: (err: Error | null, body?: Buffer) => void,
  ): void => {
    const declared = Number(request.headers['content-length']);
    if (declared > limit) {
      done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    const detach = () => {
      payload.removeListener('data', onData);
      payload.removeListener('end', onEnd);
      payload.removeListener('error', onEnd);
    };
    function onData(chunk: Buffer): void {
      received += chunk.length;
      if (received > limit) {
        detach();
        done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
        return;
      }
      chunks.push(chunk);
    }
    function onEnd(err?: Error & { statusCode?: number }): void {
      detach();
      if (err) {
        if (!(typeof err.statusCode === 'number' && err.statusCode >= 400)) err.statusCode = 400;
        done(err);
        return;
      }
      if (!Number.isNaN(declared) && received !== declared) {
        done(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
        return;
      }
      const only = chunks.length === 1 ? chunks[0]! : undefined;
      done(null, only && ownsItsMemory(only) ? only : Buffer.concat(chunks, received));
    }
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onEnd);
    payload.resume();
  };
}
