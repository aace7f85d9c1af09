/**
 * Ground truth from the page itself: a `requestVideoFrameCallback` loop
 * records every presented frame (epoch ms), and the page marks when it
 * asked to play. Injected into test pages as a script; analysed in Node.
 */
export const FRAME_PROBE_SCRIPT = `
window.truth = { frames: [], playRequestedAt: 0 };
window.watchFrames = function (video) {
  const cb = function (_now, meta) {
    window.truth.frames.push([performance.timeOrigin + meta.presentationTime, meta.mediaTime]);
    video.requestVideoFrameCallback(cb);
  };
  video.requestVideoFrameCallback(cb);
};
window.markPlay = function () { window.truth.playRequestedAt = performance.timeOrigin + performance.now(); };
`;

export interface Truth {
  /** [presentation time epoch ms, media time s] of every presented frame. */
  frames: [number, number][];
  playRequestedAt: number;
}

export interface FrameGap {
  /** Presentation time (epoch ms) of the last frame before the gap and the first after it. */
  fromMs: number;
  toMs: number;
  /** The time without a new frame: the gap minus one frame period (the frame on screen). */
  stallMs: number;
}

/** Gaps between consecutive presented frames longer than `minGapMs` (default: the 250 ms minimum stall). */
export function frameGaps(t: Truth, fps: number, minGapMs = 250): FrameGap[] {
  const gaps: FrameGap[] = [];
  for (let i = 1; i < t.frames.length; i++) {
    const fromMs = t.frames[i - 1]![0];
    const toMs = t.frames[i]![0];
    if (toMs - fromMs > minGapMs) gaps.push({ fromMs, toMs, stallMs: toMs - fromMs - 1000 / fps });
  }
  return gaps;
}

/**
 * Play request → the first frame presented after it. A frame shown before it (the element shows
 * its first frame once it has data, paused or not; the compositor can present it while the page's
 * `loadedmetadata` handler, which asks to play, still waits its turn) is not playback.
 */
export function startupFromFrames(t: Truth): number {
  const first = t.frames.find(([at]) => at >= t.playRequestedAt) ?? t.frames[0]!;
  return first[0] - t.playRequestedAt;
}
