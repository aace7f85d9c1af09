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
  };
  let wallAt = 0;
  let mediaAt = 0;
  function anchor() {
    wallAt = Date.now();
    mediaAt = v.currentTime;
  }
  // `playing` comes up to ~100 ms before the first frame is on screen; the frame callback says when it was.
  let awaitingFrame = false;
  const firstFrame = () => {
    if (awaitingFrame || core.started || !video.requestVideoFrameCallback) return;
    awaitingFrame = true;
    const shown = (_now: number, meta: { presentationTime: number }) => {
      if (core.started) awaitingFrame = false;
      // A frame shown while paused (preload) is not playback.
      else if (v.paused) video.requestVideoFrameCallback(shown);
      else {
        awaitingFrame = false;
        core.playing(Date.now() - (performance.now() - meta.presentationTime));
      }
    };
    video.requestVideoFrameCallback(shown);
  };
  const on: Record<string, () => void> = {
    play: () => {
      core.playRequest();
      firstFrame();
    },
    playing: () => {
      anchor();
      if (core.started || !video.requestVideoFrameCallback) return core.playing();
      // No frame callback came (hidden element?): `playing` it is.
      setTimeout(() => {
        if (!core.started && !v.paused) core.playing();
      }, 1000);
    },
    pause: () => core.pause(),
    // Frames stopped when the playhead did: back-dated from the last timeupdate (two numbers kept, O(1)).
    waiting: () => core.waiting(wallAt + ((v.currentTime - mediaAt) * 1000) / (v.playbackRate || 1)),
    timeupdate: anchor,
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
  const ownPlay = Object.prototype.hasOwnProperty.call(v, 'play');
  const play = v.play;
  v.play = function (this: HTMLMediaElement) {
    on.play!();
    return play.call(this);
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
