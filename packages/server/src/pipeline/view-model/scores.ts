/**
 * Per-view scores, 0–100 (docs/metrics.md). The component formulas are the
 * reference's published ones; the overall score's trade-off is ours (the
 * reference does not publish its function).
 */

export interface ScoreInput {
  outcome: 'success' | 'failure' | 'ebvs' | 'business_exception';
  /** Time from the play request to the exit, for EBVS views. */
  ebvsDurationMs: number;
  /** Null when the view never started or the start was not measured. */
  videoStartupTimeMs: number | null;
  rebufferCount: number;
  /** Rebuffer time ÷ watch time, 0–1. */
  rebufferFraction: number;
  /** Time-weighted mean and maximum upscale, as fractions (1 = shown at twice its size). */
  meanUpscale: number;
  maxUpscale: number;
  started: boolean;
}

export interface Scores {
  playbackSuccess: number | null;
  startupTime: number | null;
  smoothness: number | null;
  videoQuality: number | null;
  viewerExperience: number | null;
}

/** An EBVS shorter than this is a viewer changing their mind, not a bad experience: no score. */
export const EBVS_MIN_SCORED_MS = 1000;

export const startupTimeScore = (startupMs: number) => (100 * 8) / (8 + startupMs / 1000);

export const smoothnessScore = (rebufferCount: number, rebufferFraction: number) =>
  (100 / Math.sqrt(1 + (rebufferCount / 2) ** 2) + 100 * Math.exp(-10 * rebufferFraction)) / 2;

export const videoQualityScore = (meanUpscale: number, maxUpscale: number) =>
  100 * Math.exp(-0.33 * (0.15 * maxUpscale + 0.85 * meanUpscale));

/**
 * Our overall trade-off: a weighted geometric mean of startup (0.3),
 * smoothness (0.4) and quality (0.3), times playback success as a 0–1
 * factor. A geometric mean lets one bad component pull the whole score down,
 * which matches how viewers judge a view; smoothness weighs most because
 * stalls are what viewers abandon for. A view whose start was not measured
 * uses the other two, re-weighted.
 */
export function viewerExperienceScore(startup: number | null, smoothness: number, quality: number): number {
  const parts: [number, number][] = [
    [smoothness, 0.4],
    [quality, 0.3],
  ];
  if (startup !== null) parts.push([startup, 0.3]);
  const weight = parts.reduce((a, [, w]) => a + w, 0);
  const logSum = parts.reduce((a, [v, w]) => a + w * Math.log(Math.max(v, 1e-9)), 0);
  return Math.exp(logSum / weight);
}

export function computeScores(v: ScoreInput): Scores {
  if (v.outcome === 'business_exception') {
    return {
      playbackSuccess: null,
      startupTime: null,
      smoothness: null,
      videoQuality: null,
      viewerExperience: null,
    };
  }
  if (v.outcome === 'ebvs') {
    const scored = v.ebvsDurationMs >= EBVS_MIN_SCORED_MS;
    // EBVS views get no startup, smoothness or quality score.
    return {
      playbackSuccess: scored ? 50 : null,
      startupTime: null,
      smoothness: null,
      videoQuality: null,
      viewerExperience: scored ? 50 : null,
    };
  }
  const startupTime = v.videoStartupTimeMs === null ? null : startupTimeScore(v.videoStartupTimeMs);
  const smoothness = v.started ? smoothnessScore(v.rebufferCount, v.rebufferFraction) : null;
  const videoQuality = v.started ? videoQualityScore(v.meanUpscale, v.maxUpscale) : null;
  if (v.outcome === 'failure') {
    return { playbackSuccess: 0, startupTime, smoothness, videoQuality, viewerExperience: 0 };
  }
  const viewerExperience =
    smoothness !== null && videoQuality !== null
      ? viewerExperienceScore(startupTime, smoothness, videoQuality)
      : null;
  return { playbackSuccess: 100, startupTime, smoothness, videoQuality, viewerExperience };
}
