/**
 * Turns a view's client IP and user agent into the dimensions the store
 * groups by (browser, OS, device, country, region, city, ASN) and decides
 * what form of the IP is kept. It owns this because every view passes
 * through it once, so parsing must be cheap and must never fail a view over
 * a bad header.
 *
 * Geo and ASN come from two MaxMind-format (.mmdb) files, read whole into
 * memory by the `maxmind` package; either path may be empty to run without
 * it. The geo path `bundled` is the country database the server depends on
 * (@ip-location-db/geo-whois-asn-country-mmdb, CC0: RIR and whois data),
 * which gives countries out of the box; its records carry `country_code`
 * where MaxMind's carry `country.iso_code`. The lookup uses the full address; `truncateIp` only changes what is
 * stored (IPv4 → last octet zeroed, IPv6 → /48, IPv4-mapped IPv6 is stored as
 * its truncated IPv4 address), so geo precision is the database's, not the
 * truncation's.
 *
 * User agents are parsed by ua-parser-js 1.x (2.x is AGPL) and cached in an
 * LRU, because a few hundred distinct strings make up most traffic and a
 * parse costs far more than a Map hit.
 *
 * Device category rules, first match wins:
 *  1. Empty user agent → 'unknown'.
 *  2. ua-parser's device.type: mobile, tablet, console, wearable, embedded map
 *     to themselves, smarttv → 'tv'. Android app WebViews ("; wv)") land here
 *     as mobile/tablet with browser 'Chrome WebView'; Fire TV, Chromecast,
 *     Apple TV, Roku, BRAVIA, HbbTV and most Tizen/webOS TVs do too.
 *  3. No type, but a smart-TV token ua-parser does not type (SMART-TV,
 *     SmartTV, Tizen, Web0S/webOS, HbbTV, BRAVIA, AFTx, CrKey, AppleTV, Roku,
 *     VIDAA, Viera, NETTV, Android TV/GoogleTV, "TV Safari") → 'tv'. Tizen
 *     phones and watches never reach this step: ua-parser types them.
 *  4. No type on a desktop OS (Windows, Mac OS, Linux and its distributions,
 *     Chrome OS, the BSDs, Solaris…) → 'desktop'. iPadOS Safari sends a Mac
 *     user agent by default and so counts as desktop; no header tells it apart.
 *  5. Android without a type: "Mobile" token → 'mobile'; a browser-style
 *     ("Mozilla/") string without it → 'tablet', following Chrome's
 *     convention; anything else (ExoPlayer, stagefright…) → 'unknown'.
 *  6. Otherwise 'unknown'.
 */
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { type AsnResponse, type CityResponse, open as openMaxmind, type Reader } from 'maxmind';
import UAParser from 'ua-parser-js';

export type DeviceCategory =
  | 'desktop'
  | 'mobile'
  | 'tablet'
  | 'tv'
  | 'console'
  | 'wearable'
  | 'embedded'
  | 'unknown';

export interface Enrichment {
  browser: string;
  browserVersion: string;
  os: string;
  osVersion: string;
  deviceCategory: DeviceCategory;
  deviceBrand: string;
  deviceModel: string;
  /** ISO 3166-1 alpha-2, '' if unknown. */
  country: string;
  /** Subdivision ISO code (or name when the database has no code), '' if unknown. */
  region: string;
  city: string;
  /** 0 when unknown. */
  asn: number;
  asOrg: string;
  /** The IP as stored: truncated when `truncateIp` is on, else as given. */
  ip: string;
}

/** The `geoDatabasePath` that names the bundled country database. */
export const BUNDLED_GEO = 'bundled';
const BUNDLED_GEO_FILE = '@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb';

/** A geo record: MaxMind's City or Country layout, or ip-location-db's flat one. */
type GeoRecord = CityResponse & { country_code?: string };

export interface EnricherOptions {
  /** City- or Country-style .mmdb; BUNDLED_GEO for the bundled country database; '' for no geo. */
  geoDatabasePath: string;
  /** ASN-style .mmdb; '' for no ASN. */
  asnDatabasePath: string;
  truncateIp: boolean;
  /** Parsed user agents kept; 0 disables the cache. Default 10 000. */
  uaCacheSize?: number;
}

