/**
 * Backfill mode of the native intake (`POST /v1/beacon?backfill=true`): an
 * administrator loads historical views, so the intake trusts the beacon's
 * device clock. The record's clock offset is 0 and the views land on their
 * own (past) days instead of being corrected to the time they arrive.
 *
 * Trusting the device clock is only safe for a trusted sender, so backfill
 * needs an access token with the `system` permission covering the beacon's
 * environment. Such a sender is exempt from the per-IP and per-environment
 * rate limits (they protect against public keys in pages), not from the size
 * and validation rules. It may also state the viewer's address in
 * X-Forwarded-For (first entry) whatever `trustProxy` says: loaded history
 * keeps its countries, as the data it comes from had them.
 */
import { isIP } from 'node:net';

import { type AuthenticatedToken, type Registry, tokenCoversEnvironment } from '../../auth/registry.js';
import { ApiError } from '../../http/api-error.js';
import { parseBasic } from '../../http/auth-hook.js';

export interface Backfill {
  readonly token: AuthenticatedToken;
}

/**
 * Reads `?backfill=` and, when it asks for backfill, authenticates the
 * request. Returns undefined for a normal beacon; throws 401/403 (or 400 for
 * a value other than true/false) in the error envelope.
 */
export function authorizeBackfill(
  registry: Registry,
  param: string | undefined,
  authorization: string | undefined,
): Backfill | undefined {
  if (param === undefined || param === 'false') return undefined;
  if (param !== 'true') {
    throw new ApiError('QOE_ERR_INVALID_PARAMETERS', undefined, [
      { path: 'querystring.backfill', problem: 'must be true or false' },
    ]);
  }
  const creds = parseBasic(authorization);
  const token = creds && registry.authenticate(creds.id, creds.secret);
  if (!token) {
    throw new ApiError(
      'QOE_ERR_UNAUTHORIZED',
      ['Backfill needs an access token with the system permission (HTTP Basic)'],
      [],
      { 'www-authenticate': 'Basic realm="openqoe"' },
    );
  }
  if (!token.permissions.includes('system')) {
    throw new ApiError('QOE_ERR_FORBIDDEN', ['Backfill needs an access token with the system permission']);
  }
  return { token };
}

/** Refuses (403) a backfill whose token does not cover the beacon's environment. */
export function requireBackfillEnvironment(backfill: Backfill | undefined, envId: string): void {
  if (backfill && !tokenCoversEnvironment(backfill.token, envId)) {
    throw new ApiError('QOE_ERR_FORBIDDEN', ['The access token does not cover this environment']);
  }
}

/** The client address of the record: a backfill's X-Forwarded-For when it gives one, else the connection's. */
export function clientAddress(
  backfill: Backfill | undefined,
  forwardedFor: string | string[] | undefined,
  connectionIp: string,
): string {
  if (!backfill || forwardedFor === undefined) return connectionIp;
  const first = (Array.isArray(forwardedFor) ? forwardedFor[0] : forwardedFor)?.split(',')[0]?.trim() ?? '';
  return isIP(first) ? first : connectionIp;
}

/** Server receive time − the beacon's transmission time, or 0 when backfill trusts the device clock. */
export function clockOffsetMs(
  backfill: Backfill | undefined,
  receivedAtMs: number,
  sentAtMs: number,
): number {
  return backfill ? 0 : receivedAtMs - sentAtMs;
}
