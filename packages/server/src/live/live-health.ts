/**
 * Ingest health of every live stream: one drift tracker per encoder
 * connection (a new connection starts a new session, so the session average
 * resets on reconnect), the status the stats API reports, and the health
 * history written to the store for the dashboard.
 *
 * After the encoder goes away (or stops sending video while connected) the
 * last measurement stands until `idleUnknownMs` has passed since its last
 * video packet; then the status is `unknown`. A short reconnect therefore
 * does not flash `unknown`, and a stalled encoder is noticed.
 */

import type { Config } from '../config/config-schema.js';
import type { HealthRow, LiveStore } from '../store/live-store.js';
import { DriftTracker, type HealthStatus } from './drift-tracker.js';

export interface StreamHealth {
  /** Epoch ms of the measurement (the latest video packet), or of the answer when unknown. */
  updatedAtMs: number;
  driftMs: number;
  sessionAvgMs: number;
  deviationMs: number;
  status: HealthStatus;
  connected: boolean;
}

interface StreamState {
  envId: string;
  tracker: DriftTracker | undefined;
  /** The connection that owns the tracker; a stale close of an older one must not end a newer session. */
  session: number;
  connected: boolean;
  lastWritten: HealthStatus | undefined;
}

/** Epoch-aligned monotonic milliseconds: wall-clock steps (NTP) must not read as drift. */
export const monotonicNow = (): number => performance.timeOrigin + performance.now();

export class LiveHealth {
  private readonly streams = new Map<string, StreamState>();
  private nextSession = 1;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: Config['live']['drift'],
    private readonly store: LiveStore,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.writing = this.writing.then(() => this.writeHistory(monotonicNow())).catch(this.onError);
    }, this.options.historyIntervalMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.writing;
    await this.writeHistory(monotonicNow()).catch(this.onError);
  }

  /** An encoder began publishing; returns the session handle its packets and close use. */
  connect(streamId: string, envId: string): number {
    const session = this.nextSession++;
    const prev = this.streams.get(streamId);
    this.streams.set(streamId, {
      envId,
      tracker: new DriftTracker(this.options.rollingWindowMs, this.options.warmUpMs),
      session,
      connected: true,
      lastWritten: prev?.lastWritten,
    });
    return session;
  }

  video(streamId: string, session: number, wallMs: number, mediaMs: number): void {
    const s = this.streams.get(streamId);
    if (s && s.session === session) s.tracker?.video(wallMs, mediaMs);
  }

  disconnect(streamId: string, session: number): void {
    const s = this.streams.get(streamId);
    if (s && s.session === session) s.connected = false;
  }

  isConnected(streamId: string): boolean {
    return this.streams.get(streamId)?.connected ?? false;
  }

  forget(streamId: string): void {
    this.streams.delete(streamId);
  }

  health(streamId: string, nowMs = monotonicNow()): StreamHealth {
    const s = this.streams.get(streamId);
    const snap = s?.tracker?.snapshot();
    const connected = s?.connected ?? false;
    if (!snap || nowMs - snap.lastPacketMs > this.options.idleUnknownMs)
      return {
        updatedAtMs: nowMs,
        driftMs: 0,
        sessionAvgMs: 0,
        deviationMs: 0,
        status: 'unknown',
        connected,
      };
    const { driftMs, sessionAvgMs, deviationMs, status } = snap;
    return { updatedAtMs: snap.lastPacketMs, driftMs, sessionAvgMs, deviationMs, status, connected };
  }

  /** One row per stream that is connected, or whose status changed since the last row. */
  private async writeHistory(nowMs: number): Promise<void> {
    const rows: HealthRow[] = [];
    for (const [id, s] of this.streams) {
      const h = this.health(id, nowMs);
      if (!s.connected && h.status === s.lastWritten) continue;
      s.lastWritten = h.status;
      const known = h.status !== 'unknown';
      rows.push({
        envId: s.envId,
        liveStreamId: id,
        atMs: Math.round(nowMs),
        status: h.status,
        connected: s.connected,
        driftMs: known ? h.driftMs : null,
        sessionAvgMs: known ? h.sessionAvgMs : null,
        deviationMs: known ? h.deviationMs : null,
      });
    }
    await this.store.insertHealth(rows);
  }
}
