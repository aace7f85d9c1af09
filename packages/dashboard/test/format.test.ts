/**
 * The dashboard's duration format, as the view timeline's axis and the
 * rebuffer list show it: whole minutes without a "0 s", and no "60 s".
 */
import { describe, expect, it } from 'vitest';
import { formatDuration } from '../src/format.js';

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
