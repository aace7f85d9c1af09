/**
 * The admission of new views on its own, on a clock the test moves: each cap
 * refuses a request whole (nothing registered), naming itself; known views
 * and views the pipeline holds are never new; backfill is registered but not
 * refused; views leave the register as the pipeline lets them go.
 */
import { describe, expect, it } from 'vitest';
import { ApiError } from '../src/http/api-error.js';
import { ViewAdmission, viewRefs } from '../src/intake/kit/view-admission.js';
import { createMetrics } from '../src/observability/metrics.js';

const LIFECYCLE = { finalAfterMs: 3_600_000, endedRetentionMs: 300_000 };
const ids = (prefix: string, n: number) =>
  viewRefs(Array.from({ length: n }, (_, i) => ({ viewId: `${prefix}-${i}` })));

function admission(
  caps: Partial<ConstructorParameters<typeof ViewAdmission>[0]>,
  inPipeline?: (e: string, v: string) => boolean,
) {
  return new ViewAdmission(
    { maxInProgressPerEnv: 0, newPerSecondPerEnv: 0, newBurstPerEnv: 1, maxInMemory: 1_000_000, ...caps },
    LIFECYCLE,
    createMetrics(),
    inPipeline,
  );
}

function refusedBy(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    const e = err as ApiError;
    expect(e.code).toBe('QOE_ERR_RATE_LIMITED');
    expect(Number(e.headers?.['retry-after'])).toBeGreaterThan(0);
    return e.messages!.join(' ');
  }
  throw new Error('not refused');
}

describe('view admission', () => {
  it('caps views in progress per environment; other environments and known views pass', () => {
    const a = admission({ maxInProgressPerEnv: 1000 });
    a.admit('env-a', ids('a', 1000), false, 0);
    expect(refusedBy(() => a.admit('env-a', ids('b', 1), false, 1))).toContain(
      'intake.views.maxInProgressPerEnv',
    );
    a.admit('env-b', ids('a', 1000), false, 2);
    // The same views again are not new.
    a.admit('env-a', ids('a', 1000), false, 3);
  });

  it('caps new views per second per environment (token bucket), refilling with time', () => {
    const a = admission({ newPerSecondPerEnv: 100, newBurstPerEnv: 500 });
    a.admit('env', ids('a', 500), false, 0);
    expect(refusedBy(() => a.admit('env', ids('b', 100), false, 0))).toContain(
      'intake.views.newPerSecondPerEnv',
    );
    a.admit('env', ids('b', 100), false, 1000);
  });

  it('caps views in memory overall, every environment together', () => {
    const a = admission({ maxInMemory: 1500 });
    a.admit('env-a', ids('a', 1000), false, 0);
    expect(refusedBy(() => a.admit('env-b', ids('b', 501), false, 0))).toContain('intake.views.maxInMemory');
    a.admit('env-b', ids('b', 500), false, 0);
  });

  it('a refused request registers nothing; a released one is taken back', () => {
    const a = admission({ maxInProgressPerEnv: 10 });
    expect(() => a.admit('env', ids('a', 11), false, 0)).toThrow(ApiError);
    const release = a.admit('env', ids('a', 10), false, 0);
    release();
    a.admit('env', ids('b', 10), false, 0);
  });

  it('backfill is registered but never refused', () => {
    const a = admission({ maxInProgressPerEnv: 10 });
    a.admit('env', ids('a', 50), true, 0);
    expect(refusedBy(() => a.admit('env', ids('b', 1), false, 0))).toContain('maxInProgressPerEnv');
  });

  it('a view the pipeline holds (rebuilt after a restart) is not new: it spends no rate, but is counted', () => {
    const a = admission({ maxInProgressPerEnv: 7, newPerSecondPerEnv: 1, newBurstPerEnv: 1 }, (_e, v) =>
      v.startsWith('old'),
    );
    a.admit('env', ids('old', 5), false, 0);
    a.admit('env', ids('new', 1), false, 0);
    expect(refusedBy(() => a.admit('env', ids('more', 1), false, 0))).toContain('newPerSecondPerEnv');
    expect(refusedBy(() => a.admit('env', ids('more', 2), false, 5000))).toContain('maxInProgressPerEnv');
  });

  it('views leave the register when the pipeline lets them go: idle past finality, or ended and past retention', () => {
    const a = admission({ maxInProgressPerEnv: 2 });
    a.admit('env', viewRefs([{ viewId: 'ended', event: 'viewend' }, { viewId: 'idle' }]), false, 0);
    expect(refusedBy(() => a.admit('env', ids('x', 1), false, 1000))).toContain('maxInProgressPerEnv');
    a.admit('env', ids('x', 1), false, LIFECYCLE.endedRetentionMs + 1000);
    expect(() => a.admit('env', ids('y', 1), false, LIFECYCLE.endedRetentionMs + 2000)).toThrow(ApiError);
    a.admit('env', ids('y', 1), false, LIFECYCLE.finalAfterMs + 1000);
  });
});
