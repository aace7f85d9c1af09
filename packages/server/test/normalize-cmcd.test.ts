/**
 * CMCD reports through the pipeline's normaliser and the one view model, on
 * hand-made sessions whose metrics are worked out by hand: stalls reported
 * only as `bsd` durations, `bsd` alongside `sta=r` (not counted twice), and a
 * start delay given as `msd`.
 */
import { describe, expect, it } from 'vitest';
import type { CmcdReport } from '../src/bus/intake-record.js';
import { ActiveViews } from '../src/pipeline/view-model/active-views.js';
import { cmcdItems } from '../src/pipeline/view-model/normalize-cmcd.js';

const T0 = 1_700_000_000_000;
const arrival = { envId: 'env', receivedAtMs: T0 + 60_000, clockOffsetMs: 0, ip: '', userAgent: '' };

function metricsOf(reports: CmcdReport[]) {
  const views = new ActiveViews();
  views.apply(arrival, 's', cmcdItems(reports, T0));
  return views.get('env', 's')!.machine.metrics(true);
}

const r = (sn: number, at: number, extra: CmcdReport): CmcdReport => ({
  sid: 's',
  sn,
  ts: T0 + at,
  v: 2,
  ...extra,
});

describe('CMCD normalisation', () => {
  it('a stall reported only as bsd on a time-interval report is one rebuffer of that length', () => {
    const m = metricsOf([
      r(0, 0, { e: 'ps', sta: 's' }),
      r(1, 500, { e: 'ps', sta: 'p' }),
      r(2, 10_500, { e: 't', sta: 'p', bsd: [700], bsa: 1 }),
    ]);
    expect(m.videoStartupTimeMs).toBe(500);
    expect(m.rebufferCount).toBe(1);
    expect(m.rebufferDurationMs).toBe(700);
    // 500 startup + 9 300 playing + 700 rebuffering
    expect(m.watchTimeMs).toBe(10_500);
  });

  it('bsd next to reported rebuffering states is not counted again', () => {
    const m = metricsOf([
      r(0, 0, { e: 'ps', sta: 's' }),
      r(1, 400, { e: 'ps', sta: 'p' }),
      r(2, 3_000, { e: 'ps', sta: 'r' }),
      r(3, 4_000, { e: 'ps', sta: 'p', bsd: [1000] }),
      r(4, 8_000, { e: 't', sta: 'p', bsd: [1000] }),
    ]);
    expect(m.rebufferCount).toBe(1);
    expect(m.rebufferDurationMs).toBe(1000);
  });

  it('msd places the play request when no starting state was reported', () => {
    const m = metricsOf([r(0, 2_000, { e: 'ps', sta: 'p', msd: 1_250 }), r(1, 5_000, { e: 't', sta: 'p' })]);
    expect(m.videoStartupTimeMs).toBe(1_250);
  });

  it('a fatal error report fails the view with its code', () => {
    const m = metricsOf([
      r(0, 0, { e: 'ps', sta: 's' }),
      r(1, 300, { e: 'ps', sta: 'p' }),
      r(2, 2_000, { e: 'e', sta: 'f', ec: ['fragLoadError', 'x'] }),
    ]);
    expect(m).toMatchObject({ outcome: 'failure', playbackFailure: true, errorCode: 'fragLoadError' });
  });
});
