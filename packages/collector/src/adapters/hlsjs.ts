/**
 * hls.js: the element's state through the HTML5 tracking; from hls.js the
 * rendition (LEVEL_SWITCHED), request timing, bytes and CDN host
 * (FRAG_LOADED), live or VOD and live latency (program date time), and its
 * errors with their fatal flag (ERROR).
 */
import type { Adapter } from '../core/adapter.js';

interface HlsLevel {
  bitrate: number;
  width: number;
  height: number;
  videoCodec?: string;
  audioCodec?: string;
}
interface LoadStats {
  loaded: number;
  loading: { start: number; first: number; end: number };
}
interface HlsLike {
  media: HTMLMediaElement | null;
  levels: HlsLevel[];
  playingDate: Date | null;
  on(event: string, fn: (event: string, data: never) => void): void;
  off(event: string, fn: (event: string, data: never) => void): void;
  constructor: { version?: string; Events: Record<string, string> };
}
type Details = { getResponseHeader?(n: string): string | null; headers?: { get(n: string): string | null } };

export const hlsjs: Adapter = {
  name: 'hls.js',
  test: (t) => !!(t as HlsLike)?.constructor?.Events?.FRAG_LOADED,
  attach(core, target, tools) {
    const hls = target as HlsLike;
    const E = hls.constructor.Events;
    let untrack = () => {};
    let live = false;
    const track = () => {
      untrack();
      if (hls.media) {
        untrack = tools.trackMedia(core, hls.media, { errors: false, rendition: false, source: false });
        core.probe.liveLatencyMs = () =>
          live && hls.playingDate ? Date.now() - hls.playingDate.getTime() : 0;
      }
    };
    core.setContext({
      playerSoftware: 'hls.js',
      playerVersion: hls.constructor.version ?? '',
      streamFormat: 'hls',
    });
    const on: Record<string, (e: string, d: never) => void> = {
      [E.MEDIA_ATTACHED!]: track,
      [E.MANIFEST_PARSED!]: () => core.ready(),
      [E.LEVEL_LOADED!]: (_e, d: { details: { live: boolean } }) => {
        live = d.details.live;
        core.setContext({ streamType: live ? 'live' : 'vod' });
      },
      [E.LEVEL_SWITCHED!]: (_e, d: { level: number }) => {
        const l = hls.levels[d.level];
        if (l)
          core.setRendition({
            bitrateBps: l.bitrate,
            width: l.width,
            height: l.height,
            codec: l.videoCodec ?? '',
          });
      },
      [E.FRAG_LOADED!]: (_e, d: { frag: { url: string; stats: LoadStats }; networkDetails?: Details }) => {
        const s = d.frag.stats;
        const n = d.networkDetails;
        core.request({
          bytes: s.loaded,
          ttfbMs: s.loading.first - s.loading.start,
          transferMs: s.loading.end - s.loading.first,
          cdnHost: tools.cdnHost(d.frag.url, (h) => n?.getResponseHeader?.(h) ?? n?.headers?.get(h)),
        });
      },
      [E.ERROR!]: (_e, d: { type: string; details: string; fatal: boolean; response?: { code: number } }) => {
        if (d.details.endsWith('LoadError') && d.response)
          core.request({ bytes: 0, ttfbMs: 0, transferMs: 0, failed: true });
        core.error(
          d.details,
          `${d.type}: ${d.details}`,
          d.fatal,
          d.response ? `HTTP ${d.response.code}` : '',
        );
      },
    };
    for (const k in on) hls.on(k, on[k]!);
    track();
    return () => {
      untrack();
      for (const k in on) hls.off(k, on[k]!);
    };
  },
};
