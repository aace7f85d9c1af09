/**
 * Live viewer counts (`GET /counts`) across pipeline workers. Every worker
 * publishes, each `live.counts.refreshMs` (at least once a second), its
 * tallies — per environment, audience and id: views, and the distinct
 * viewer ids — on core NATS. The api node keeps each worker's latest and
 * answers a count by summing views and taking the union of the viewer sets,
 * so a viewer watching on views held by two workers counts once.
 */
import type { NatsConnection, Subscription } from 'nats';
import { type Count, LiveCounts } from '../live/live-counts.js';
import type { Audience } from '../live/stats-token.js';

interface WireCounts {
  worker: string;
  atMs: number;
  part: number;
  parts: number;
  /** [key, views, viewer ids] */
  tallies: [string, number, string[]][];
}

/** Tallies per message, so a large worker's share stays under the NATS message size. */
const TALLIES_PER_MESSAGE = 500;

export function publishCounts(
  nc: NatsConnection,
  subject: string,
  worker: string,
  counts: LiveCounts,
  nowMs = Date.now(),
): void {
  const all = [...counts.tallies(nowMs)].map(
    ([key, t]) => [key, t.views, [...t.viewers]] as [string, number, string[]],
  );
  // An empty message still says "this worker has nothing now".
  for (let i = 0; i === 0 || i < all.length; i += TALLIES_PER_MESSAGE) {
    const msg: WireCounts = {
      worker,
      atMs: nowMs,
      part: i / TALLIES_PER_MESSAGE,
      parts: Math.max(1, Math.ceil(all.length / TALLIES_PER_MESSAGE)),
      tallies: all.slice(i, i + TALLIES_PER_MESSAGE),
    };
    nc.publish(subject, JSON.stringify(msg));
  }
}

interface Snapshot {
  atMs: number;
  receivedAtMs: number;
  parts: number;
  got: number;
  tallies: Map<string, { views: number; viewers: string[] }>;
}

export class MergedLiveCounts {
  private readonly latest = new Map<string, Snapshot>();
  private readonly assembling = new Map<string, Snapshot>();
  private sub: Subscription | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subject: string,
    /** A worker silent for longer (stopped, restarting) no longer counts. */
    private readonly staleMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.sub = this.nc.subscribe(this.subject, {
      callback: (err, m) => {
        if (err) return;
        const w = m.json<WireCounts>();
        let s = this.assembling.get(w.worker);
        if (!s || s.atMs !== w.atMs)
          s = { atMs: w.atMs, receivedAtMs: this.now(), parts: w.parts, got: 0, tallies: new Map() };
        this.assembling.set(w.worker, s);
        for (const [key, views, viewers] of w.tallies) s.tallies.set(key, { views, viewers });
        if (++s.got === s.parts) {
          this.latest.set(w.worker, s);
          this.assembling.delete(w.worker);
        }
      },
    });
  }

  count(envId: string, aud: Audience, id: string, nowMs = this.now()): Count {
    const key = LiveCounts.key(envId, aud, id);
    let views = 0;
    const viewers = new Set<string>();
    let updatedAtMs = 0;
    for (const [worker, s] of this.latest) {
      if (nowMs - s.receivedAtMs > this.staleMs) {
        this.latest.delete(worker);
        continue;
      }
      updatedAtMs = Math.max(updatedAtMs, s.atMs);
      const t = s.tallies.get(key);
      if (!t) continue;
      views += t.views;
      for (const v of t.viewers) viewers.add(v);
    }
    return { views, viewers: viewers.size, updatedAtMs: updatedAtMs || nowMs };
  }

  stop(): void {
    this.sub?.unsubscribe();
  }
}
