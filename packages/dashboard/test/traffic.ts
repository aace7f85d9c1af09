/**
 * Synthetic player traffic for the dashboard tests, sent through the real
 * intake (`POST /v1/beacon` with the environment key): each view is a
 * script of states held for exact durations and events at exact times, so
 * a test knows to the millisecond what every page must show.
 */
import {
  makeBeacon,
  makeEvent,
  makeSample,
  type PlayerEvent,
  type PlayerState,
  type Sample,
} from '@openqoe/schema';
import { postBeacon, type ServerProcess, waitFor } from '../../server/test/helpers/server-process.js';

export class ScriptedView {
  private seq = 0;
  private playheadMs = 0;
  private samples: Sample[] = [];
  private events: PlayerEvent[] = [];

  constructor(
    readonly viewId: string,
    /** Device time of the next item (epoch ms). */
    public t: number,
    private readonly dims: Partial<Sample> = {},
  ) {}

  /** The view holds `state` for `ms` (the playhead moves only while playing). */
  seg(state: PlayerState, ms: number, extra: Partial<Sample> = {}): this {
    const start = this.playheadMs;
    if (state === 'playing') this.playheadMs += ms;
    this.samples.push(
      makeSample({
        viewerId: `viewer-${this.viewId}`,
        sessionId: `session-${this.viewId}`,
        playerInstanceId: `player-${this.viewId}`,
        ...this.dims,
        ...extra,
        viewId: this.viewId,
        sequenceNumber: this.seq++,
        state,
        timestamp: this.t,
        durationMs: ms,
        viewerTime: this.t + ms,
        playedMs: state === 'playing' ? ms : 0,
        videoTimeStartMs: start,
        videoTimeEndMs: this.playheadMs,
      }),
    );
    this.t += ms;
    return this;
  }

  ev(type: PlayerEvent['type'], state: PlayerState, extra: Partial<PlayerEvent> = {}): this {
    this.events.push(
      makeEvent({
        viewId: this.viewId,
        sequenceNumber: this.seq++,
        type,
        state,
        viewerTime: this.t,
        playheadMs: this.playheadMs,
        ...extra,
      }),
    );
    return this;
  }

  /** The items written since the last take. */
  take(): { samples: Sample[]; events: PlayerEvent[] } {
    const out = { samples: this.samples, events: this.events };
    this.samples = [];
    this.events = [];
    return out;
  }
}

/**
 * Sends what the views wrote since their last take in one beacon. `sentAt`
 * is the device clock now, so the server's clock offset is the network
 * latency only and event times stay where the script put them.
 */
export async function sendViews(
  server: ServerProcess,
  views: ScriptedView[],
  sentAt = Date.now(),
  backfill = false,
): Promise<void> {
  const items = views.map((v) => v.take());
  const beacon = makeBeacon({
    envKey: server.bootstrap().environment.key,
    sentAt,
    samples: items.flatMap((i) => i.samples),
    events: items.flatMap((i) => i.events),
  });
  const res = await postBeacon(
    server.url,
    JSON.stringify(beacon),
    backfill
      ? { 'content-type': 'text/plain', authorization: server.adminAuth() }
      : { 'content-type': 'text/plain' },
    backfill ? '?backfill=true' : '',
  );
  if (res.status !== 202) throw new Error(`beacon refused: ${res.status} ${JSON.stringify(res.json)}`);
}

/**
 * Views that happened in the past (hours ago), loaded as an administrator's
 * backfill: the server trusts their device clock, so they land in the
 * minutes the script put them in instead of being moved to their arrival.
 */
export const backfillViews = (server: ServerProcess, views: ScriptedView[]) =>
  sendViews(server, views, Date.now(), true);

/** Views in progress, one per CDN host given, each past a `startupMs` startup now (heartbeats play them on). */
export function startedViews(prefix: string, cdnHosts: string[], startupMs = 500): ScriptedView[] {
  const start = Date.now() - startupMs;
  return cdnHosts.map((cdnHost, i) =>
    new ScriptedView(`${prefix}-${i}-${start}`, start, { cdnHost, videoTitle: 'Live film' })
      .ev('playrequest', 'startup')
      .seg('startup', startupMs),
  );
}

/**
 * Views in progress reporting like players' heartbeats: at each beat every
 * view reports the time since its last report, as rebuffering if it is in
 * `stalled`, else as playing.
 */
export class Heartbeat {
  readonly stalled = new Set<string>();
  /** Beats sent so far. */
  beats = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly server: ServerProcess,
    public views: ScriptedView[] = [],
  ) {}

  async beat(): Promise<void> {
    const now = Date.now();
    for (const v of this.views) {
      const ms = now - v.t;
      if (ms > 0) v.seg(this.stalled.has(v.viewId) ? 'rebuffering' : 'playing', ms);
    }
    await sendViews(this.server, this.views, now);
    this.beats++;
  }

  /**
   * Makes a view stall from now on, once every view has played for two
   * beats: a stall counts as rebuffering only after the first frame.
   */
  async stallAfterPlaying(viewId: string): Promise<void> {
    const played = this.beats + 2;
    await waitFor(async () => this.beats >= played, 'two heartbeats of playing');
    this.stalled.add(viewId);
  }

  /** Beats now, then every `everyMs` until stop(). */
  async start(everyMs = 500): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beat().catch(() => undefined), everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
