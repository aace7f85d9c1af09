/**
 * The enricher against databases built by build-mmdb.pl (so every geo/ASN
 * value asserted here is one that script wrote) and against real user-agent
 * strings from current browsers and TVs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Enricher, type Enrichment } from '../src/pipeline/enrich/enricher.js';
import { buildTestDatabases } from './helpers/mmdb.js';

const UA = {
  // Chrome's reduced UA: Windows 11 still says "Windows NT 10.0", minor versions are zeroed.
  chromeWindows:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36',
  // Safari 26 freezes the OS part at 18_6; only Version/ moves.
  safariIphone:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.0 Mobile/15E148 Safari/604.1',
  firefoxLinux: 'Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0',
  firefoxWindows: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:153.0) Gecko/20100101 Firefox/153.0',
  // Samsung's published UA for 2023 (Tizen 7.0) TVs.
  samsungTizenTv:
    'Mozilla/5.0 (SMART-TV; LINUX; Tizen 7.0) AppleWebKit/537.36 (KHTML, like Gecko) 94.0.4606.31/7.0 TV Safari/537.36',
  // LG's published UA for webOS TV 25.
  lgWebOsTv:
    'Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.270 Safari/537.36 WebAppManager',
  // Samsung documents "SMART-TV" as optional; without it ua-parser leaves the device untyped.
  tizenTvWithoutSmartTvToken:
    'Mozilla/5.0 (Linux; Tizen 2.3) AppleWebKit/538.1 (KHTML, like Gecko)Version/2.3 TV Safari/538.1',
  androidWebView:
    'Mozilla/5.0 (Linux; Android 16; Pixel 9 Build/BP2A.250605.031; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/156.0.7790.46 Mobile Safari/537.36',
  fireTvWebView:
    'Mozilla/5.0 (Linux; Android 9; AFTKA Build/PS7633.3445N; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/130.0.6723.102 Mobile Safari/537.36',
  chromecast:
    'Mozilla/5.0 (X11; Linux aarch64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36 CrKey/1.56.500000 DeviceType/AndroidTV',
  // iPad mini keeps the mobile UA by default; larger iPads send the Mac one below.
  safariIpad:
    'Mozilla/5.0 (iPad; CPU OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.0 Mobile/15E148 Safari/604.1',
  safariMac:
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.0 Safari/605.1.15',
  chromeAndroidReduced:
    'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36',
  playStation5:
    'Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0 Safari/605.1.15',
  exoPlayer: 'MyPlayer/1.2 (Linux;Android 14) ExoPlayerLib/2.19.1',
} as const;

const major = (version: string): string => version.split('.')[0] ?? '';

let dir: string;
let db: { geo: string; asn: string };
let enricher: Enricher;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'openqoe-enrich-'));
  db = buildTestDatabases(dir);
  enricher = await Enricher.open({ geoDatabasePath: db.geo, asnDatabasePath: db.asn, truncateIp: false });
});

afterAll(() => {
  enricher?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function geoOf(e: Enrichment): Pick<Enrichment, 'country' | 'region' | 'city' | 'asn' | 'asOrg'> {
  return { country: e.country, region: e.region, city: e.city, asn: e.asn, asOrg: e.asOrg };
}

describe('geo and ASN', () => {
  it.each([
    [
      '81.2.69.142',
      { country: 'GB', region: 'ENG', city: 'London', asn: 20712, asOrg: 'Andrews & Arnold Ltd' },
    ],
    ['89.160.20.112', { country: 'SE', region: 'E', city: 'Linköping', asn: 29518, asOrg: 'Bredband2 AB' }],
    ['2001:db8::1', { country: 'DE', region: 'BE', city: 'Berlin', asn: 64496, asOrg: 'Example IPv6 AS' }],
    [
      '2001:DB8:abcd:12::7',
      { country: 'DE', region: 'BE', city: 'Berlin', asn: 64496, asOrg: 'Example IPv6 AS' },
    ],
    // How a dual-stack Node socket reports an IPv4 client.
    [
      '::ffff:81.2.69.142',
      { country: 'GB', region: 'ENG', city: 'London', asn: 20712, asOrg: 'Andrews & Arnold Ltd' },
    ],
    // In the City database only: ASN stays unknown.
    ['203.0.113.5', { country: 'JP', region: '13', city: 'Tokyo', asn: 0, asOrg: '' }],
  ])('%s', (ip, expected) => {
    expect(geoOf(enricher.enrich(ip, UA.chromeWindows))).toEqual(expected);
  });

  it('leaves addresses outside the databases unknown', () => {
    for (const ip of ['8.8.8.8', '2a00:1450:4001::1']) {
      expect(geoOf(enricher.enrich(ip, UA.chromeWindows))).toEqual({
        country: '',
        region: '',
        city: '',
        asn: 0,
        asOrg: '',
      });
    }
  });

  it('returns unknowns for garbage IP strings without throwing', () => {
    for (const ip of ['not-an-ip', '', '999.1.1.1', '81.2.69.142:443', '2001:db8::1::2', ' 81.2.69.142']) {
      const e = enricher.enrich(ip, UA.chromeWindows);
      expect(geoOf(e), ip).toEqual({ country: '', region: '', city: '', asn: 0, asOrg: '' });
      expect(e.ip).toBe(ip);
      expect(e.browser).toBe('Chrome');
    }
  });

  it('stores the IP as given when truncation is off', () => {
    for (const ip of ['81.2.69.142', '2001:DB8:abcd:12::7', '::ffff:81.2.69.142']) {
      expect(enricher.enrich(ip, '').ip).toBe(ip);
    }
  });

  it('truncates IPv4 to /24 and IPv6 to /48 when on, after looking up the full address', async () => {
    const truncating = await Enricher.open({
      geoDatabasePath: db.geo,
      asnDatabasePath: db.asn,
      truncateIp: true,
    });
    try {
      const v4 = truncating.enrich('81.2.69.142', '');
      expect(v4.ip).toBe('81.2.69.0');
      expect(v4.city).toBe('London');
      const v6 = truncating.enrich('2001:DB8:abcd:12:34:56:78:9a', '');
      expect(v6.ip).toBe('2001:db8:abcd::');
      expect(v6.city).toBe('Berlin');
      expect(truncating.enrich('2001:db8::1', '').ip).toBe('2001:db8::');
      expect(truncating.enrich('2001:0:0:1::5', '').ip).toBe('2001::');
      expect(truncating.enrich('::1', '').ip).toBe('::');
      expect(truncating.enrich('fe80::1%eth0', '').ip).toBe('fe80::');
      // An IPv4 client on a dual-stack socket is truncated as IPv4, not to "::".
      expect(truncating.enrich('::ffff:81.2.69.142', '').ip).toBe('81.2.69.0');
      expect(truncating.enrich('::ffff:5102:458e', '').ip).toBe('81.2.69.0');
      // Nothing that cannot be anonymised is stored.
      expect(truncating.enrich('not-an-ip', '').ip).toBe('');
    } finally {
      truncating.close();
    }
  });

  it('runs without geo or ASN when the paths are empty', async () => {
    const bare = await Enricher.open({ geoDatabasePath: '', asnDatabasePath: '', truncateIp: false });
    try {
      const e = bare.enrich('81.2.69.142', UA.firefoxLinux);
      expect(geoOf(e)).toEqual({ country: '', region: '', city: '', asn: 0, asOrg: '' });
      expect(e.ip).toBe('81.2.69.142');
      expect(e.browser).toBe('Firefox');
    } finally {
      bare.close();
    }
  });

  it('rejects a missing database file, naming the path', async () => {
    const missing = join(dir, 'no-such.mmdb');
    await expect(
      Enricher.open({ geoDatabasePath: missing, asnDatabasePath: db.asn, truncateIp: false }),
    ).rejects.toThrow(`geo database ${JSON.stringify(missing)}: file not found`);
    await expect(
      Enricher.open({ geoDatabasePath: db.geo, asnDatabasePath: missing, truncateIp: false }),
    ).rejects.toThrow(`ASN database ${JSON.stringify(missing)}: file not found`);
  });

  it('rejects a file that is not a MaxMind DB, naming the path', async () => {
    const junk = join(dir, 'junk.mmdb');
    writeFileSync(junk, 'this is a text file, not a MaxMind database\n'.repeat(20));
    await expect(
      Enricher.open({ geoDatabasePath: junk, asnDatabasePath: '', truncateIp: false }),
    ).rejects.toThrow(`geo database ${JSON.stringify(junk)}: not a valid MaxMind DB (.mmdb) file`);
    const empty = join(dir, 'empty.mmdb');
    writeFileSync(empty, '');
    await expect(
      Enricher.open({ geoDatabasePath: '', asnDatabasePath: empty, truncateIp: false }),
    ).rejects.toThrow(`ASN database ${JSON.stringify(empty)}: not a valid MaxMind DB (.mmdb) file`);
    await expect(
      Enricher.open({ geoDatabasePath: dir, asnDatabasePath: '', truncateIp: false }),
    ).rejects.toThrow(`geo database ${JSON.stringify(dir)}: is a directory`);
  });

  it('rejects swapped geo and ASN paths instead of silently finding nothing', async () => {
    await expect(
      Enricher.open({ geoDatabasePath: db.asn, asnDatabasePath: db.geo, truncateIp: false }),
    ).rejects.toThrow(/geo database ".*test-asn\.mmdb": is a GeoLite2-ASN database.*swapped/);
  });
});

describe('user agents', () => {
  const parse = (ua: string): Enrichment => enricher.enrich('8.8.8.8', ua);

  it('desktop Chrome on Windows', () => {
    const e = parse(UA.chromeWindows);
    expect([e.browser, major(e.browserVersion), e.os, e.osVersion, e.deviceCategory]).toEqual([
      'Chrome',
      '156',
      'Windows',
      '10',
      'desktop',
    ]);
  });

  it('Safari on iPhone', () => {
    const e = parse(UA.safariIphone);
    expect([
      e.browser,
      major(e.browserVersion),
      e.os,
      e.deviceCategory,
      e.deviceBrand,
      e.deviceModel,
    ]).toEqual(['Mobile Safari', '26', 'iOS', 'mobile', 'Apple', 'iPhone']);
  });

  it('Firefox on Linux and on Windows', () => {
    const linux = parse(UA.firefoxLinux);
    expect([linux.browser, major(linux.browserVersion), linux.os, linux.deviceCategory]).toEqual([
      'Firefox',
      '153',
      'Linux',
      'desktop',
    ]);
    const windows = parse(UA.firefoxWindows);
    expect([windows.browser, major(windows.browserVersion), windows.os, windows.deviceCategory]).toEqual([
      'Firefox',
      '153',
      'Windows',
      'desktop',
    ]);
  });

  it('smart TVs: Samsung Tizen, LG webOS, Fire TV, Chromecast', () => {
    const samsung = parse(UA.samsungTizenTv);
    expect([samsung.os, samsung.osVersion, samsung.deviceCategory]).toEqual(['Tizen', '7.0', 'tv']);
    const lg = parse(UA.lgWebOsTv);
    expect([lg.browser, major(lg.browserVersion), lg.os, lg.deviceCategory]).toEqual([
      'Chrome',
      '120',
      'webOS',
      'tv',
    ]);
    const fireTv = parse(UA.fireTvWebView);
    expect([fireTv.deviceCategory, fireTv.deviceBrand]).toEqual(['tv', 'Amazon']);
    const chromecast = parse(UA.chromecast);
    expect([chromecast.deviceCategory, chromecast.deviceBrand, chromecast.deviceModel]).toEqual([
      'tv',
      'Google',
      'Chromecast',
    ]);
  });

  it('a TV that ua-parser leaves untyped is recognised by its TV token', () => {
    const e = parse(UA.tizenTvWithoutSmartTvToken);
    expect([e.os, e.deviceCategory]).toEqual(['Tizen', 'tv']);
  });

  it('an Android app WebView', () => {
    const e = parse(UA.androidWebView);
    expect([
      e.browser,
      major(e.browserVersion),
      e.os,
      e.osVersion,
      e.deviceCategory,
      e.deviceBrand,
      e.deviceModel,
    ]).toEqual(['Chrome WebView', '156', 'Android', '16', 'mobile', 'Google', 'Pixel 9']);
  });

  it('iPad with the mobile UA is a tablet; iPadOS with the Mac UA cannot be told from a Mac', () => {
    const ipad = parse(UA.safariIpad);
    expect([
      ipad.browser,
      major(ipad.browserVersion),
      ipad.os,
      ipad.deviceCategory,
      ipad.deviceModel,
    ]).toEqual(['Mobile Safari', '26', 'iOS', 'tablet', 'iPad']);
    const mac = parse(UA.safariMac);
    expect([mac.browser, mac.os, mac.deviceCategory]).toEqual(['Safari', 'Mac OS', 'desktop']);
  });

  it('other categories: console, reduced Android UA, native player', () => {
    expect(parse(UA.playStation5).deviceCategory).toBe('console');
    const reduced = parse(UA.chromeAndroidReduced);
    // "K" is Chrome's placeholder for the hidden model, not a model.
    expect([reduced.deviceCategory, reduced.deviceModel]).toEqual(['mobile', '']);
    const exo = parse(UA.exoPlayer);
    expect([exo.os, exo.deviceCategory]).toEqual(['Android', 'unknown']);
  });

  it('an empty user agent is all unknown', () => {
    const e = parse('');
    expect(e).toEqual({
      browser: '',
      browserVersion: '',
      os: '',
      osVersion: '',
      deviceCategory: 'unknown',
      deviceBrand: '',
      deviceModel: '',
      country: '',
      region: '',
      city: '',
      asn: 0,
      asOrg: '',
      ip: '8.8.8.8',
    });
  });
});

describe('user-agent cache', () => {
  it('returns identical results for repeated user agents, as fresh objects', async () => {
    const cached = await Enricher.open({
      geoDatabasePath: db.geo,
      asnDatabasePath: db.asn,
      truncateIp: false,
    });
    try {
      const first = cached.enrich('81.2.69.142', UA.androidWebView);
      first.browser = 'mutated by a caller';
      const second = cached.enrich('81.2.69.142', UA.androidWebView);
      expect(second.browser).toBe('Chrome WebView');
      expect(second).toEqual({ ...first, browser: 'Chrome WebView' });
      expect(cached.uaCacheStats()).toEqual({ entries: 1, hits: 1, misses: 1 });
    } finally {
      cached.close();
    }
  });

  it('stays bounded and evicts the least recently used entry', async () => {
    const small = await Enricher.open({
      geoDatabasePath: '',
      asnDatabasePath: '',
      truncateIp: false,
      uaCacheSize: 2,
    });
    try {
      small.enrich('', UA.chromeWindows);
      small.enrich('', UA.firefoxLinux);
      small.enrich('', UA.chromeWindows); // hit: Firefox is now the oldest
      small.enrich('', UA.safariIphone); // evicts Firefox
      expect(small.uaCacheStats()).toEqual({ entries: 2, hits: 1, misses: 3 });
      small.enrich('', UA.chromeWindows); // still cached
      small.enrich('', UA.firefoxLinux); // parsed again
      expect(small.uaCacheStats()).toEqual({ entries: 2, hits: 2, misses: 4 });
      for (let i = 0; i < 100; i++) {
        const e = small.enrich('', `${UA.firefoxLinux} build/${i}`);
        expect(e.browser).toBe('Firefox');
      }
      expect(small.uaCacheStats().entries).toBe(2);
    } finally {
      small.close();
    }
  });

  it('keys on the first 500 characters, the most ua-parser reads', async () => {
    const small = await Enricher.open({ geoDatabasePath: '', asnDatabasePath: '', truncateIp: false });
    try {
      const padded = `${UA.chromeWindows} ${'x'.repeat(600)}`;
      expect(small.enrich('', `${padded}a`)).toEqual(small.enrich('', `${padded}b`));
      expect(small.uaCacheStats()).toEqual({ entries: 1, hits: 1, misses: 1 });
    } finally {
      small.close();
    }
  });

  it('refuses use after close', async () => {
    const e = await Enricher.open({ geoDatabasePath: '', asnDatabasePath: '', truncateIp: false });
    e.close();
    expect(() => e.enrich('81.2.69.142', '')).toThrow('Enricher is closed');
  });
});
