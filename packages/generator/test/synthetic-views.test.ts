/**
 * The synthetic views of `openqoe generate`: deterministic for a seed, every
 * beacon valid and complete (sequence 0..n, ending with viewend, samples of
 * at most a heartbeat), and — measured by the server's own view model — the
 * distribution docs/generator.md states.
 *
 * The distribution is measured with the server's own view model (imported
 * from the server's source, as the dashboard's tests import the server's
 * test kit): what counts is that the server reads each view as the generator
 * meant it. The generator itself does not depend on the server.
 */
import { validateBeacon } from '@openqoe/schema';
import { describe, expect, it } from 'vitest';
import { ActiveViews } from '../../server/src/pipeline/view-model/active-views.js';
import { nativeItems } from '../../server/src/pipeline/view-model/normalize-native.js';
import type { ViewMetrics } from '../../server/src/pipeline/view-model/view-machine.js';
import { CDNS, EXPERIMENTS, OUTCOMES, type SyntheticView, syntheticView } from '../src/index.js';

const DAY_MS = 86_400_000;
const NOW = Date.UTC(2026, 0, 31, 12);
const window = { fromMs: NOW - 3 * DAY_MS, toMs: NOW };
const view = (seed: number, index: number) => syntheticView({ seed, index, envKey: 'key', ...window });

