/**
 * Countries with no configuration: the server's default geo database is the
 * bundled country database, so a beacon from a forwarded public address
 * (trustProxy on) gets its country, and the README's `filters[]=country:DE`
 * finds it. The generator's country networks are all placed in their
 * country by that database, so `openqoe generate` fills the country too.
 */
import { COUNTRIES, countryNetwork } from '@openqoe/generator';
import { makeBeacon, makeEvent, makeSample } from '@openqoe/schema';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLED_GEO, Enricher } from '../src/pipeline/enrich/enricher.js';
import {
  postBeacon,
  queryDataDir,
  readMetric,
  removeDir,
  startServer,
  TEST_CONFIG,
  tempDataDir,
  waitFor,
} from './helpers/server-process.js';

/** A short finished view, 20 s ago. */
function viewBeacon(key: string, viewId: string): string {
  const t0 = Date.now() - 20_000;
  return JSON.stringify(
    makeBeacon({
      envKey: key,
      samples: [
        makeSample({ viewId, sequenceNumber: 1, state: 'startup', timestamp: t0, durationMs: 600 }),
        makeSample({ viewId, sequenceNumber: 2, state: 'playing', timestamp: t0 + 600, durationMs: 9000 }),
      ],
      events: [
        makeEvent({ viewId, sequenceNumber: 0, type: 'playrequest', state: 'startup', viewerTime: t0 }),
      ],
    }),
  );
}

const FAST_VIEWS = { idleCompleteMs: 300, tickIntervalMs: 50 };

describe('country out of the box', () => {
  const dataDir = tempDataDir('openqoe-geo-bundled-');
  const backfillDir = tempDataDir('openqoe-geo-backfill-');
  afterAll(() => {
    removeDir(dataDir);
    removeDir(backfillDir);
  });

  it('the bundled database places every /24 of the generator’s networks in their country, and no loopback address anywhere', async () => {
    const e = await Enricher.open({ geoDatabasePath: BUNDLED_GEO, asnDatabasePath: '', truncateIp: false });
    try {
      COUNTRIES.forEach(([country], i) => {
        const [a, b] = countryNetwork(i).split('.');
        expect(countryNetwork(i)).toMatch(/^\d+\.\d+\.0\.0\/16$/);
        for (let c = 0; c < 256; c++)
          expect(e.enrich(`${a}.${b}.${c}.1`, '').country, `${a}.${b}.${c}.1`).toBe(country);
      });
      expect(e.enrich('127.0.0.1', '').country).toBe('');
    } finally {
      e.close();
    }
  });

  it('a beacon from a forwarded public address gets its country with no geo configuration', async () => {
    const server = await startServer({
      dataDir,
      config: { ...TEST_CONFIG, trustProxy: true, views: FAST_VIEWS },
    });
    try {
      const key = server.bootstrap().environment.key;
      // 85.214.0.0/16: a German hosting provider's block (not one of the generator's networks).
      const res = await postBeacon(server.url, viewBeacon(key, 'v-de'), {
        'content-type': 'text/plain',
        'x-forwarded-for': '85.214.132.117',
      });
      expect(res.status).toBe(202);
      await waitFor(
        async () => (await readMetric(server, 'openqoe_pipeline_views_stored_total')) >= 1,
        'the view to be stored',
      );
      // The README's example filter finds it.
      const answer = await fetch(
        `${server.url}/data/v1/metrics/rebuffer_percentage/breakdown?group_by=cdn_provider&filters[]=country:DE`,
        { headers: { authorization: server.adminAuth() } },
      );
      expect(answer.status).toBe(200);
      const rows = ((await answer.json()) as { data: { views: number }[] }).data;
      expect(rows.map((r) => r.views)).toEqual([1]);
    } finally {
      await server.kill('SIGTERM');
    }
    expect(await queryDataDir(dataDir, 'SELECT view_id, country FROM views')).toEqual([
      { view_id: 'v-de', country: 'DE' },
    ]);
  });

  it('without trustProxy, a backfill (system token) may state the client address; an ordinary beacon may not', async () => {
    const server = await startServer({ dataDir: backfillDir, config: { ...TEST_CONFIG, views: FAST_VIEWS } });
    try {
      const key = server.bootstrap().environment.key;
      const forwarded = { 'content-type': 'text/plain', 'x-forwarded-for': '91.0.7.9, 10.0.0.1' };
      expect((await postBeacon(server.url, viewBeacon(key, 'v-plain'), forwarded)).status).toBe(202);
      const backfill = await fetch(`${server.url}/v1/beacon?backfill=true`, {
        method: 'POST',
        headers: { ...forwarded, authorization: server.adminAuth() },
        body: viewBeacon(key, 'v-backfill'),
      });
      expect(backfill.status).toBe(202);
      await waitFor(
        async () => (await readMetric(server, 'openqoe_pipeline_views_stored_total')) >= 2,
        'both views to be stored',
      );
    } finally {
      await server.kill('SIGTERM');
    }
    expect(
      await queryDataDir(backfillDir, 'SELECT view_id, country, ip FROM views ORDER BY view_id'),
    ).toEqual([
      { view_id: 'v-backfill', country: 'DE', ip: '91.0.7.9' },
      { view_id: 'v-plain', country: '', ip: '127.0.0.1' },
    ]);
  });
});
