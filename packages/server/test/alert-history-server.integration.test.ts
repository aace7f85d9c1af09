/**
 * The series history through a running server: the test starts `openqoe
 * serve` (real-time ticks every second) and plays three views through the
 * native intake every second — two on cdn-a, one on cdn-b that rebuffers
 * from its third beat on. Once a whole minute has passed the backtest route
 * replays a per-CDN rule over it (an incident for cdn-b only) and refuses
 * what it cannot replay naming the field; after the server stops, its store's
 * `series_minutes` row of that whole minute holds the sums the traffic makes
 * (3 viewers in all, 2 on cdn-a, 1 on cdn-b, every tick; cdn-b's watch time
 * all rebuffering, cdn-a's none). No wall-clock time is asserted.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBStore } from '../src/store/duckdb/duckdb-store.js';
import { postViews, ViewScript } from './helpers/monitoring-script.js';
import {
  removeDir,
  type ServerProcess,
  startServer,
  TEST_CONFIG,
  tempDataDir,
  waitFor,
} from './helpers/server-process.js';
import { slowTests } from './helpers/slow-tests.js';

const MINUTE = 60_000;
const RULE = {
  name: 'Rebuffering per CDN',
  metric: 'current_rebuffering_percentage',
  breakdown: 'cdn',
  condition: { type: 'threshold', operator: '>', value: 50, for_seconds: 0, resolve_for_seconds: 0 },
};

// biome-ignore lint/suspicious/noExplicitAny: answers are JSON checked field by field
type Json = any;

describe('series history through a running server', () => {
  // The test waits for the first whole minute after the stall began and a tick of the next one:
  // up to about 125 s of wall time, whatever the machine, past vitest's default timeout.
  slowTests(180_000);
  const dataDir = tempDataDir('openqoe-history-server-');
  let server: ServerProcess | undefined;
  let timer: NodeJS.Timeout | undefined;
  const start = Date.now() - 500;
  const views = (
    [
      ['a0', 'cdn-a'],
      ['a1', 'cdn-a'],
      ['b0', 'cdn-b'],
    ] as const
  ).map(([id, cdnHost]) => ({
    script: new ViewScript(`${id}-${start}`, start, { cdnHost })
      .ev('playrequest', 'startup')
      .seg('startup', 500),
    sent: { samples: 0, events: 0 },
  }));
  let beats = 0;
  /** The first whole minute with cdn-b stalling throughout (known once the stall began). */
  let wholeMinute = Number.POSITIVE_INFINITY;
  /** Each view reports the time since its last report: playing, or (cdn-b from its third beat) rebuffering. */
  const beat = async () => {
    const now = Date.now();
    for (const v of views) {
      const ms = now - v.script.t;
      const stalled = v.script.viewId.startsWith('b0') && beats >= 2;
      if (ms > 0) v.script.seg(stalled ? 'rebuffering' : 'playing', ms, stalled ? 0 : ms);
    }
    const fresh = views.map((v) => {
      const out = {
        samples: v.script.samples.slice(v.sent.samples),
        events: v.script.events.slice(v.sent.events),
      };
      v.sent = { samples: v.script.samples.length, events: v.script.events.length };
      return out;
    });
    await postViews(server!, fresh, false);
    if (beats === 2) wholeMinute = Math.ceil((now + 1000) / MINUTE) * MINUTE;
    beats++;
  };
  const call = async (
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Json }> => {
    const res = await fetch(`${server!.url}${path}`, {
      method,
      headers: { authorization: server!.adminAuth(), 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: await res.json() };
  };

  beforeAll(async () => {
    server = await startServer({ dataDir, config: { ...TEST_CONFIG, realtime: { tickMs: 1000 } } });
    await beat();
    timer = setInterval(() => void beat().catch(() => undefined), 1000);
  });

  afterAll(async () => {
    clearInterval(timer);
    await server?.kill('SIGTERM');
    removeDir(dataDir);
  });

  it('keeps a minute of the traffic, which the backtest route replays and the store holds as its sums', async () => {
    // The history holds the whole minute once the server has had a tick of the next one (and written it).
    let answer: Json;
    await waitFor(
      async () => {
        // A minute passes between new rows: no need to ask ten times a second.
        await new Promise((r) => setTimeout(r, 2000));
        if (Date.now() < wholeMinute + MINUTE + 3000) return false;
        answer = await call('POST', '/system/v1/alert-rules/backtest', RULE);
        expect(answer.status, JSON.stringify(answer.body)).toBe(200);
        return answer.body.data.minutes_covered >= 2;
      },
      'the whole minute in the history',
      240_000,
    );
    expect(answer.body.data.series_count).toBe(2);
    expect(answer.body.data.incidents.map((i: Json) => [i.series, i.resolved_at])).toEqual([['cdn-b', null]]);
    expect(answer.body.data.count).toBe(1);

    const refused = await call('POST', '/system/v1/alert-rules/backtest', {
      ...RULE,
      filters: ['cdn:cdn-a'],
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.fields.map((f: Json) => f.path)).toEqual(['filters']);
    const bad = await call('POST', '/system/v1/alert-rules/backtest', { ...RULE, metric: 'nope' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields.map((f: Json) => f.path)).toEqual(['metric']);
    const days = await call('POST', '/system/v1/alert-rules/backtest?days=0', RULE);
    expect(days.status).toBe(400);
    expect(days.body.error.fields.map((f: Json) => f.path)).toEqual(['querystring.days']);

    clearInterval(timer);
    await server!.kill('SIGTERM');
    server = undefined;
    const store = await DuckDBStore.open({
      path: join(dataDir, 'openqoe.duckdb'),
      checkpointThreshold: '16MB',
      memoryLimit: '',
      threads: 1,
    });
    try {
      const m = wholeMinute;
      const rows = await store.execute(
        "SELECT dimension, value, concurrent, ticks, watch_ms, rebuffer_ms FROM series_minutes WHERE minute_ms = $1 AND dimension IN ('', 'cdn') ORDER BY dimension, value",
        [m],
      );
      const row = (value: string) => rows.find((r) => r['value'] === value)!;
      const ticks = Number(row('')['ticks']);
      expect(ticks).toBeGreaterThan(0);
      expect(Number(row('')['concurrent'])).toBe(3 * ticks);
      expect(Number(row('cdn-a')['concurrent'])).toBe(2 * ticks);
      expect(Number(row('cdn-b')['concurrent'])).toBe(ticks);
      expect(Number(row('cdn-a')['rebuffer_ms'])).toBe(0);
      expect(Number(row('cdn-b')['watch_ms'])).toBeGreaterThan(0);
      expect(Number(row('cdn-b')['rebuffer_ms'])).toBe(Number(row('cdn-b')['watch_ms']));
      expect(Number(row('')['rebuffer_ms'])).toBe(Number(row('cdn-b')['rebuffer_ms']));
    } finally {
      await store.close();
    }
  });
});
