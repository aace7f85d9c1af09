/**
 * dash.js (`dashjs` 4/5): the element's state through the HTML5 tracking;
 * from dash.js the rendition (QUALITY_CHANGE_RENDERED), request timing and
 * bytes (FRAGMENT_LOADING_COMPLETED; dash.js does not expose response
 * headers there, so the CDN host is the URL's), live latency and its
 * ERROR events, which dash.js raises only for what it cannot recover from.
 */
import type { Adapter } from '../core/adapter.js';

interface DashRepresentation {
  bandwidth: number;
  width: number;
  height: number;
  codecs: string | null;
}
interface DashRequest {
  url: string | null;
  bytesLoaded: number;
  startDate: Date;
  firstByteDate: Date;
  requestEndDate: Date | null;
}
interface DashLike {
  getVersion(): string;
  getVideoElement(): HTMLVideoElement;
  isDynamic(): boolean;
  getCurrentLiveLatency(): number;
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
      core.probe.liveLatencyMs = () => (p.isDynamic() ? p.getCurrentLiveLatency() * 1000 : 0);
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
      fragmentLoadingCompleted: (e: { request: DashRequest }) => {
        const r = e.request;
        const start = r.startDate?.getTime() ?? 0;
        const first = r.firstByteDate?.getTime() ?? start;
        core.request({
          bytes: r.bytesLoaded,
          ttfbMs: first - start,
          transferMs: (r.requestEndDate?.getTime() ?? first) - first,
          cdnHost: tools.cdnHost(r.url ?? '', () => ''),
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
