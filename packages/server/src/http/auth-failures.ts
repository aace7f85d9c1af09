/**
 * Failed authentication, limited per client address: after
 * `auth.maxFailuresPerAddress` failures (a wrong access token on the APIs, a
 * bogus signed token on the stats API) within `auth.failureWindowMs`, the
 * address is answered 429 with Retry-After until its window ends, before any
 * token is checked, so a flood of guesses costs a map lookup each. Other
 * addresses are not affected. One instance per server (`request.server.authFailures`,
 * decorated in main/build-app.ts), shared by every authenticated route.
 */
import type { FastifyRequest } from 'fastify';
import { ApiError } from './api-error.js';

declare module 'fastify' {
  interface FastifyInstance {
    authFailures: AuthFailures;
  }
}

interface Window {
  startMs: number;
  failures: number;
}

export class AuthFailures {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly maxFailures: number,
    private readonly windowMs: number,
    /** Addresses remembered at most; the oldest windows go first (a spread of addresses cannot grow memory). */
    private readonly maxAddresses = 100_000,
  ) {}

  /** Throws 429 when `address` has used up its failures in its current window. */
  check(address: string, nowMs = Date.now()): void {
    if (this.maxFailures <= 0) return;
    const w = this.windows.get(address);
    if (!w || nowMs - w.startMs >= this.windowMs || w.failures < this.maxFailures) return;
    const wait = Math.max(1, Math.ceil((w.startMs + this.windowMs - nowMs) / 1000));
    throw new ApiError(
      'QOE_ERR_RATE_LIMITED',
      [`Too many failed authentications from ${address}; retry after ${wait} s`],
      [],
      { 'retry-after': String(wait) },
    );
  }

  /** Counts a failure of `address`; returns its window (undefined when the limit is off). */
  failed(address: string, nowMs = Date.now()): Window | undefined {
    if (this.maxFailures <= 0) return undefined;
    let w = this.windows.get(address);
    if (!w || nowMs - w.startMs >= this.windowMs) {
      if (w) this.windows.delete(address);
      else if (this.windows.size >= this.maxAddresses) this.windows.delete(this.windows.keys().next().value!);
      w = { startMs: nowMs, failures: 0 };
      this.windows.set(address, w);
    }
    w.failures++;
    return w;
  }

  /**
   * Runs `authenticate` for the request unless its address is limited; a 401 it throws is a failure.
   * The attempt is charged as a failure up front and refunded when it was none, so concurrent
   * attempts of one address cannot all pass the check while their verifications are under way.
   */
  async guard<T>(request: FastifyRequest, authenticate: () => T | Promise<T>): Promise<T> {
    const address = request.ip;
    this.check(address);
    const window = this.failed(address);
    try {
      const ok = await authenticate();
      if (window) window.failures--;
      return ok;
    } catch (err) {
      if (window && !(err instanceof ApiError && err.code === 'QOE_ERR_UNAUTHORIZED')) window.failures--;
      throw err;
    }
  }
}
