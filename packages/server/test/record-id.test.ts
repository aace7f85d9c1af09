import { describe, expect, it } from 'vitest';
import { recordId } from '../src/live/record-id.js';

describe('recordId', () => {
  it('redraws an id that would begin with "-", so a command line never reads it as an option', () => {
    // 0xf8 is 111110xx: its first base64url digit is 62, "-".
    const draws = [Buffer.from([0xf8, 1, 2]), Buffer.from([0xfb, 9, 9]), Buffer.from([0x04, 5, 6])];
    let n = 0;
    expect(recordId(3, () => draws[n++]!)).toBe(Buffer.from([0x04, 5, 6]).toString('base64url'));
    expect(n).toBe(3);
  });

  it('gives URL-safe ids of the asked length, none beginning with "-"', () => {
    const ids = Array.from({ length: 5000 }, () => recordId(12));
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{15}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
