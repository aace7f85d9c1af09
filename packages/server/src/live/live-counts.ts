/**
 * Live viewer counts for the stats API, read from the active views: how
 * many views of an id are being watched now, and by how many distinct
 * viewers (`viewer_user_id` when the page gives one, else the viewer id).
 * A view counts while it is in progress and its player is starting,
 * playing, seeking, rebuffering or in an ad; a paused, ended or failed view
 * does not.
 *
 * The index is rebuilt from the registry at most every `refreshMs`, so a
 * burst of requests costs one pass over the active views, not one each.
 */
import type { PlayerState } from '@openqoe/schema';
import { entry } from '../pipeline/realtime/map-entry.js';
import type { ActiveViews, ViewDimensions } from '../pipeline/view-model/active-views.js';
import type { Audience } from './stats-token.js';

const WATCHING = new Set<PlayerState>(['startup', 'playing', 'seeking', 'rebuffering', 'ad']);

const FIELD: Record<Audience, keyof ViewDimensions> = {
  video_id: 'videoId',
  asset_id: 'assetId',
  playback_id: 'playbackId',
  live_stream_id: 'liveStreamId',
};

const FIELDS = Object.entries(FIELD) as [Audience, keyof ViewDimensions][];

export interface Count {
  views: number;
  viewers: number;
  updatedAtMs: number;
}

export interface Tally {
  views: number;
  viewers: Set<string>;
}

export class LiveCounts {
  private index = new Map<string, Tally>();
  private builtAtMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly views: ActiveViews,
    private readonly refreshMs: number,
  ) {}

  static key(envId: string, aud: Audience, id: string): string {
    return `${envId}\u0000${aud}\u0000${id}`;
  }

  count(envId: string, aud: Audience, id: string, nowMs = Date.now()): Count {
    const t = this.tallies(nowMs).get(LiveCounts.key(envId, aud, id));
    return { views: t?.views ?? 0, viewers: t?.viewers.size ?? 0, updatedAtMs: this.builtAtMs };
  }

  /** Every id's tally, rebuilt if older than `refreshMs`: what a worker shares so counts merge across workers. */
  tallies(nowMs = Date.now()): ReadonlyMap<string, Tally> {
    if (nowMs - this.builtAtMs >= this.refreshMs) this.rebuild(nowMs);
    return this.index;
  }

  private rebuild(nowMs: number): void {
    const index = new Map<string, Tally>();
    for (const view of this.views.values()) {
      const dims = view.dims;
      if (view.status !== 'active' || !dims || !view.machine.isView) continue;
      if (!WATCHING.has(view.machine.currentState)) continue;
      const viewer = dims.viewerUserId || dims.viewerId || view.viewId;
      for (const [aud, field] of FIELDS) {
        const id = dims[field];
        if (typeof id !== 'string' || id === '') continue;
        const key = LiveCounts.key(view.envId, aud, id);
        const t = entry(index, key, () => ({ views: 0, viewers: new Set<string>() }));
        t.views++;
        t.viewers.add(viewer);
      }
    }
    this.index = index;
    this.builtAtMs = nowMs;
  }
}
