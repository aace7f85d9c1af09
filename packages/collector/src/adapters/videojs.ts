/**
 * video.js 7/8 (with its VHS engine): the element's state through the HTML5
 * tracking of the tech's <video>; from video.js its `error` (always fatal:
 * the player shows its error screen), the source type, and from VHS the
 * playlist playing (bandwidth, resolution) and every segment response
 * (its xhr `onResponse` hook: status, bytes, CDN header). video.js never goes fatal on
 * segment errors, so a stall that does not end is turned into a failure by
 * the core's rebuffer timeout.
 */
import type { Adapter } from '../core/adapter.js';

interface VhsPlaylist {
  attributes?: { BANDWIDTH?: number; RESOLUTION?: { width: number; height: number }; CODECS?: string };
}
/** VHS's xhr request and the response its onResponse hook sees. */
interface VhsRequest {
  uri: string;
  requestType?: string;
  requestTime: number;
  aborted?: boolean;
  response?: ArrayBuffer | string | null;
}
type VhsHook = (
  request: VhsRequest,
  error: unknown,
  response?: { statusCode?: number; headers?: Record<string, string> },
) => void;
interface VjsLike {
  ready(fn: () => void): void;
  tech(opts: { IWillNotUseThisInPlugins: true }): {
    el(): HTMLMediaElement;
    vhs?: {
      playlists?: { media(): VhsPlaylist | undefined };
      xhr?: { onResponse?(hook: VhsHook): void; offResponse?(hook: VhsHook): void };
    };
  };
  currentType(): string;
  error(): { code: number; message: string } | null;
  on(type: string, fn: () => void): void;
  off(type: string, fn: () => void): void;
}

const format = (type: string) =>
  /mpegurl/i.test(type) ? 'hls' : /dash/i.test(type) ? 'dash' : type ? 'progressive' : '';

export const videojs: Adapter = {
  name: 'video.js',
  test: (t) => typeof (t as VjsLike)?.tech === 'function' && typeof (t as VjsLike).currentType === 'function',
  attach(core, target, tools) {
    const p = target as VjsLike;
    let untrack = () => {};
    core.setContext({
      playerSoftware: 'video.js',
      playerVersion: (globalThis as { videojs?: { VERSION?: string } }).videojs?.VERSION ?? '',
    });
    const tech = () => p.tech({ IWillNotUseThisInPlugins: true });
    const rendition = () => {
      const a = tech().vhs?.playlists?.media()?.attributes;
      if (a?.BANDWIDTH)
        core.setRendition({
          bitrateBps: a.BANDWIDTH,
          width: a.RESOLUTION?.width ?? 0,
          height: a.RESOLUTION?.height ?? 0,
          codec: a.CODECS ?? '',
        });
    };
    const on: Record<string, () => void> = {
      loadedmetadata: () => {
        core.setContext({ streamFormat: format(p.currentType()) });
        core.ready();
        rendition();
      },
      error: () => {
        const e = p.error();
        if (e) core.error(e.code, e.message, true);
      },
    };
    // Every segment response (failures included) through VHS's per-player xhr hook; the first byte from resource timing.
    const response: VhsHook = (req, error, res) => {
      if (!/segment/.test(req.requestType ?? '') || req.aborted) return;
      const status = res?.statusCode ?? 0;
      const failed = !!error || status < 200 || status >= 400;
      const total = Date.now() - req.requestTime;
      const first = failed ? undefined : tools.ttfb(req.uri);
      const ttfb = first === undefined ? undefined : Math.min(total, first);
      const body = req.response;
      core.request({
        bytes: typeof body === 'string' ? body.length : (body?.byteLength ?? 0),
        ttfbMs: ttfb,
        transferMs: failed ? 0 : total - (ttfb ?? 0),
        failed,
        cdnHost: failed ? '' : tools.cdnHost(req.uri, (h) => res?.headers?.[h]),
      });
    };
    const hook = () => tech().vhs?.xhr?.onResponse?.(response);
    // VHS makes its xhr (and says `xhr-hooks-ready`) per source; a source already set has one now.
    on['xhr-hooks-ready'] = hook;
    for (const k in on) p.on(k, on[k]!);
    p.ready(hook);
    let el: HTMLMediaElement | undefined;
    p.ready(() => {
      el = tech().el();
      untrack = tools.trackMedia(core, el, { errors: false, rendition: false, source: false });
      // The player does not pass the element's `resize` on: a new rendition shows there first.
      el.addEventListener('resize', rendition);
    });
    return () => {
      tech().vhs?.xhr?.offResponse?.(response);
      el?.removeEventListener('resize', rendition);
      untrack();
      for (const k in on) p.off(k, on[k]!);
    };
  },
};
