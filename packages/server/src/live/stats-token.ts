/**
 * Verification of the stats API's signed tokens (JWS, RS256 only), as the
 * reference mints them: `sub` = the id, `aud` = the id type, `exp` required,
 * `kid` = a signing key id, in the JWT header or in the payload (the
 * reference's SDK puts it in the payload; other libraries in the header).
 *
 * Missing, malformed, unsigned, wrongly signed, expired and unknown-key
 * tokens are 401; a valid token whose audience does not fit the endpoint is
 * 403.
 *
 * A verified token is kept (StatsTokenCache) until its `exp`, so a viewer's
 * page polling every few seconds costs one RS256 verification (~93 µs) per
 * token, not per request; it is dropped once its signing key is deleted. A
 * token that fails verification is not kept: failures are limited per client
 * address instead (http/auth-failures.ts).
 */
import { decodeJwt, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import { ApiError } from '../http/api-error.js';
import type { SigningKeys } from './signing-keys.js';

export const AUDIENCES = ['video_id', 'asset_id', 'playback_id', 'live_stream_id'] as const;
export type Audience = (typeof AUDIENCES)[number];

/** Audiences other minters use for ours (an older release of the reference's SDK wrote `livestream_id`). */
const ALIASES: Record<string, Audience> = { livestream_id: 'live_stream_id' };

export interface VerifiedToken {
  sub: string;
  aud: Audience;
  envId: string;
  keyId: string;
}

const unauthorized = (message: string) => new ApiError('QOE_ERR_UNAUTHORIZED', [message]);

function audienceOf(aud: string): Audience | undefined {
  if ((AUDIENCES as readonly string[]).includes(aud)) return aud as Audience;
  return ALIASES[aud];
}

interface Verified {
  sub: string;
  auds: string[];
  envId: string;
  keyId: string;
  expMs: number;
}

/** Verified tokens until their exp, at most `size` (the oldest go first). */
export class StatsTokenCache {
  private readonly tokens = new Map<string, Verified>();

  constructor(private readonly size: number) {}

  get(token: string, keys: SigningKeys, nowMs: number): Verified | undefined {
    const v = this.tokens.get(token);
    if (!v) return undefined;
    // Expired, or its key deleted: verified afresh (and refused) like any unknown token.
    if (nowMs >= v.expMs || !keys.get(v.keyId)) {
      this.tokens.delete(token);
      return undefined;
    }
    return v;
  }

  set(token: string, v: Verified): void {
    if (this.size <= 0) return;
    if (this.tokens.size >= this.size) this.tokens.delete(this.tokens.keys().next().value!);
    this.tokens.set(token, v);
  }
}

export async function verifyStatsToken(
  token: string | undefined,
  keys: SigningKeys,
  accepted: readonly Audience[],
  cache?: StatsTokenCache,
  nowMs = Date.now(),
): Promise<VerifiedToken> {
  if (!token) throw unauthorized('The token query parameter is required');
  const v = cache?.get(token, keys, nowMs) ?? (await verifySignature(token, keys));
  if (cache && v.expMs > nowMs) cache.set(token, v);
  const aud = v.auds.map(audienceOf).find((a): a is Audience => a !== undefined && accepted.includes(a));
  if (!aud) {
    throw new ApiError('QOE_ERR_FORBIDDEN', [
      `The token's audience ${JSON.stringify(v.auds.length === 1 ? v.auds[0] : v.auds)} does not fit this endpoint; it accepts ${accepted.join(', ')}`,
    ]);
  }
  return { sub: v.sub, aud, envId: v.envId, keyId: v.keyId };
}

async function verifySignature(token: string, keys: SigningKeys): Promise<Verified> {
  let kid: unknown;
  try {
    const header = decodeProtectedHeader(token);
    // Only RS256: `none`, HS* (an attacker "signing" with the public key) and the rest are refused up front.
    if (header.alg !== 'RS256')
      throw unauthorized(`Token algorithm ${String(header.alg)} is not accepted; use RS256`);
    kid = header.kid ?? decodeJwt(token)['kid'];
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw unauthorized('The token is not a well-formed JWT');
  }
  if (typeof kid !== 'string' || kid === '') throw unauthorized('The token names no signing key (kid)');
  const key = keys.get(kid);
  if (!key) throw unauthorized(`Unknown signing key ${kid}`);
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, key.publicKey, {
      algorithms: ['RS256'],
      requiredClaims: ['exp', 'sub', 'aud'],
    }));
  } catch (err) {
    if (err instanceof errors.JWTExpired) throw unauthorized('The token has expired');
    if (err instanceof errors.JWTClaimValidationFailed)
      throw unauthorized(
        `The token's ${err.claim} claim is ${err.reason === 'missing' ? 'missing' : 'invalid'}`,
      );
    if (err instanceof errors.JWSSignatureVerificationFailed)
      throw unauthorized('The token signature does not verify');
    throw unauthorized('The token is not valid');
  }
  // A key deleted while the signature was being checked counts as deleted.
  if (!keys.get(kid)) throw unauthorized(`Unknown signing key ${kid}`);
  const sub = payload['sub'];
  if (typeof sub !== 'string' || sub === '') throw unauthorized("The token's sub claim is invalid");
  const auds = (Array.isArray(payload['aud']) ? payload['aud'] : [payload['aud']]).filter(
    (a): a is string => typeof a === 'string',
  );
  return { sub, auds, envId: key.envId, keyId: kid, expMs: Number(payload['exp']) * 1000 };
}
