/**
 * How long the tests wait, on this machine, now. Every deadline in the test
 * helpers (a server's start, a poll for a value that settles, a child
 * command's run, vitest's test and hook timeouts) is written as the time
 * that is generous on an idle machine — at least ten times what the wait
 * takes there — and scaled here by `slowdown()`:
 *
 *   slowdown = max(1, wall time of a fixed CPU calibration ÷ REFERENCE_MS)
 *
 * The calibration (a ~25 ms integer loop on an idle core of the machine the
 * suite was written on) runs when a worker first asks, and again when a
 * deadline is checked more than RECHECK_MS after the last run, so a wait
 * stretches when the machine gets busier while it waits. A slower machine,
 * or a busy one (the loop gets a fraction of a core), measures a larger
 * factor. It never goes below 1: waits are never shorter than their idle
 * values. vitest's own timeouts get TEST_TIMEOUT_HEADROOM on top, so they
 * outlast the waits inside a test and are never the thing that fails.
 *
 * OPENQOE_TEST_SLOWDOWN=3 replaces the measurement with a fixed factor
 * (1 turns the scaling off).
 */

/** Wall time of the calibration loop on one idle core (its CPU time on the reference machine). */
export const REFERENCE_MS = 25;
/** How stale a measurement may be before a deadline check measures again. */
export const RECHECK_MS = 15_000;
/** vitest test and hook timeouts: this many times the scaled idle time. */
export const TEST_TIMEOUT_HEADROOM = 2;
/** vitest's test and hook timeout when a test names none, on an idle machine. */
export const IDLE_TEST_TIMEOUT_MS = 60_000;
/** `expect.poll`'s deadline when a test names none, on an idle machine (vitest's default is 1 s). */
export const IDLE_POLL_TIMEOUT_MS = 5_000;

const ITERATIONS = 15_000_000;
let sink = 0;

/** Wall time (ms) of a fixed amount of CPU work: xorshift over a 32-bit integer. */
function calibrate(): number {
  const started = performance.now();
  let x = 0x9e3779b9 ^ sink;
  for (let i = 0; i < ITERATIONS; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  // Kept, so the loop cannot be optimised away.
  sink = x;
  return performance.now() - started;
}

function fixedFactor(): number | undefined {
  const raw = process.env['OPENQOE_TEST_SLOWDOWN'];
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0)
    throw new Error(`OPENQOE_TEST_SLOWDOWN must be a positive number, not ${raw}`);
  return Math.max(1, n);
}

let latest: { factor: number; atMs: number } | undefined;
let largest = 1;

/** The current factor (≥ 1): measured again when the last measurement is older than RECHECK_MS. */
export function slowdown(): number {
  const fixed = fixedFactor();
  if (fixed !== undefined) return fixed;
  const now = Date.now();
  if (!latest || now - latest.atMs > RECHECK_MS) {
    latest = { factor: Math.max(1, calibrate() / REFERENCE_MS), atMs: Date.now() };
    largest = Math.max(largest, latest.factor);
  }
  return latest.factor;
}

/** The largest factor this process has measured (vitest timeouts use it: they are fixed once set). */
export function largestSlowdown(): number {
  slowdown();
  return fixedFactor() ?? largest;
}

/** A wait that is `idleMs` on an idle machine, on this one now. */
export function patience(idleMs: number): number {
  return Math.round(idleMs * slowdown());
}

/** A vitest test or hook timeout that is `idleMs` on an idle machine: scaled, with headroom. */
export function testBudget(idleMs: number): number {
  return Math.round(idleMs * largestSlowdown() * TEST_TIMEOUT_HEADROOM);
}

/**
 * A deadline `idleMs` (idle-machine time) from now that stretches with the
 * machine: it uses the largest factor seen since it was set, so a wait that
 * began on an idle machine gets longer when the machine becomes busy.
 */
export class Deadline {
  private readonly startedMs = Date.now();
  private factor = slowdown();

  constructor(readonly idleMs: number) {}

  /** The deadline's length as it stands now (ms). */
  get ms(): number {
    this.factor = Math.max(this.factor, slowdown());
    return Math.round(this.idleMs * this.factor);
  }

  get elapsedMs(): number {
    return Date.now() - this.startedMs;
  }

  expired(): boolean {
    return this.elapsedMs >= this.ms;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `check` until it holds; throws when it still does not after
 * `idleTimeoutMs` (idle-machine time, scaled). "within N s" in a test is this
 * deadline, never a performance assertion.
 */
export async function waitFor(
  check: () => Promise<boolean>,
  what: string,
  idleTimeoutMs = 20_000,
): Promise<void> {
  const deadline = new Deadline(idleTimeoutMs);
  for (;;) {
    if (await check()) return;
    if (deadline.expired()) break;
    await sleep(100);
  }
  throw new Error(`timed out after ${deadline.elapsedMs} ms waiting for ${what}`);
}

/**
 * Reads a value that settles (a counter, a gauge, what a page shows) until
 * `done(value)` holds or the deadline passes, and returns the last reading
 * either way: the test asserts on it, so a value that settles wrong still
 * fails, with the value in the message.
 */
export async function settled<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  idleTimeoutMs = 20_000,
): Promise<T> {
  const deadline = new Deadline(idleTimeoutMs);
  for (;;) {
    const value = await read();
    if (done(value) || deadline.expired()) return value;
    await sleep(100);
  }
}
