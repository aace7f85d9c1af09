/**
 * Scripted views for the monitoring stream tests, on exact event times, and
 * the records each must produce, written out by hand from the script.
 */
import {
  makeBeacon,
  makeEvent,
  makeSample,
  type PlayerEvent,
  type PlayerState,
  type Sample,
} from '@openqoe/schema';
import { postBeacon, type ServerProcess } from './server-process.js';

/** Writes one view's samples and events in order on the device clock. */
export class ViewScript {
  seq = 0;
  samples: Sample[] = [];
  events: PlayerEvent[] = [];
  constructor(
    readonly viewId: string,
    public t: number,
    /** Fields every sample of the view carries (CDN, title, bitrate, …). */
    readonly fields: Partial<Sample> = {},
  ) {}

  seg(state: PlayerState, ms: number, playheadEndMs = 0): this {
    this.samples.push(
      makeSample({
        ...this.fields,
        viewId: this.viewId,
        sequenceNumber: this.seq++,
        state,
        timestamp: this.t,
        durationMs: ms,
        viewerTime: this.t + ms,
        videoTimeStartMs: 0,
        videoTimeEndMs: playheadEndMs,
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
        ...extra,
      }),
    );
    return this;
  }
}

/** A record as compared in tests: start in ms, duration, metrics by reference name. */
export interface ExpectedRecord {
  view_id: string;
  start_ms: number;
  duration_ms: number;
  metrics: Record<string, number>;
}

/**
 * Four views from `t0` (a multiple of 10 s), windows of 10 s:
 * - ok: play request at +1 s, startup 1.5 s, plays 6 s, a 3 s stall from +8.5 s (across the
 *   +10 s boundary), plays 2.5 s, seeks 0.8 s, plays 3.2 s, pauses 10 s, plays 2 s.
 * - fail: startup 2 s, plays 4 s, fatal error at +7 s with the playhead at 4 s.
 * - ebvs: play request at +2 s, 3 s of startup, then silence.
 * - failstart: startup 1 s then a fatal error before the first frame (no EBVS, ever).
 */
export function scriptedViews(t0: number, prefix = ''): ViewScript[] {
  const ok = new ViewScript(`${prefix}view-ok`, t0 + 1000)
    .ev('playrequest', 'startup')
    .seg('startup', 1500)
    .seg('playing', 6000, 6000)
    .seg('rebuffering', 3000, 6000)
    .seg('playing', 2500, 8500)
    .seg('seeking', 800, 30_000)
    .seg('playing', 3200, 33_200)
    .seg('paused', 10_000, 33_200)
    .seg('playing', 2000, 35_200);
  const fail = new ViewScript(`${prefix}view-fail`, t0 + 1000)
    .ev('playrequest', 'startup')
    .seg('startup', 2000)
    .seg('playing', 4000, 4000)
    .ev('error', 'error', { errorFatal: true, errorCode: 'MEDIA_ERR', playheadMs: 4000 });
  const ebvs = new ViewScript(`${prefix}view-ebvs`, t0 + 2000)
    .ev('playrequest', 'startup')
    .seg('startup', 3000);
  const failstart = new ViewScript(`${prefix}view-failstart`, t0 + 3000)
    .ev('playrequest', 'startup')
    .seg('startup', 1000)
    .ev('error', 'error', { errorFatal: true, errorCode: 'NETWORK', playheadMs: 0 });
  return [ok, fail, ebvs, failstart];
}