describe('synthetic views', () => {
  it('gives the same beacons for the same seed, and other beacons for another seed', () => {
    const a = Array.from({ length: 50 }, (_, i) => view(7, i));
    const b = Array.from({ length: 50 }, (_, i) => view(7, i));
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    const other = Array.from({ length: 50 }, (_, i) => view(8, i));
    const ids = (vs: SyntheticView[]) => new Set(vs.map((v) => v.beacon.events[0]!.viewId));
    expect(ids(a).size).toBe(50);
    expect([...ids(other)].filter((id) => ids(a).has(id))).toEqual([]);
  });

  it('makes schema-valid, complete views inside the window', () => {
    for (let i = 0; i < 500; i++) {
      const v = view(11, i);
      const checked = validateBeacon(JSON.parse(JSON.stringify(v.beacon)));
      expect(checked.ok ? [] : checked.fields).toEqual([]);
      const { samples, events } = v.beacon;
      const items = [...samples, ...events].sort((x, y) => x.sequenceNumber - y.sequenceNumber);
      expect(items.map((x) => x.sequenceNumber)).toEqual(items.map((_, k) => k));
      expect(new Set(items.map((x) => x.viewId)).size).toBe(1);
      expect(events[0]).toMatchObject({ sequenceNumber: 0, type: 'playrequest' });
      expect(items.at(-1)).toMatchObject({ type: 'viewend' });
      expect(samples.every((s) => s.durationMs <= 10_000)).toBe(true);
      expect(v.startMs).toBeGreaterThanOrEqual(window.fromMs);
      expect(v.endMs).toBeLessThanOrEqual(window.toMs);
      expect(v.beacon.sentAt).toBe(v.endMs);
    }
  });

  it('gives VOD views their content duration (never less than what was played), live views none', () => {
    let vod = 0;
    for (let i = 0; i < 300; i++) {
      const { samples } = view(5, i).beacon;
      const durations = new Set(samples.map((s) => s.videoDurationMs));
      expect(durations.size).toBe(1);
      const [duration] = [...durations];
      if (samples[0]!.streamType === 'live') expect(duration).toBeUndefined();
      else {
        vod++;
        expect(duration).toBeGreaterThanOrEqual(5 * 60_000);
        expect(duration).toBeGreaterThanOrEqual(Math.max(...samples.map((s) => s.videoTimeEndMs)));
      }
    }
    expect(vod).toBeGreaterThan(0);
  });

  it('ends live views at the window end (now)', () => {
    const v = syntheticView({ seed: 3, index: 0, envKey: 'key', fromMs: NOW, toMs: NOW });
    expect(v.endMs).toBe(NOW);
    expect(Math.max(...v.beacon.events.map((e) => e.viewerTime))).toBe(NOW);
  });

  it('has the stated distribution, as the server’s view model measures it', () => {
    const N = 10_000;
    const views = new ActiveViews();
    const results: { v: SyntheticView; m: ViewMetrics }[] = [];
    let shortStalls = 0;
    for (let i = 0; i < N; i++) {
      const v = view(1, i);
      const { samples, events } = v.beacon;
      shortStalls += samples.filter((s) => s.state === 'rebuffering' && s.durationMs < 250).length;
      const arrival = { envId: 'env', receivedAtMs: NOW, clockOffsetMs: 0, ip: '', userAgent: v.userAgent };
      const done = views.apply(arrival, events[0]!.viewId, nativeItems(samples, events));
      // Each view completes on its own viewend, at once.
      expect(done).toHaveLength(1);
      results.push({ v, m: done[0]!.metrics });
    }
    const share = (f: (r: { v: SyntheticView; m: ViewMetrics }) => boolean) => results.filter(f).length / N;
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

    // The stated rates, with room for the sampling noise of 10 000 views.
    const within = (value: number, target: number, tolerance: number) => {
      expect(value).toBeGreaterThan(target - tolerance);
      expect(value).toBeLessThan(target + tolerance);
    };
    within(
      share((r) => r.m.exitedBeforeVideoStart),
      OUTCOMES.ebvs,
      0.005,
    );
    within(
      share((r) => r.m.videoStartupFailure),
      OUTCOMES.startupFailure,
      0.0015,
    );
    within(
      share((r) => r.m.playbackFailure),
      OUTCOMES.startupFailure + OUTCOMES.playbackFailure,
      0.003,
    );
    // The generator's intent and the server's reading agree view by view.
    for (const { v, m } of results) {
      expect(m.exitedBeforeVideoStart).toBe(v.kind === 'ebvs');
      expect(m.videoStartupFailure).toBe(v.kind === 'startup_failure');
      expect(m.playbackFailure).toBe(v.kind === 'startup_failure' || v.kind === 'playback_failure');
    }
    expect(share((r) => r.v.beacon.samples[0]!.streamType === 'vod')).toBeGreaterThan(0.83);
    expect(share((r) => r.v.beacon.samples[0]!.streamType === 'vod')).toBeLessThan(0.87);
    expect(
      share((r) => r.v.userAgent.includes('Windows NT') && r.v.userAgent.includes('Chrome/')),
    ).toBeCloseTo(0.4, 1);

    const startup = (cdn: string) =>
      median(
        results
          .filter((r) => r.v.beacon.samples[0]!.cdnProvider === cdn && r.m.videoStartupTimeMs !== null)
          .map((r) => r.m.videoStartupTimeMs!),
      );
    const perMinute = (cdn: string) => {
      const rs = results.filter((r) => r.v.beacon.samples[0]!.cdnProvider === cdn);
      return (
        rs.reduce((a, r) => a + r.m.rebufferCount, 0) / (rs.reduce((a, r) => a + r.m.watchTimeMs, 0) / 60_000)
      );
    };
    const [akamai, , cloudfront] = CDNS.map(([c]) => c.provider);
    // Median startup ~1.2 s (the experiment's faster arm pulls it a little lower); one CDN 1.6× slower.
    expect(startup(akamai!)).toBeGreaterThan(1000);
    expect(startup(akamai!)).toBeLessThan(1300);
    expect(startup(cloudfront!) / startup(akamai!)).toBeGreaterThan(1.4);
    // Stall rates by CDN (0.04 vs 0.2 per minute before the short ones are discounted).
    expect(perMinute(cloudfront!) / perMinute(akamai!)).toBeGreaterThan(3);
    expect(shortStalls).toBeGreaterThan(0);
    const watchMinutes = median(results.map((r) => r.m.watchTimeMs)) / 60_000;
    expect(watchMinutes).toBeGreaterThan(3.5);
    expect(watchMinutes).toBeLessThan(4.5);
    expect(Math.max(...results.map((r) => r.m.watchTimeMs))).toBeLessThanOrEqual(2.1 * 3_600_000);
    expect(share((r) => r.m.renditionChanges > 0)).toBeGreaterThan(0.3);
    expect(share((r) => r.m.seekCount > 0)).toBeGreaterThan(0.1);
    expect(share((r) => r.m.pausedTimeMs > 0)).toBeGreaterThan(0.1);
    expect(new Set(results.map((r) => r.v.beacon.samples[0]!.experimentName))).toEqual(
      new Set(EXPERIMENTS.map(([e]) => e)),
    );
  });
});
