/**
 * Connector filters: event types and environments are exact matches;
 * sampling is decided per view from a hash of its key, so a view is always
 * wholly in or wholly out and the share follows the rate.
 */
import { describe, expect, it } from 'vitest';
import { ConnectorFilter } from '../src/outputs/connectors/connectors.js';

describe('ConnectorFilter', () => {
  it('leaves out other event types and environments, naming why', () => {
    const f = new ConnectorFilter(['error', 'stall_start'], ['env-a'], 1);
    expect(f.skip('error', 'env-a', 'k')).toBeUndefined();
    expect(f.skip('play', 'env-a', 'k')).toBe('event_type');
    expect(f.skip('error', 'env-b', 'k')).toBe('environment');
    expect(new ConnectorFilter([], [], 1).skip('anything', 'any-env', 'k')).toBeUndefined();
  });

  it('samples whole views at about the configured rate', () => {
    const keys = Array.from({ length: 2000 }, (_, i) => `env\u0000view-${i}`);
    const half = new ConnectorFilter([], [], 0.5);
    const kept = keys.filter((k) => half.skip('play', 'env', k) === undefined);
    expect(kept.length).toBeGreaterThan(850);
    expect(kept.length).toBeLessThan(1150);
    // The same view gets the same answer every time, and from a fresh filter (another server).
    const again = new ConnectorFilter([], [], 0.5);
    for (const k of keys.slice(0, 200)) expect(again.sampled(k)).toBe(half.sampled(k));
    expect(keys.every((k) => new ConnectorFilter([], [], 0).skip('play', 'env', k) === 'sampling')).toBe(
      true,
    );
  });
});
