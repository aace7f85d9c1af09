/**
 * The Content-Type an intake accepts. The body is read as bytes whatever the
 * type (the intake decodes it itself), so this is the one check of the header.
 */
import { ApiError } from '../../http/api-error.js';

/**
 * What beacon-style JSON arrives as: sendBeacon sends text/plain to avoid a
 * CORS preflight; no type at all, JSON and bytes are accepted too.
 */
export const BEACON_CONTENT_TYPES: ReadonlySet<string> = new Set([
  '',
  'text/plain',
  'application/json',
  'application/octet-stream',
]);

/** Throws 415 unless the header's media type (parameters ignored) is one of `accepted`; `suggested` is named in the refusal. */
export function requireContentType(
  header: string | undefined,
  accepted: ReadonlySet<string>,
  suggested: string,
): void {
  const contentType = (header ?? '').split(';')[0]!.trim().toLowerCase();
  if (!accepted.has(contentType)) {
    throw new ApiError('QOE_ERR_UNSUPPORTED_MEDIA_TYPE', [
      `Content-Type ${contentType} is not accepted; send ${suggested}`,
    ]);
  }
}
