import { describe, expect, it } from 'vitest';
import {
  BEACON_LIMITS,
  makeBeacon,
  makeEvent,
  makeSample,
  pointerToPath,
  validateBeacon,
} from '../src/index.js';

const problems = (value: unknown) => {
  const r = validateBeacon(value);
  return r.ok ? [] : r.fields;
};

describe('beacon validation', () => {
  it('accepts a complete beacon', () => {
    expect(validateBeacon(makeBeacon({ samples: [makeSample()], events: [makeEvent()] })).ok).toBe(true);
  });

  it('names a wrong type with its path', () => {
    const bad = makeBeacon({
      samples: [
        makeSample(),
        makeSample(),
        { ...makeSample(), videoBitrateBps: '2500' as unknown as number },
      ],
    });
    expect(problems(bad)).toContainEqual({
      path: 'samples[2].videoBitrateBps',
      problem: 'must be a finite number, got a string',
    });
  });

  it('takes videoDurationMs as optional, and names it when it is bad', () => {
    // Beacons without it (every collector before it existed) stay valid version 1 beacons.
    expect(validateBeacon(makeBeacon({ samples: [makeSample()] })).ok).toBe(true);
    expect(validateBeacon(makeBeacon({ samples: [makeSample({ videoDurationMs: 30_000 })] })).ok).toBe(true);
    const p = problems(
      makeBeacon({
        samples: [
          makeSample({ videoDurationMs: -1 }),
          makeSample({ videoDurationMs: '30' as unknown as number }),
          makeSample({ videoDurationMs: BEACON_LIMITS.maxContentDurationMs + 1 }),
        ],
      }),
    );
    expect(p.map((x) => x.path)).toEqual([
      'samples[0].videoDurationMs',
      'samples[1].videoDurationMs',
      'samples[2].videoDurationMs',
    ]);
  });

  it('names a missing field, an unknown field and a bad enum value', () => {
    const { viewId: _omit, ...noViewId } = makeSample();
    const p = problems(
      makeBeacon({
        samples: [
          noViewId as never,
          { ...makeSample(), colour: 'red' } as never,
          makeSample({ state: 'dancing' as never }),
        ],
      }),
    );
    expect(p).toContainEqual({ path: 'samples[0].viewId', problem: 'is required' });
    expect(p).toContainEqual({ path: 'samples[1].colour', problem: 'is not a known field' });
    expect(p.find((x) => x.path === 'samples[2].state')?.problem).toMatch(/^must be one of "setup", "ready"/);
  });

  it('bounds strings, numbers and arrays', () => {
    const long = 'x'.repeat(BEACON_LIMITS.textMaxLength + 1);
    const p = problems(
      makeBeacon({
        samples: [makeSample({ videoTitle: long, sequenceNumber: -1, viewerTime: 1e17 })],
        events: Array.from({ length: BEACON_LIMITS.maxEvents + 1 }, () => makeEvent()),
      }),
    );
    expect(p).toContainEqual({
      path: 'samples[0].videoTitle',
      problem: `must be at most 1024 characters, got ${long.length}`,
    });
    expect(p).toContainEqual({ path: 'samples[0].sequenceNumber', problem: 'must be ≥ 0, got -1' });
    expect(p.find((x) => x.path === 'samples[0].viewerTime')?.problem).toMatch(/^must be ≤/);
    expect(p).toContainEqual({
      path: 'events',
      problem: `must have at most 1000 items, got ${BEACON_LIMITS.maxEvents + 1}`,
    });
  });

  it('bounds the WebRTC figures: loss ratio 0–1, packets lost a whole count, none negative', () => {
    const p = problems(
      makeBeacon({
        samples: [
          makeSample({ packetLossRatio: 1.5, packetsLost: 2.5, jitterMs: -1, framesPerSecond: -3 }),
          makeSample({ framesPerSecond: 24.5, jitterMs: 3.2, packetsLost: 7, packetLossRatio: 0.25 }),
        ],
      }),
    );
    expect(p).toContainEqual({ path: 'samples[0].packetLossRatio', problem: 'must be ≤ 1, got 1.5' });
    expect(p.find((x) => x.path === 'samples[0].packetsLost')?.problem).toMatch(/integer/);
    expect(p).toContainEqual({ path: 'samples[0].jitterMs', problem: 'must be ≥ 0, got -1' });
    expect(p).toContainEqual({ path: 'samples[0].framesPerSecond', problem: 'must be ≥ 0, got -3' });
    expect(p.filter((x) => x.path.startsWith('samples[1]'))).toEqual([]);
  });

  it('refuses a non-object body by name', () => {
    expect(problems([1, 2])[0]).toEqual({ path: '(body)', problem: 'must be an object, got an array' });
  });

  it('lists at most 50 problems', () => {
    const samples = Array.from({ length: 200 }, () => ({ viewId: 1 }));
    expect(problems(makeBeacon({ samples: samples as never })).length).toBe(50);
  });

  it('turns JSON pointers into readable paths', () => {
    expect(pointerToPath('/samples/3/viewId')).toBe('samples[3].viewId');
    expect(pointerToPath('')).toBe('(body)');
    expect(pointerToPath('/a~1b')).toBe('a/b');
  });
});
