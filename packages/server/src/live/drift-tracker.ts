/**
 * Stream drift of one ingest connection: how far the media an encoder has
 * sent falls behind the wall clock since its first video packet.
 *
 *   drift = wall-clock elapsed − media elapsed
 *
 * An encoder that sends 5 s of media in 10 s has drifted 5 s. The session
 * average is the mean of every drift sample of the connection (it smooths
 * packet jitter and starts again on reconnect); the deviation compares the
 * latest drift with the mean over the last `rollingWindowMs`, so it shows
 * whether drift is growing now rather than whether it grew once.
 *
 * Time zero is the first video packet, except during the first `warmUpMs`
 * of the connection: a packet then that carries media ahead of the wall
 * clock shows the first one was late (a busy server, a start-up burst of
 * frames the encoder had buffered) and moves time zero to it. Otherwise that
 * start-up offset would stay in every drift value of the session. After the
 * warm-up time zero is fixed, so an encoder running fast shows as negative
 * drift. Each sample is kept as its offset (arrival − media timestamp);
 * drift is the offset minus time zero's, so moving time zero needs no
 * recomputation, and the deviation (a difference of offsets) never depends
 * on it.
 */

export type HealthStatus = 'excellent' | 'good' | 'poor' | 'unknown';

/** Thresholds of the reference on |deviation from the rolling average|. */
export const EXCELLENT_MAX_MS = 500;
export const GOOD_MAX_MS = 1000;

export function statusOf(deviationMs: number): Exclude<HealthStatus, 'unknown'> {
  const d = Math.abs(deviationMs);
  if (d <= EXCELLENT_MAX_MS) return 'excellent';
  if (d <= GOOD_MAX_MS) return 'good';
  return 'poor';
}

export interface DriftSnapshot {
  driftMs: number;
  sessionAvgMs: number;
  deviationMs: number;
  status: Exclude<HealthStatus, 'unknown'>;
  /** Wall clock of the latest video packet. */
  lastPacketMs: number;
  samples: number;
}

export class DriftTracker {
  private firstWallMs = 0;
  private lastMediaMs = 0;
  private lastWallMs = 0;
  private lastOffsetMs = 0;
  /** The first packet's offset: offsets are kept relative to it, small enough to sum without losing precision. */
  private baseOffsetMs = 0;
  /** Offset of time zero (the packet that anchors the session), relative to the base. */
  private zeroOffsetMs = 0;
  private count = 0;
  private sum = 0;
  /** Offsets inside the rolling window: parallel arrays used as a queue from `head`. */
  private winWall: number[] = [];
  private winOffset: number[] = [];
  private head = 0;
  private winSum = 0;

  constructor(
    private readonly rollingWindowMs: number,
    private readonly warmUpMs = 0,
  ) {}

  get started(): boolean {
    return this.count > 0;
  }

  /** One video packet arrived at `wallMs` (a monotonic clock) carrying media timestamp `mediaMs`. */
  video(wallMs: number, mediaMs: number): void {
    if (this.count === 0) {
      this.firstWallMs = wallMs;
      this.lastMediaMs = mediaMs;
      this.baseOffsetMs = wallMs - mediaMs;
      this.zeroOffsetMs = 0;
    }
    // Decode timestamps only move forward; a step back (a misbehaving encoder) must not read as drift.
    this.lastMediaMs = Math.max(this.lastMediaMs, mediaMs);
    const offset = wallMs - this.lastMediaMs - this.baseOffsetMs;
    if (wallMs - this.firstWallMs < this.warmUpMs) this.zeroOffsetMs = Math.min(this.zeroOffsetMs, offset);
    this.lastWallMs = wallMs;
    this.lastOffsetMs = offset;
    this.count++;
    this.sum += offset;
    this.winWall.push(wallMs);
    this.winOffset.push(offset);
    this.winSum += offset;
    this.evict(wallMs);
  }

  private evict(nowMs: number): void {
    const from = nowMs - this.rollingWindowMs;
    while (this.head < this.winWall.length - 1 && this.winWall[this.head]! < from) {
      this.winSum -= this.winOffset[this.head]!;
      this.head++;
    }
    // Compact now and then so the arrays do not grow for the life of the connection.
    if (this.head > 4096) {
      this.winWall = this.winWall.slice(this.head);
      this.winOffset = this.winOffset.slice(this.head);
      this.head = 0;
      this.winSum = this.winOffset.reduce((a, b) => a + b, 0);
    }
  }

  snapshot(): DriftSnapshot | undefined {
    if (this.count === 0) return undefined;
    const inWindow = this.winWall.length - this.head;
    const deviationMs = this.lastOffsetMs - this.winSum / inWindow;
    return {
      driftMs: this.lastOffsetMs - this.zeroOffsetMs,
      sessionAvgMs: this.sum / this.count - this.zeroOffsetMs,
      deviationMs,
      status: statusOf(deviationMs),
      lastPacketMs: this.lastWallMs,
      samples: this.count,
    };
  }
}
