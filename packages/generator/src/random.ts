/**
 * The random draws of the synthetic views: a seeded PRNG (mulberry32), the
 * per-view seed, and the shapes drawn from it (weighted picks, log-normal,
 * Poisson, Zipf, hex ids). Nothing here reads the clock or Math.random, so
 * a view depends on (seed, index) only.
 */
import type { Weighted } from './distribution.js';

/** mulberry32: a small, fast 32-bit PRNG; uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The view's own seed: murmur3's finaliser over the run seed and the index, so neighbours are unrelated. */
export function viewSeed(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export interface LogNormal {
  median: number;
  sigma: number;
  min: number;
  max: number;
}

export class Draw {
  constructor(readonly next: () => number) {}

  chance(p: number): boolean {
    return this.next() < p;
  }

  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(list: Weighted<T>): T {
    let r = this.next() * 100;
    for (const [value, weight] of list) {
      r -= weight;
      if (r < 0) return value;
    }
    return list[list.length - 1]![0];
  }

  normal(): number {
    // Box–Muller; 1 − u keeps log away from 0.
    return Math.sqrt(-2 * Math.log(1 - this.next())) * Math.cos(2 * Math.PI * this.next());
  }

  logNormal(d: LogNormal, factor = 1): number {
    const v = d.median * factor * Math.exp(d.sigma * this.normal());
    return Math.round(Math.min(d.max, Math.max(d.min, v)));
  }

  /** Knuth's method: fine for the small means used here (at most a few dozen). */
  poisson(mean: number): number {
    const limit = Math.exp(-mean);
    let k = 0;
    let p = this.next();
    while (p > limit) {
      k++;
      p *= this.next();
    }
    return k;
  }

  zipf(cumulative: readonly number[]): number {
    const r = this.next() * cumulative[cumulative.length - 1]!;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! > r) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  hex(chars: number): string {
    let out = '';
    while (out.length < chars)
      out += (Math.floor(this.next() * 0x1_0000_0000) >>> 0).toString(16).padStart(8, '0');
    return out.slice(0, chars);
  }
}

/** Cumulative Zipf weights of ranks 1..n (exponent s), for Draw.zipf. */
export const zipfCumulative = (n: number, s: number): number[] => {
  const out: number[] = [];
  let sum = 0;
  for (let k = 1; k <= n; k++) {
    sum += 1 / k ** s;
    out.push(sum);
  }
  return out;
};
