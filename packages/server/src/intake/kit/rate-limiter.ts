/**
 * Token buckets keyed by environment key or client IP. The keys come from the
 * body as well as the socket, after parsing, so this runs inside the intake
 * rather than as a generic onRequest plugin. Idle buckets are swept so a
 * stream of random keys cannot grow memory without bound.
 */
import type { Config } from '../../config/config-schema.js';
import { ApiError } from '../../http/api-error.js';

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private lastSweepMs = 0;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly maxKeys = 100_000,
  ) {}

  get enabled(): boolean {
    return this.perSecond > 0;
  }

  /** 0 when allowed; otherwise the seconds to wait before a token is available. */
  take(key: string, nowMs: number): number {
    if (!this.enabled) return 0;
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.maxKeys) this.sweep(nowMs, true);
      b = { tokens: this.burst, updatedMs: nowMs };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.burst, b.tokens + ((nowMs - b.updatedMs) / 1000) * this.perSecond);
      b.updatedMs = nowMs;
    }
    if (nowMs - this.lastSweepMs > 60_000) this.sweep(nowMs, false);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - b.tokens) / this.perSecond);
  }

  /** Drops buckets that have refilled (nothing to remember); under pressure, drops the oldest half too. */
  private sweep(nowMs: number, pressure: boolean): void {
    this.lastSweepMs = nowMs;
    const fullAfterMs = (this.burst / this.perSecond) * 1000;
    for (const [k, b] of this.buckets) if (nowMs - b.updatedMs >= fullAfterMs) this.buckets.delete(k);
    if (pressure && this.buckets.size >= this.maxKeys) {
      let n = this.buckets.size / 2;
      for (const k of this.buckets.keys()) {
        if (n-- <= 0) break;
        this.buckets.delete(k);
      }
    }
  }
}

type RateLimitConfig = Config['intake']['rateLimit'];

/**
 * An intake's two limits: per client IP (checked before the body is decoded,
 * so a flood costs no gunzip) and per environment (once the key is known).
 * Each intake has its own, so Mux traffic does not spend native beacons'
 * budget. A refusal is 429 with Retry-After; `what` names the unit in it.
 */
export class IntakeRateLimits {
  private readonly perIp: RateLimiter;
  private readonly perEnvironment: RateLimiter;

  constructor(
    limits: RateLimitConfig,
    private readonly what: 'beacons' | 'reports',
  ) {
    this.perIp = new RateLimiter(limits.perIpPerSecond, limits.perIpBurst);
    this.perEnvironment = new RateLimiter(limits.perEnvKeyPerSecond, limits.perEnvKeyBurst);
  }

  /** Throws 429 when `ip` is over its rate. */
  fromIp(ip: string, nowMs: number): void {
    refuseOver(this.perIp.take(ip, nowMs), `Too many ${this.what} from ${ip}`);
  }

  /** Throws 429 when the environment is over its rate. */
  forEnvironment(envId: string, nowMs: number): void {
    refuseOver(this.perEnvironment.take(envId, nowMs), `Too many ${this.what} for this environment`);
  }
}

function refuseOver(waitSeconds: number, message: string): void {
  if (waitSeconds > 0)
    throw new ApiError('QOE_ERR_RATE_LIMITED', [message], [], { 'retry-after': String(waitSeconds) });
}
