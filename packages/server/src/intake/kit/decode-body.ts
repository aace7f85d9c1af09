/**
 * Body decoding shared by every intake: gzip (by Content-Encoding or by its
 * magic bytes, since sendBeacon cannot set headers) with a hard cap on the
 * decompressed size, so a gzip bomb costs at most that many bytes.
 */
import { isUtf8 } from 'node:buffer';
import { gunzipSync } from 'node:zlib';
import { ApiError } from '../../http/api-error.js';

const isGzip = (b: Buffer) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

export interface DecodedBody {
  bytes: Buffer;
  text: string;
  compressed: boolean;
}

export function decodeBody(
  raw: Buffer,
  contentEncoding: string | undefined,
  maxDecompressedBytes: number,
): DecodedBody {
  const encoding = contentEncoding?.trim().toLowerCase();
  if (encoding && encoding !== 'identity' && encoding !== 'gzip' && encoding !== 'x-gzip') {
    throw new ApiError('QOE_ERR_UNSUPPORTED_MEDIA_TYPE', [
      `Content-Encoding ${encoding} is not supported; use gzip`,
    ]);
  }
  let bytes = raw;
  let compressed = false;
  if (encoding === 'gzip' || encoding === 'x-gzip' || isGzip(raw)) {
    compressed = true;
    try {
      // Synchronous on purpose: bodies are ≤ 1 MiB and the threadpool round trip costs more than it saves.
      bytes = gunzipSync(raw, { maxOutputLength: maxDecompressedBytes });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
        throw new ApiError('QOE_ERR_DECOMPRESSED_TOO_LARGE', [
          `The body decompresses to more than ${maxDecompressedBytes} bytes`,
        ]);
      }
      throw new ApiError('QOE_ERR_INVALID_ENCODING', [
        `The body is not valid gzip: ${(err as Error).message}`,
      ]);
    }
  } else if (raw.length > maxDecompressedBytes) {
    throw new ApiError('QOE_ERR_PAYLOAD_TOO_LARGE');
  }
  if (!isUtf8(bytes)) throw new ApiError('QOE_ERR_INVALID_ENCODING', ['The body is not valid UTF-8']);
  return { bytes, text: bytes.toString('utf8'), compressed };
}

/** JSON.parse with the parser's own message (it names the position) in the error. */
export function parseJson(text: string): unknown {
  if (text.trim() === '') throw new ApiError('QOE_ERR_INVALID_JSON', ['The body is empty']);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ApiError('QOE_ERR_INVALID_JSON', [`The body is not valid JSON: ${(err as Error).message}`]);
  }
}
