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

/** Gaps between consecutive presented frames longer than `minGapMs`, minus one frame period (the frame on screen). */
export function frameGaps(t: Truth, fps: number, minGapMs = 250): number[] {
  const gaps: number[] = [];
  for (let i = 1; i < t.frames.length; i++) {
    const gap = t.frames[i]![0] - t.frames[i - 1]![0];
    if (gap > minGapMs) gaps.push(gap - 1000 / fps);
  }
  return gaps;
}

/** Play request → first presented frame. */
export function startupFromFrames(t: Truth): number {
  return t.frames[0]![0] - t.playRequestedAt;
}
