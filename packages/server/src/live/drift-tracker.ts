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
  private firstMediaMs = 0;
  private lastMediaMs = 0;
  private lastWallMs = 0;
  private lastDriftMs = 0;
  private count = 0;
  private sum = 0;
  /** Drift samples inside the rolling window: parallel arrays used as a queue from `head`. */
  private winWall: number[] = [];
  private winDrift: number[] = [];
  private head = 0;
  private winSum = 0;

  constructor(private readonly rollingWindowMs: number) {}

  get started(): boolean {
    return this.count > 0;
  }

  /** One video packet arrived at `wallMs` (a monotonic clock) carrying media timestamp `mediaMs`. */
  video(wallMs: number, mediaMs: number): void {
    if (this.count === 0) {
      this.firstWallMs = wallMs;
      this.firstMediaMs = mediaMs;
      this.lastMediaMs = mediaMs;
    }
    // Decode timestamps only move forward; a step back (a misbehaving encoder) must not read as drift.
    this.lastMediaMs = Math.max(this.lastMediaMs, mediaMs);
    const drift = wallMs - this.firstWallMs - (this.lastMediaMs - this.firstMediaMs);
    this.lastWallMs = wallMs;
    this.lastDriftMs = drift;
    this.count++;
    this.sum += drift;
    this.winWall.push(wallMs);
    this.winDrift.push(drift);
    this.winSum += drift;
    this.evict(wallMs);
  }

  private evict(nowMs: number): void {
    const from = nowMs - this.rollingWindowMs;
    while (this.head < this.winWall.length - 1 && this.winWall[this.head]! < from) {
      this.winSum -= this.winDrift[this.head]!;
      this.head++;
    }
    // Compact now and then so the arrays do not grow for the life of the connection.
    if (this.head > 4096) {
      this.winWall = this.winWall.slice(this.head);
      this.winDrift = this.winDrift.slice(this.head);
      this.head = 0;
      this.winSum = this.winDrift.reduce((a, b) => a + b, 0);
    }
  }

  snapshot(): DriftSnapshot | undefined {
    if (this.count === 0) return undefined;
    const inWindow = this.winWall.length - this.head;
    const rollingAvg = this.winSum / inWindow;
    const deviationMs = this.lastDriftMs - rollingAvg;
    return {
      driftMs: this.lastDriftMs,
      sessionAvgMs: this.sum / this.count,
      deviationMs,
      status: statusOf(deviationMs),
      lastPacketMs: this.lastWallMs,
      samples: this.count,
    };
  }
}
