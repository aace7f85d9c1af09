/**
 * dash.js (`dashjs` 4/5): the element's state through the HTML5 tracking;
 * from dash.js the rendition (QUALITY_CHANGE_RENDERED), request timing,
 * bytes, failures and CDN host (its HttpList metrics), live latency (the
 * playhead's `timeAsUTC()` against the clock) and its
 * ERROR events, which dash.js raises only for what it cannot recover from.
 */
import type { Adapter } from '../core/adapter.js';

interface DashRepresentation {
  bandwidth: number;
  width: number;
  height: number;
  codecs: string | null;
}
/** dash.js's HTTPRequest metric (ISO/IEC 23009-1 Annex D field names). */
interface DashHttpRequest {
  type: string;
  url: string | null;
  responsecode: number | null;
  trequest: Date | null;
  tresponse: Date | null;
  _tfinish: Date | null;
  _responseHeaders: string | null;
  trace?: { b?: number[] }[];
}
const SEGMENT_TYPES = ['MediaSegment', 'InitializationSegment'];

/** `name: value` lines (dash.js keeps the headers as one string) → lower-case map. */
function parseHeaders(raw: string | null): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of (raw ?? '').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) m.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  return m;
}
interface DashLike {
  getVersion(): string;
  getVideoElement(): HTMLVideoElement;
  isDynamic(): boolean;
  /** The playhead as seconds since the epoch (live streams). */
  timeAsUTC(): number;
  on(type: string, fn: (e: never) => void): void;
  off(type: string, fn: (e: never) => void): void;
}

export const dashjs: Adapter = {
  name: 'dash.js',
  test: (t) => typeof (t as { getDashMetrics?: unknown })?.getDashMetrics === 'function',
  attach(core, target, tools) {
    const p = target as DashLike;
    let untrack = () => {};
    let media: HTMLMediaElement | null = null;
    const track = () => {
      let el: HTMLMediaElement | null = null;
      try {
        el = p.getVideoElement();
      } catch {
        return; // no view attached yet
      }
      if (!el || el === media) return;
      untrack();
      media = el;
      untrack = tools.trackMedia(core, el, { errors: false, rendition: false, source: false });
      // The playhead as wall-clock time against this clock, as for hls.js: dash.js's own
      // getCurrentLiveLatency() was up to 1 s off the frames the page showed. Before the first frame
      // the playhead is not yet at the live start, so there is no latency to speak of.
      core.probe.liveLatencyMs = () =>
        p.isDynamic() && core.started ? Date.now() - p.timeAsUTC() * 1000 : 0;
    };
    core.setContext({ playerSoftware: 'dash.js', playerVersion: p.getVersion(), streamFormat: 'dash' });
    const on: Record<string, (e: never) => void> = {
      manifestLoadingStarted: track,
      streamInitialized: () => {
        track();
        core.setContext({ streamType: p.isDynamic() ? 'live' : 'vod' });
        core.ready();
      },
      qualityChangeRendered: (e: { mediaType: string; newRepresentation: DashRepresentation }) => {
        const r = e.newRepresentation;
        if (e.mediaType === 'video' && r)
          core.setRendition({
            bitrateBps: r.bandwidth,
            width: r.width,
            height: r.height,
            codec: r.codecs ?? '',
          });
      },
      // Every HTTP attempt, retries included, is an HttpList metric with its status and response headers
      // (FRAGMENT_LOADING_COMPLETED comes once per segment after dash.js's own retries, without headers).
      metricAdded: (e: { metric: string; value: DashHttpRequest }) => {
        const r = e.value;
        if (e.metric !== 'HttpList' || !r || !SEGMENT_TYPES.includes(r.type)) return;
        const failed = !(r.responsecode != null && r.responsecode >= 200 && r.responsecode < 400);
        const start = r.trequest?.getTime() ?? 0;
        const first = r.tresponse?.getTime();
        // Without a response time the transfer is timed from the request.
        const from = first ?? start;
        const headers = parseHeaders(r._responseHeaders);
        core.request({
          bytes: (r.trace ?? []).reduce((a, t) => a + (t.b?.[0] ?? 0), 0),
          ttfbMs: failed || first === undefined ? undefined : first - start,
          transferMs: failed ? 0 : (r._tfinish?.getTime() ?? from) - from,
          failed,
          cdnHost: failed ? '' : tools.cdnHost(r.url ?? '', (h) => headers.get(h)),
        });
      },
      error: (e: { error: { code?: number; message?: string } | string }) => {
        track();
        const err = e.error;
        const code = typeof err === 'object' ? (err.code ?? 'error') : err;
        core.error(code, typeof err === 'object' ? (err.message ?? '') : err, true);
      },
    };
    for (const k in on) p.on(k, on[k]!);
    track();
    return () => {
      untrack();
      for (const k in on) p.off(k, on[k]!);
    };
  },
};
