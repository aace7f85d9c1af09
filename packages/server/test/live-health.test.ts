/**
 * Per-stream health on top of the drift tracker: sessions per connection,
 * `unknown` after the idle period (disconnected or stalled), a stale close
 * that must not end a newer session, and the history rows it writes.
 */
import { describe, expect, it } from 'vitest';
import { LiveHealth } from '../src/live/live-health.js';
import type { HealthRow, LiveStore } from '../src/store/live-store.js';

const IDLE = 3000;

function setup() {
  const rows: HealthRow[] = [];
  const store = {
    insertHealth: async (r: readonly HealthRow[]) => void rows.push(...r),
  } as unknown as LiveStore;
  const health = new LiveHealth(
    { rollingWindowMs: 10_000, warmUpMs: 0, idleUnknownMs: IDLE, historyIntervalMs: 60_000 },
    store,
    (err) => {
      throw err;
    },
  );
  return { health, rows };
}

/** `seconds` of 25 fps video from wall `t0` at `rate` × real time; returns the last packet's wall time. */
function push(h: LiveHealth, session: number, t0: number, rate: number, seconds: number): number {
  let wall = t0;
  for (let i = 0; i < seconds * 25; i++) {
    wall = t0 + (i * 40) / rate;
    h.video('s1', session, wall, i * 40);
  }
  return wall;
}

describe('live health', () => {
  it('is unknown for a stream that never published', () => {
    const { health } = setup();
    expect(health.health('s1', 1000)).toMatchObject({ status: 'unknown', sessionAvgMs: 0, connected: false });
  });

  it('reports the tracker while video flows, with the time of the latest packet', () => {
    const { health } = setup();
    const s = health.connect('s1', 'env');
    const last = push(health, s, 1_000_000, 0.5, 10);
    const h = health.health('s1', last + 100);
    expect(h).toMatchObject({ status: 'poor', connected: true, updatedAtMs: last });
    // Drift at packet i is 40·i (media at half speed); the mean over 250 packets is 40·124.5.
    expect(h.sessionAvgMs).toBeCloseTo(40 * 124.5, 6);
  });

  it('turns unknown after the idle period, connected but stalled or disconnected', () => {
    const { health } = setup();
    const s = health.connect('s1', 'env');
    const last = push(health, s, 1_000_000, 1, 10);
    expect(health.health('s1', last + IDLE).status).toBe('excellent');
    expect(health.health('s1', last + IDLE + 1)).toMatchObject({ status: 'unknown', connected: true });
    health.disconnect('s1', s);
    expect(health.health('s1', last + 1000)).toMatchObject({ status: 'excellent', connected: false });
    expect(health.health('s1', last + IDLE + 1)).toMatchObject({
      status: 'unknown',
      connected: false,
      sessionAvgMs: 0,
      deviationMs: 0,
    });
  });

  it('starts a new session on reconnect, and ignores the late close of the old one', () => {
    const { health } = setup();
    const first = health.connect('s1', 'env');
    const end = push(health, first, 1_000_000, 0.5, 10);
    expect(health.health('s1', end).sessionAvgMs).toBeGreaterThan(4000);
    const second = health.connect('s1', 'env');
    health.disconnect('s1', first); // the old socket's close arrives after the new publish
    health.video('s1', first, end + 10, 999_999); // and a straggling packet of the old session
    const last = push(health, second, end + 1000, 1, 5);
    expect(health.health('s1', last)).toMatchObject({
      status: 'excellent',
      connected: true,
      sessionAvgMs: 0,
    });
  });

  it('writes a history row per connected stream, and one more when the status changes after', async () => {
    const { health, rows } = setup();
    const write = (nowMs: number) =>
      (health as unknown as { writeHistory(n: number): Promise<void> }).writeHistory(nowMs);
    const s = health.connect('s1', 'env-1');
    const last = push(health, s, 1_000_000, 1, 10);
    await write(last + 10);
    await write(last + 20);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      envId: 'env-1',
      liveStreamId: 's1',
      status: 'excellent',
      connected: true,
    });
    expect(rows[0]!.driftMs).not.toBeNull();
    // Disconnected: nothing while the status stands, one row when it turns unknown, then nothing.
    health.disconnect('s1', s);
    await write(last + 1000);
    await write(last + IDLE + 100);
    await write(last + IDLE + 200);
    expect(rows.map((r) => r.status)).toEqual(['excellent', 'excellent', 'unknown']);
    expect(rows[2]).toMatchObject({ connected: false, driftMs: null, sessionAvgMs: null, deviationMs: null });
  });
});
