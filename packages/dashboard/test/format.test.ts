/**
 * The dashboard's duration format, as the view timeline's axis and the
 * rebuffer list show it: whole minutes without a "0 s", and no "60 s".
 */
import { describe, expect, it } from 'vitest';
import { formatDuration, formatTicks } from '../src/format.js';

describe('formatDuration', () => {
  it('reads under a minute in ms or s, and minutes with their seconds', () => {
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(44_860)).toBe('44.86 s');
    expect(formatDuration(66_000)).toBe('1 min 6 s');
    expect(formatDuration(229_400)).toBe('3 min 49 s');
  });

  it('drops the seconds of a whole minute, as an axis tick has them', () => {
    expect(formatDuration(300_000)).toBe('5 min');
    expect(formatDuration(600_000)).toBe('10 min');
  });

  it('carries 59.5 s and more into the next minute instead of showing "60 s"', () => {
    expect(formatDuration(299_700)).toBe('5 min');
    expect(formatDuration(119_600)).toBe('2 min');
  });
});

describe('formatTicks', () => {
  it('gives a time axis one unit: seconds once the top tick reaches 10 s', () => {
    expect(formatTicks([0, 2500, 5000, 7500, 10_000], 'ms')).toEqual([
      '0 s',
      '2.5 s',
      '5 s',
      '7.5 s',
      '10 s',
    ]);
    expect(formatTicks([0, 2000, 4000, 6000, 8000], 'milliseconds')).toEqual([
      '0 ms',
      '2000 ms',
      '4000 ms',
      '6000 ms',
      '8000 ms',
    ]);
  });

  it('gives a bitrate axis one unit, with the decimals each tick needs', () => {
    expect(formatTicks([0, 500_000, 1_000_000, 1_500_000], 'bps')).toEqual([
      '0 Mbps',
      '0.5 Mbps',
      '1 Mbps',
      '1.5 Mbps',
    ]);
    expect(formatTicks([0, 200_000, 400_000], 'bits_per_second')).toEqual(['0 kbps', '200 kbps', '400 kbps']);
  });

  it('formats other units value by value', () => {
    expect(formatTicks([0, 0.5, 1], 'percentage')).toEqual(['0%', '0.5%', '1%']);
  });
});