type UaFields = Pick<
  Enrichment,
  'browser' | 'browserVersion' | 'os' | 'osVersion' | 'deviceCategory' | 'deviceBrand' | 'deviceModel'
>;
type GeoFields = Pick<Enrichment, 'country' | 'region' | 'city'>;
type AsnFields = Pick<Enrichment, 'asn' | 'asOrg'>;

const DEFAULT_UA_CACHE_SIZE = 10_000;
/**
 * ua-parser-js 1.x reads only this many characters (its ReDoS guard), so a
 * longer string cannot parse differently; cutting the key here also bounds
 * what a hostile client can make the cache hold.
 */
const UA_MAX_LENGTH = 500;

const NO_GEO: GeoFields = { country: '', region: '', city: '' };
const NO_ASN: AsnFields = { asn: 0, asOrg: '' };

const DEVICE_TYPES: Readonly<Record<string, DeviceCategory>> = {
  mobile: 'mobile',
  tablet: 'tablet',
  smarttv: 'tv',
  console: 'console',
  wearable: 'wearable',
  embedded: 'embedded',
};

// Case-sensitive on purpose: "AFT" followed by a capital is a Fire TV model code,
// and lower-case look-alikes occur in unrelated tokens.
const TV_TOKENS =
  /SMART-TV|Smart-TV|SmartTV|SMARTTV|Tizen|Web0S|webOS|HbbTV|BRAVIA|\bAFT[A-Z]|CrKey|AppleTV|Apple TV|Roku|VIDAA|Viera|NETTV|Android TV|AndroidTV|GoogleTV| TV Safari/;

const DESKTOP_OS =
  /^(Windows|Mac OS|macOS|Linux|Ubuntu|Kubuntu|Xubuntu|Debian|Fedora|Red Hat|RedHat|CentOS|SUSE|openSUSE|Mint|Arch|Manjaro|Gentoo|Slackware|Mandriva|Mageia|PCLinuxOS|Zenwalk|VectorLinux|Linpus|Deepin|elementary OS|Chromium OS|Chrome OS|FreeBSD|OpenBSD|NetBSD|DragonFly|Solaris|Haiku|Unix|GNU)$/i;

/** Chrome's user-agent reduction replaces the Android model with this placeholder. */
const REDUCED_ANDROID_MODEL = 'K';

export class Enricher {
  private readonly uaCache = new Map<string, UaFields>();
  private readonly uaParser = new UAParser();
  private hits = 0;
  private misses = 0;
  private closed = false;

  private constructor(
    private geoDb: Reader<GeoRecord> | undefined,
    private asnDb: Reader<AsnResponse> | undefined,
    private readonly truncateIp: boolean,
    private readonly uaCacheSize: number,
  ) {}

  static async open(options: EnricherOptions): Promise<Enricher> {
    const uaCacheSize = options.uaCacheSize ?? DEFAULT_UA_CACHE_SIZE;
    if (!Number.isSafeInteger(uaCacheSize) || uaCacheSize < 0)
      throw new RangeError(`uaCacheSize must be a non-negative integer, got ${uaCacheSize}`);
    const [geo, asn] = await Promise.allSettled([
      openDatabase<GeoRecord>(
        'geo',
        options.geoDatabasePath === BUNDLED_GEO
          ? createRequire(import.meta.url).resolve(BUNDLED_GEO_FILE)
          : options.geoDatabasePath,
      ),
      openDatabase<AsnResponse>('ASN', options.asnDatabasePath),
    ]);
    // Both settle before either error is reported, geo's first: the message must not depend on timing.
    if (geo.status === 'rejected') throw geo.reason;
    if (asn.status === 'rejected') throw asn.reason;
    return new Enricher(geo.value, asn.value, options.truncateIp, uaCacheSize);
  }

