/**
 * video.js 7/8 (with its VHS engine): the element's state through the HTML5
 * tracking of the tech's <video>; from video.js its `error` (always fatal:
 * the player shows its error screen), the source type, and from VHS the
 * playlist playing (bandwidth, resolution). video.js never goes fatal on
 * segment errors, so a stall that does not end is turned into a failure by
 * the core's rebuffer timeout.
 */
import type { Adapter } from '../core/adapter.js';

interface VhsPlaylist {
  attributes?: { BANDWIDTH?: number; RESOLUTION?: { width: number; height: number }; CODECS?: string };
}
interface VjsLike {
  ready(fn: () => void): void;
  tech(opts: { IWillNotUseThisInPlugins: true }): {
    el(): HTMLMediaElement;
    vhs?: { playlists?: { media(): VhsPlaylist | undefined } };
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
    for (const k in on) p.on(k, on[k]!);
    let el: HTMLMediaElement | undefined;
    p.ready(() => {
      el = tech().el();
      untrack = tools.trackMedia(core, el, { errors: false, rendition: false, source: false });
      // The player does not pass the element's `resize` on: a new rendition shows there first.
      el.addEventListener('resize', rendition);
    });
    return () => {
      el?.removeEventListener('resize', rendition);
      untrack();
      for (const k in on) p.off(k, on[k]!);
    };
  },
};