export function expectedRecords(t0: number, prefix = ''): ExpectedRecord[] {
  const W = 10_000;
  const rec = (view: string, start: number, duration: number, metrics: Record<string, number>) => ({
    view_id: `${prefix}${view}`,
    start_ms: start,
    duration_ms: duration,
    metrics,
  });
  return [
    // Window 1: startup 1500 + playing 6000 + the stall's first 1500 ms.
    rec('view-ok', t0, W, {
      START_LATENCY_MS: 1500,
      WATCH_DURATION_MS: 9000,
      REBUFFER_DURATION_MS: 1500,
      REBUFFER_COUNT: 1,
    }),
    // Window 2: the stall's other 1500 + 2500 playing + 800 seeking + 3200 playing; paused not counted.
    rec('view-ok', t0 + W, W, { WATCH_DURATION_MS: 8000, REBUFFER_DURATION_MS: 1500, SEEK_LATENCY_MS: 800 }),
    // Window 3: 8 s paused (no metric) then 2 s playing.
    rec('view-ok', t0 + 2 * W, W, { WATCH_DURATION_MS: 2000 }),
    rec('view-fail', t0, W, { START_LATENCY_MS: 2000, WATCH_DURATION_MS: 6000 }),
    rec('view-fail', t0 + 7000, 0, { PLAYBACK_ERROR: 4000 }),
    rec('view-ebvs', t0, W, { WATCH_DURATION_MS: 3000 }),
    rec('view-ebvs', t0 + 5000, 0, { EXIT_BEFORE_VIDEO_START: 0 }),
    rec('view-failstart', t0, W, { WATCH_DURATION_MS: 1000 }),
    rec('view-failstart', t0 + 4000, 0, { PLAYBACK_ERROR: 0 }),
  ];
}

/** Flattens decoded JSON payloads (proto field names) into comparable records, sorted. */
export function recordsOfJsonPayloads(payloads: unknown[]): ExpectedRecord[] {
  const out: ExpectedRecord[] = [];
  for (const p of payloads as { samples?: { view_id: string; records?: unknown[] }[] }[]) {
    for (const s of p.samples ?? []) {
      for (const r of (s.records ?? []) as {
        start: { seconds: string; nanos?: number };
        duration_ms?: number;
        metrics: { type: string; value?: string }[];
      }[]) {
        const metrics: Record<string, number> = {};
        for (const m of r.metrics) metrics[m.type] = Number(m.value ?? 0);
        out.push({
          view_id: s.view_id,
          start_ms: Number(r.start.seconds) * 1000 + Math.round((r.start.nanos ?? 0) / 1e6),
          duration_ms: r.duration_ms ?? 0,
          metrics,
        });
      }
    }
  }
  return sortRecords(out);
}

export function sortRecords(records: ExpectedRecord[]): ExpectedRecord[] {
  const key = (r: ExpectedRecord) => `${r.view_id}|${String(r.start_ms).padStart(16, '0')}|${r.duration_ms}`;
  return [...records].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/**
 * Posts views' samples and events in one beacon to `url` (the server's, or a cluster's ingest
 * node); with `backfill` the device clock is trusted (exact event times). Throws unless accepted.
 */
export async function postViews(
  server: ServerProcess,
  views: readonly { samples: Sample[]; events: PlayerEvent[] }[],
  backfill = true,
  url = server.url,
): Promise<void> {
  const beacon = makeBeacon({
    envKey: server.bootstrap().environment.key,
    sentAt: Date.now(),
    samples: views.flatMap((v) => v.samples),
    events: views.flatMap((v) => v.events),
  });
  const res = await postBeacon(
    url,
    JSON.stringify(beacon),
    { 'content-type': 'text/plain', authorization: server.adminAuth() },
    backfill ? '?backfill=true' : '',
  );
  if (res.status !== 202)
    throw new Error(`the views were refused: ${res.status} ${JSON.stringify(res.json)}`);
}

/** Posts views in one backfill beacon (the device clock is trusted: exact event times). */
export const postBackfill = (
  server: ServerProcess,
  views: readonly { samples: Sample[]; events: PlayerEvent[] }[],
): Promise<void> => postViews(server, views);

/** Posts every scripted view in one backfill beacon. */
export const postScriptedViews = (server: ServerProcess, t0: number, prefix = ''): Promise<void> =>
  postViews(server, scriptedViews(t0, prefix));