  enrich(ip: string, userAgent: string): Enrichment {
    if (this.closed) throw new Error('Enricher is closed');
    const version = isIP(ip);
    const ua = this.parseUserAgent(userAgent);
    const geo = version === 0 ? NO_GEO : this.lookupGeo(ip);
    const asn = version === 0 ? NO_ASN : this.lookupAsn(ip);
    // Spelled out rather than spread: V8 builds one fixed-shape object this
    // way; spreading the three parts made a cache hit about 40 times slower.
    return {
      browser: ua.browser,
      browserVersion: ua.browserVersion,
      os: ua.os,
      osVersion: ua.osVersion,
      deviceCategory: ua.deviceCategory,
      deviceBrand: ua.deviceBrand,
      deviceModel: ua.deviceModel,
      country: geo.country,
      region: geo.region,
      city: geo.city,
      asn: asn.asn,
      asOrg: asn.asOrg,
      ip: this.truncateIp ? truncateAddress(ip, version) : ip,
    };
  }

  uaCacheStats(): { entries: number; hits: number; misses: number } {
    return { entries: this.uaCache.size, hits: this.hits, misses: this.misses };
  }

  /** The readers hold the databases in memory only; dropping them frees it. */
  close(): void {
    this.closed = true;
    this.geoDb = undefined;
    this.asnDb = undefined;
    this.uaCache.clear();
  }

  private parseUserAgent(userAgent: string): UaFields {
    const key = userAgent.length > UA_MAX_LENGTH ? userAgent.slice(0, UA_MAX_LENGTH) : userAgent;
    if (this.uaCacheSize === 0) return this.parseUncached(key);
    const cached = this.uaCache.get(key);
    if (cached !== undefined) {
      this.hits++;
      // Re-inserting moves the key to the end of the Map's insertion order,
      // which is what makes the first key the least recently used.
      this.uaCache.delete(key);
      this.uaCache.set(key, cached);
      return cached;
    }
    this.misses++;
    const parsed = this.parseUncached(key);
    if (this.uaCache.size >= this.uaCacheSize) {
      const oldest = this.uaCache.keys().next();
      if (oldest.done !== true) this.uaCache.delete(oldest.value);
    }
    this.uaCache.set(key, parsed);
    return parsed;
  }

  private parseUncached(userAgent: string): UaFields {
    const { browser, os, device } = this.uaParser.setUA(userAgent).getResult();
    const model = device.model ?? '';
    return {
      browser: browser.name ?? '',
      browserVersion: browser.version ?? '',
      os: os.name ?? '',
      osVersion: os.version ?? '',
      deviceCategory: deviceCategory(userAgent, device.type, os.name),
      deviceBrand: device.vendor ?? '',
      deviceModel: model === REDUCED_ANDROID_MODEL && os.name === 'Android' ? '' : model,
    };
  }

  private lookupGeo(ip: string): GeoFields {
    const record = safeGet(this.geoDb, ip);
    if (record === null) return NO_GEO;
    // Networks without a located country (e.g. EU-wide blocks) still carry
    // the registered one, which beats reporting nothing.
    const country =
      record.country?.iso_code ?? record.registered_country?.iso_code ?? record.country_code ?? '';
    const subdivision = record.subdivisions?.[0];
    return {
      country,
      region: subdivision?.iso_code ?? subdivision?.names?.en ?? '',
      city: record.city?.names?.en ?? '',
    };
  }

  private lookupAsn(ip: string): AsnFields {
    const record = safeGet(this.asnDb, ip);
    if (record === null) return NO_ASN;
    return {
      asn: record.autonomous_system_number ?? 0,
      asOrg: record.autonomous_system_organization ?? '',
    };
  }
}

function deviceCategory(
  userAgent: string,
  type: string | undefined,
  osName: string | undefined,
): DeviceCategory {
  if (userAgent.trim() === '') return 'unknown';
  const typed = type === undefined ? undefined : DEVICE_TYPES[type];
  if (typed !== undefined) return typed;
  if (TV_TOKENS.test(userAgent)) return 'tv';
  if (osName !== undefined && DESKTOP_OS.test(osName)) return 'desktop';
  if (osName === 'Android') {
    if (/\bMobile\b/.test(userAgent)) return 'mobile';
    if (userAgent.startsWith('Mozilla/')) return 'tablet';
  }
  return 'unknown';
}

