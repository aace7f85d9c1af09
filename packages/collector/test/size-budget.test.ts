/**
 * The size budget, measured on the very files the e2e pages load (the IIFE
 * builds), with the whole state machine, timers and transport inside.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCollector, COLLECTOR_DIR, collectorFile } from './e2e/kit/index.js';

const budget = JSON.parse(readFileSync(join(COLLECTOR_DIR, 'size-budget.json'), 'utf8')) as Record<
  string,
  number
>;
const brotli = (file: string) =>
  brotliCompressSync(readFileSync(collectorFile(file)), {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11 },
  }).length;

beforeAll(() => buildCollector(), 60_000);

describe('collector size budget (brotli)', () => {
  it('core + HTML5 adapter ≤ 8 KB, each other adapter ≤ 2 KB', () => {
    expect(budget['openqoe.iife.js']).toBe(8192);
    for (const [file, limit] of Object.entries(budget)) {
      if (file === 'comment') continue;
      if (file !== 'openqoe.iife.js') expect(limit).toBeLessThanOrEqual(2048);
      expect(brotli(file), file).toBeLessThanOrEqual(limit);
    }
  });

  it('the core bundle carries the state machine, timers and transport (nothing lazy-loaded)', () => {
    const core = readFileSync(collectorFile('openqoe.iife.js'), 'utf8');
    for (const marker of [
      'QOE_REBUFFER_TIMEOUT',
      'QOE_STARTUP_TIMEOUT',
      'sendBeacon',
      'keepalive',
      'rebufferstart',
    ]) {
      expect(core).toContain(marker);
    }
    expect(core).not.toMatch(/import\(/);
  });
});
