/**
 * Enrichment in the real server: a view's stored row carries the device from
 * its user agent and the geo and ASN of its client address, looked up in
 * MaxMind-format databases the test builds itself.
 */
import { makeBeacon, makeEvent, makeSample } from '@openqoe/schema';
import { afterAll, describe, expect, it } from 'vitest';
import { buildTestDatabases } from './helpers/mmdb.js';
import {
  postBeacon,
  queryDataDir,
  readMetric,
  removeDir,
  startServer,
  tempDataDir,
  waitFor,
} from './helpers/server-process.js';

const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.0 Mobile/15E148 Safari/604.1';

describe('view enrichment', () => {
  const dataDir = tempDataDir('openqoe-enrich-');
  afterAll(() => removeDir(dataDir));

  it('stores device, geo and ASN dimensions on the view, with the address truncated', async () => {
    const db = buildTestDatabases(dataDir);
    const server = await startServer({
      dataDir,
      config: {
        logLevel: 'warn',
        trustProxy: true,
        intake: { rateLimit: { perIpPerSecond: 0, perEnvKeyPerSecond: 0 } },
        views: { idleCompleteMs: 300, tickIntervalMs: 50 },
        enrich: { geoDatabase: db.geo, asnDatabase: db.asn, truncateIp: true },
      },
    });
    const key = server.bootstrap().environment.key;
    const t0 = Date.now() - 20_000;
    const body = makeBeacon({
      envKey: key,
      samples: [
        makeSample({ viewId: 'v-geo', sequenceNumber: 1, state: 'startup', timestamp: t0, durationMs: 600 }),
        makeSample({
          viewId: 'v-geo',
          sequenceNumber: 2,
          state: 'playing',
          timestamp: t0 + 600,
          durationMs: 9000,
        }),
      ],
      events: [
        makeEvent({
          viewId: 'v-geo',
          sequenceNumber: 0,
          type: 'playrequest',
          state: 'startup',
          viewerTime: t0,
        }),
      ],
    });
    const res = await postBeacon(server.url, JSON.stringify(body), {
      'content-type': 'text/plain',
      'user-agent': IPHONE,
      'x-forwarded-for': '89.160.20.112',
    });
    expect(res.status).toBe(202);
    await waitFor(
      async () => (await readMetric(server, 'openqoe_pipeline_views_stored_total')) >= 1,
      'the view to be stored',
    );
    await server.kill('SIGTERM');
    const rows = await queryDataDir(
      dataDir,
      `SELECT browser, os, device_category, country, region, city, asn::INTEGER AS asn, as_org, ip, video_startup_time_ms FROM views`,
    );
    expect(rows).toEqual([
      {
        browser: 'Mobile Safari',
        os: 'iOS',
        device_category: 'mobile',
        country: 'SE',
        region: 'E',
        city: 'Linköping',
        asn: 29518,
        as_org: 'Bredband2 AB',
        ip: '89.160.20.0',
        video_startup_time_ms: 600,
      },
    ]);
  });

  it('refuses to start with a database path that does not exist, naming it', async () => {
    const dir = tempDataDir('openqoe-enrich-bad-');
    try {
      await expect(
        startServer({
          dataDir: dir,
          config: { logLevel: 'warn', enrich: { geoDatabase: '/nonexistent/city.mmdb' } },
        }),
      ).rejects.toThrow(/\/nonexistent\/city\.mmdb/);
    } finally {
      removeDir(dir);
    }
  });
});
