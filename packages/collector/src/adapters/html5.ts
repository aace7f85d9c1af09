/**
 * HTML5 `<video>`/`<audio>` (progressive files and native HLS): maps the
 * element's events to the core. The other adapters reuse this for the state
 * of the element their player drives, and add what only the player knows.
 */
import type { Adapter, MediaTrackOptions } from '../core/adapter.js';
import type { Collector } from '../core/collector.js';

const CDN_HEADERS = ['x-cdn', 'x-served-by', 'via', 'x-cache'];

export function cdnHost(url: string, header: (name: string) => string | null | undefined): string {
  for (const h of CDN_HEADERS) {
    const v = header(h);
    if (v) return v.slice(0, 256);
  }
  try {
    return new URL(url, location.href).host;
  } catch {
    return '';
  }
}

/**
 * Time to first byte of the URL's latest resource timing entry, for players
 * that give the total time only; undefined (unknown, not 0 ms) when the buffer
 * (250 entries by default) is full or a cross-origin server sends no
 * `Timing-Allow-Origin`.
 */
export function resourceTtfb(url: string): number | undefined {
  try {
    const entries = performance.getEntriesByName(new URL(url, location.href).href, 'resource');
    const t = entries.at(-1) as PerformanceResourceTiming | undefined;
    return t && t.responseStart > 0 ? t.responseStart - (t.requestStart || t.startTime) : undefined;
  } catch {
    return undefined;
  }
}

const formatOf = (src: string) =>
  /\.m3u8(\?|$)/i.test(src) ? 'hls' : /\.mpd(\?|$)/i.test(src) ? 'dash' : src ? 'progressive' : '';

export function trackMedia(core: Collector, v: HTMLMediaElement, o: MediaTrackOptions): () => void {
  let src = v.currentSrc;
  const video = v as HTMLVideoElement;
  core.probe = {
    playheadMs: () => v.currentTime * 1000,
    playerSize: () => {
      const r = devicePixelRatio || 1;
      return [v.clientWidth * r, v.clientHeight * r];
    },
    droppedFrames: () => video.getVideoPlaybackQuality?.().droppedVideoFrames ?? 0,
    liveLatencyMs: () => 0,
    durationMs: () => (Number.isFinite(v.duration) ? v.duration * 1000 : 0),
  };
  // Wall clock and playhead at the last `timeupdate` (or `playing`/`seeked`): two numbers, O(1).
  // A minimum over many events drifts with the media clock, so the latest one is the reference.
  let wallAt = 0;
  let mediaAt = 0;
  const anchor = () => {
    wallAt = Date.now();
    mediaAt = v.currentTime;
  };
  /**
   * `playing` can come ~100 ms before the first frame is on screen, or after
   * it on a busy page; the frame callback tells when the first frame with a
   * media time past `after` was presented, and playback is dated from that.
   */
  const rvfc = !!video.requestVideoFrameCallback;
  const frameAfter = (after: number, pending: () => boolean) => {
    const shown = (_now: number, meta: { presentationTime: number; mediaTime: number }) => {
      if (!pending()) return;
      // A frame shown while paused (preload) or queued before the stall is not playback.
      if (v.paused || meta.mediaTime <= after) video.requestVideoFrameCallback(shown);
      else core.playing(Date.now() - (performance.now() - meta.presentationTime));
    };
    if (rvfc) video.requestVideoFrameCallback(shown);
  };
  const starting = () => !core.started;
  const stalled = () => core.state === 'rebuffering';
  const on: Record<string, () => void> = {
    play: () => {
      core.playRequest();
      frameAfter(-1, starting);
    },
    playing: () => {
      anchor();
      if (!rvfc || (!starting() && !stalled())) return core.playing();
      // No frame callback (hidden page): playback is dated from this event.
      const at = Date.now();
      setTimeout(() => {
        if ((starting() || stalled()) && !v.paused) core.playing(at);
      }, 1000);
    },
    pause: () => core.pause(),
    waiting: () => {
      // Frames stopped when the playhead did.
      core.waiting(wallAt ? wallAt + ((v.currentTime - mediaAt) * 1000) / (v.playbackRate || 1) : undefined);
      // Frames still queued from the buffered range are the stall's run-up; the stall ends with new data.
      const b = v.buffered;
      let end = v.currentTime;
      for (let i = 0; i < b.length; i++) if (b.start(i) <= end + 0.1 && b.end(i) > end) end = b.end(i);
      frameAfter(end - 0.001, stalled);
    },
    timeupdate: anchor,
    ratechange: anchor,
    seeking: () => core.seeking(),
    seeked: () => {
      anchor();
      core.seeked(v.paused);
    },
    ended: () => core.ended(),
    loadedmetadata: () => {
      core.setContext({ streamType: v.duration === Number.POSITIVE_INFINITY ? 'live' : 'vod' });
      if (o.source) {
        core.setContext({ streamFormat: formatOf(v.currentSrc), cdnHost: cdnHost(v.currentSrc, () => '') });
        core.ready();
      }
    },
    loadstart: () => {
      // A bare loadstart (same source reloaded) keeps the view.
      if (o.source && src && v.currentSrc !== src) core.sourceChange();
      src = v.currentSrc;
    },
    resize: () => {
      if (o.rendition) core.setRendition({ width: video.videoWidth, height: video.videoHeight });
    },
    error: () => {
      const e = v.error;
      if (o.errors && e) core.error(e.code, e.message || 'MediaError', true);
    },
  };
  for (const k in on) v.addEventListener(k, on[k]!);
  // The play request is the play() call: the `play` event can come 100 ms later behind a busy player.
  const ownPlay = Object.hasOwn(v, 'play');
  const play = v.play;
  v.play = function (this: HTMLMediaElement) {
    on.play!();
    const p = play.call(this);
    // Autoplay refused by the browser is not a startup failure: no timeout for it.
    p?.catch?.((e: { name?: string }) => e?.name === 'NotAllowedError' && core.playBlocked());
    return p;
  };
  if (o.source) {
    core.setContext({ playerSoftware: 'html5', playerVersion: '' });
    if (v.readyState >= 1) on.loadedmetadata!();
  }
  // Attached after playback began (autoplay): the view still starts.
  if (!v.paused) {
    on.play!();
    if (v.readyState >= 3) core.playing();
  }
  return () => {
    for (const k in on) v.removeEventListener(k, on[k]!);
    if (ownPlay) v.play = play;
    else delete (v as Partial<HTMLMediaElement>).play;
  };
}

export const html5: Adapter = {
  name: 'html5',
  test: (t) => typeof HTMLMediaElement !== 'undefined' && t instanceof HTMLMediaElement,
  attach: (core, t, tools) =>
    tools.trackMedia(core, t as HTMLMediaElement, { errors: true, rendition: true, source: true }),
};