/** A malformed address or a corrupt record must cost the view its geo, not the view. */
function safeGet<T extends GeoRecord | AsnResponse>(reader: Reader<T> | undefined, ip: string): T | null {
  if (reader === undefined) return null;
  try {
    return reader.get(ip) ?? null;
  } catch {
    return null;
  }
}

async function openDatabase<T extends GeoRecord | AsnResponse>(
  kind: 'geo' | 'ASN',
  path: string,
): Promise<Reader<T> | undefined> {
  if (path === '') return undefined;
  const prefix = `${kind} database ${JSON.stringify(path)}`;
  let reader: Reader<T>;
  try {
    reader = await openMaxmind<T>(path);
  } catch (err) {
    throw new Error(`${prefix}: ${describeOpenError(err)}`, { cause: err });
  }
  const type: unknown = reader.metadata.databaseType;
  if (typeof type !== 'string' || !(reader.metadata.nodeCount > 0))
    throw new Error(`${prefix}: not a valid MaxMind DB (.mmdb) file: its metadata is incomplete`);
  // Swapped paths would otherwise load fine and silently yield empty dimensions.
  const wrongKind = kind === 'geo' ? /ASN|ISP/i.test(type) : /City|Country/i.test(type);
  if (wrongKind) {
    const expected = kind === 'geo' ? 'a City or Country database' : 'an ASN database';
    throw new Error(
      `${prefix}: is a ${type} database, expected ${expected} (are the geo and ASN paths swapped?)`,
    );
  }
  return reader;
}

function describeOpenError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'file not found';
  if (code === 'EISDIR') return 'is a directory, expected an .mmdb file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  const message = err instanceof Error ? err.message : String(err);
  if (code !== undefined) return `cannot read it: ${message}`;
  return `not a valid MaxMind DB (.mmdb) file: ${message}`;
}

/** IPv4: last octet zeroed. IPv6: first 48 bits kept. IPv4-mapped IPv6 is treated as IPv4. */
function truncateAddress(ip: string, version: number): string {
  if (version === 4) return `${ip.slice(0, ip.lastIndexOf('.'))}.0`;
  if (version !== 6) return '';
  const groups = ipv6Groups(ip);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const high = groups[6] ?? 0;
    const low = groups[7] ?? 0;
    return `${high >> 8}.${high & 0xff}.${low >> 8}.0`;
  }
  // The last five groups are zero, so they are the longest zero run (RFC 5952: written "::"), joined by
  // any zero groups just before them.
  const kept = groups.slice(0, 3);
  while (kept.length > 0 && kept[kept.length - 1] === 0) kept.pop();
  return `${kept.map((g) => g.toString(16)).join(':')}::`;
}

/** Eight 16-bit groups of an address `isIP` already accepted as IPv6. */
function ipv6Groups(ip: string): number[] {
  const zone = ip.indexOf('%');
  const address = zone === -1 ? ip : ip.slice(0, zone);
  const gap = address.indexOf('::');
  const head = parseGroups(gap === -1 ? address : address.slice(0, gap));
  const tail = gap === -1 ? [] : parseGroups(address.slice(gap + 2));
  const fill = gap === -1 ? 0 : 8 - head.length - tail.length;
  return [...head, ...new Array<number>(fill).fill(0), ...tail];
}

/** Hex groups, or two groups for an embedded IPv4 part (`::ffff:1.2.3.4`). */
function parseGroups(text: string): number[] {
  if (text === '') return [];
  return text.split(':').flatMap((part) => {
    if (!part.includes('.')) return [Number.parseInt(part, 16)];
    const [a = 0, b = 0, c = 0, d = 0] = part.split('.').map(Number);
    return [(a << 8) | b, (c << 8) | d];
  });
}
