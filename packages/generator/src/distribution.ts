/**
 * The stated distribution of the synthetic views: devices and their players,
 * the rendition ladder, CDNs, countries, stream types, site sections, the ABR
 * experiment, outcome rates, the log-normal times and event rates, and the
 * catalogue of titles. docs/generator.md states the same numbers in tables;
 * change both together.
 *
 * Plain data and one naming function; the draws that use it are in view.ts.
 */
import { BEACON_LIMITS } from '@openqoe/schema';

/** A value and its weight in percent (a list's weights sum to 100). */
export type Weighted<T> = readonly (readonly [T, number])[];

export type PlayerSoftware = 'hls.js' | 'dash.js' | 'shaka' | 'video.js' | 'html5';

export interface DeviceProfile {
  label: string;
  userAgent: string;
  /** Player element size in device pixels. */
  playerWidth: number;
  playerHeight: number;
  /** Index into LADDER of the first rendition played. */
  startRung: number;
  players: Weighted<PlayerSoftware>;
  /** The browser's own version, used as the version of the native (html5) player. */
  html5Version: string;
}

const WEB_PLAYERS: Weighted<PlayerSoftware> = [
  ['hls.js', 40],
  ['shaka', 20],
  ['video.js', 20],
  ['dash.js', 10],
  ['html5', 10],
];
/** Apple browsers play HLS natively; players that need MSE are rare there. */
const APPLE_PLAYERS: Weighted<PlayerSoftware> = [
  ['html5', 70],
  ['video.js', 30],
];
const TV_PLAYERS: Weighted<PlayerSoftware> = [
  ['shaka', 60],
  ['html5', 40],
];

export const DEVICES: Weighted<DeviceProfile> = [
  [
    {
      label: 'Chrome on Windows',
      userAgent:
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
      playerWidth: 1280,
      playerHeight: 720,
      startRung: 3,
      players: WEB_PLAYERS,
      html5Version: '124.0',
    },
    40,
  ],
  [
    {
      label: 'Safari on macOS',
      userAgent:
        'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15',
      playerWidth: 1440,
      playerHeight: 810,
      startRung: 3,
      players: APPLE_PLAYERS,
      html5Version: '17.4.1',
    },
    10,
  ],
  [
    {
      label: 'Safari on iPhone',
      userAgent:
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1',
      playerWidth: 1170,
      playerHeight: 658,
      startRung: 2,
      players: APPLE_PLAYERS,
      html5Version: '17.4.1',
    },
    20,
  ],
  [
    {
      label: 'Chrome on Android',
      userAgent:
        'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
      playerWidth: 1080,
      playerHeight: 608,
      startRung: 2,
      players: WEB_PLAYERS,
      html5Version: '124.0',
    },
    15,
  ],
  [
    {
      label: 'Android app WebView',
      userAgent:
        'Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A.230901.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/124.0.6367.82 Mobile Safari/537.36',
      playerWidth: 1080,
      playerHeight: 608,
      startRung: 1,
      players: WEB_PLAYERS,
      html5Version: '124.0',
    },
    5,
  ],
  [
    {
      label: 'Samsung smart TV (Tizen)',
      userAgent:
        'Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) 76.0.3809.146/6.0 TV Safari/537.36',
      playerWidth: 1920,
      playerHeight: 1080,
      startRung: 4,
      players: TV_PLAYERS,
      html5Version: '6.0',
    },
    5,
  ],
  [
    {
      label: 'Firefox on Windows',
      userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0',
      playerWidth: 1280,
      playerHeight: 720,
      startRung: 3,
      players: WEB_PLAYERS,
      html5Version: '125.0',
    },
    3,
  ],
  [
    {
      label: 'Firefox on Linux',
      userAgent: 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
      playerWidth: 1920,
      playerHeight: 1080,
      startRung: 3,
      players: WEB_PLAYERS,
      html5Version: '125.0',
    },
    2,
  ],
];

export const PLAYER_VERSIONS: Record<Exclude<PlayerSoftware, 'html5'>, string> = {
  'hls.js': '1.5.8',
  'dash.js': '4.7.4',
  shaka: '4.8.1',
  'video.js': '8.12.0',
};

/** The rendition ladder every title is encoded with. */
export const LADDER = [
  { bitrateBps: 400_000, width: 426, height: 240 },
  { bitrateBps: 800_000, width: 640, height: 360 },
  { bitrateBps: 1_400_000, width: 854, height: 480 },
  { bitrateBps: 2_800_000, width: 1280, height: 720 },
  { bitrateBps: 5_000_000, width: 1920, height: 1080 },
] as const;

export interface CdnProfile {
  provider: string;
  hosts: readonly string[];
  /** Mean stalls per minute of playing (Poisson). */
  stallsPerMinute: number;
  /** Multiplies the video startup time. */
  startupFactor: number;
  /** Median time to first byte of a media request. */
  ttfbMs: number;
}

export const CDNS: Weighted<CdnProfile> = [
  [
    {
      provider: 'akamai',
      hosts: ['edge1.akamai.example.net', 'edge2.akamai.example.net'],
      stallsPerMinute: 0.04,
      startupFactor: 1,
      ttfbMs: 40,
    },
    45,
  ],
  [
    {
      provider: 'fastly',
      hosts: ['edge1.fastly.example.net', 'edge2.fastly.example.net'],
      stallsPerMinute: 0.08,
      startupFactor: 1,
      ttfbMs: 35,
    },
    35,
  ],
  [
    {
      provider: 'cloudfront',
      hosts: ['edge1.cloudfront.example.net', 'edge2.cloudfront.example.net'],
      stallsPerMinute: 0.2,
      startupFactor: 1.6,
      ttfbMs: 80,
    },
    20,
  ],
];

/**
 * Countries of the viewers, sent as `X-Forwarded-For`. Each country gets a
 * public IPv4 /16 that geo databases place in it (COUNTRY_NETWORKS), so the
 * server's bundled country database finds it; the country appears when the
 * server takes the address from the header (`trustProxy: true`, or backfill).
 */
export const COUNTRIES: Weighted<string> = [
  ['US', 30],
  ['GB', 10],
  ['IN', 10],
  ['DE', 9],
  ['BR', 8],
  ['FR', 8],
  ['JP', 6],
  ['CA', 6],
  ['AU', 5],
  ['ES', 5],
  ['SE', 3],
];

/**
 * The first two octets of each country's /16, in the order of COUNTRIES: large
 * access-ISP blocks (Comcast, BT, BSNL, Deutsche Telekom, Claro, Orange,
 * SoftBank, Bell, Telstra, Telefónica, Telia), every /24 of which the
 * server's bundled database maps to that country (a server test checks it).
 */
const COUNTRY_NETWORKS = [
  '73.0',
  '86.128',
  '117.192',
  '91.0',
  '189.0',
  '90.0',
  '126.0',
  '70.24',
  '1.120',
  '88.0',
  '78.64',
] as const;

/** The /16 of a country in COUNTRIES, by its position in that list. */
export const countryNetwork = (position: number): string => `${COUNTRY_NETWORKS[position]}.0.0/16`;

/** An address of that /16 (`a` and `b` from 0 to 255) that is neither its network nor a broadcast address. */
export const countryAddress = (position: number, a: number, b: number): string =>
  `${COUNTRY_NETWORKS[position]}.${a}.${1 + (b % 254)}`;

export const STREAM_TYPE_MIX: Weighted<'vod' | 'live'> = [
  ['vod', 85],
  ['live', 15],
];

export const SUB_PROPERTIES: Weighted<string> = [
  ['entertainment', 50],
  ['sports', 30],
  ['news', 20],
];

/** An A/B test of the player's ABR: the aggressive arm switches renditions more and stalls a little more. */
export const EXPERIMENTS: Weighted<string> = [
  ['', 60],
  ['abr-control', 20],
  ['abr-aggressive', 20],
];

/** The aggressive arm of the ABR experiment, against the control arm. */
export const AGGRESSIVE = { switchFactor: 2, stallFactor: 1.25, startupFactor: 0.85 };

export const OUTCOMES = {
  /** Fatal error before the first frame. */
  startupFailure: 0.003,
  /** Fatal error after the first frame. */
  playbackFailure: 0.005,
  /** The viewer leaves during startup. */
  ebvs: 0.03,
} as const;

/** Log-normal draws: median and σ of the log. */
export const TIMES = {
  videoStartupMs: { median: 1200, sigma: 0.6, min: 100, max: 30_000 },
  playerStartupMs: { median: 300, sigma: 0.5, min: 20, max: 10_000 },
  pageLoadMs: { median: 1500, sigma: 0.5, min: 100, max: 30_000 },
  /** Share of views that are the first on their page (and so report a page load time). */
  pageLoadShare: 0.6,
  ebvsWaitMs: { median: 3000, sigma: 0.8, min: 200, max: 60_000 },
  failedStartupMs: { median: 2000, sigma: 0.8, min: 100, max: 30_000 },
  /** Intended playing time of a view. */
  watchMs: { median: 240_000, sigma: 1, min: 5000, max: 7_200_000 },
  stallMs: { median: 1500, sigma: 0.8, min: 250, max: 60_000 },
  /** Share of stalls shorter than the 250 ms minimum (50–249 ms, not counted as rebuffers). */
  shortStallShare: 0.2,
  seekLatencyMs: { median: 600, sigma: 0.6, min: 50, max: 20_000 },
  pauseMs: { median: 20_000, sigma: 1, min: 1000, max: 300_000 },
  liveLatencyMs: { median: 8000, sigma: 0.4, min: 1500, max: 60_000 },
} as const;

export const EVENTS = {
  /** VOD views with one seek. */
  seekShare: 0.2,
  pauseShare: 0.15,
  /** Chance of a rendition switch at each playing heartbeat (doubled in the aggressive ABR arm). */
  switchPerHeartbeat: 0.05,
  /** Chance of a downshift right after a stall. */
  downshiftAfterStall: 0.5,
} as const;

export const CATALOGUE = { vodTitles: 480, liveChannels: 20, zipfExponent: 1 } as const;
/** Distinct viewers views are drawn from. */
export const VIEWERS = 250_000;
export const HEARTBEAT_MS = 10_000;
/** Media segment length: one request per 4 s of playing. */
export const SEGMENT_MS = 4000;
/** Room left under the beacon's 1000-sample limit; a longer view ends early. */
export const MAX_SAMPLES = BEACON_LIMITS.maxSamples - 10;

export const STARTUP_ERRORS = [
  ['manifestLoadError', 'Manifest could not be loaded'],
  ['MEDIA_ERR_SRC_NOT_SUPPORTED', 'The media source is not supported'],
  ['keySystemError', 'No usable DRM key system'],
] as const;
export const PLAYBACK_ERRORS = [
  ['fragLoadError', 'Fragment could not be loaded after retries'],
  ['MEDIA_ERR_DECODE', 'The media could not be decoded'],
  ['bufferAppendError', 'Media could not be appended to the buffer'],
] as const;

// Word lists as strings: one line each rather than a column of words.
const ADJECTIVES = (
  'Silent Golden Hidden Broken Distant Crimson Frozen Electric Wild Last Secret Endless ' +
  'Northern Burning Lost Midnight Hollow Iron Quiet Bright Savage Falling Paper Glass'
).split(' ');
const NOUNS = (
  'River Empire Garden Signal Harbor Kingdom Orbit Forest Machine Ocean ' +
  'Summit City Desert Island Frontier Lantern Valley Storm Circuit Tide'
).split(' ');
const LIVE_CHANNELS = (
  'News 24,Sports One,Sports Two,Music Live,Weather Now,Business Today,Kids Zone,Cinema Classics,' +
  'Nature Live,Tech Talk,Cooking Live,Gaming Arena,Travel Live,Comedy Live,Science Hour,History Live,' +
  'Motorsport Live,Football Live,Tennis Live,Concerts Live'
).split(',');

/** The catalogue: rank r (0 = most popular) → id and title. */
export function catalogueEntry(streamType: 'vod' | 'live', rank: number): { id: string; title: string } {
  if (streamType === 'live') {
    return {
      id: `live-${String(rank + 1).padStart(2, '0')}`,
      title: LIVE_CHANNELS[rank] ?? `Channel ${rank + 1}`,
    };
  }
  // Ranks walk the adjective × noun grid so popular neighbours do not share words.
  const title = `The ${ADJECTIVES[rank % ADJECTIVES.length]} ${NOUNS[Math.floor(rank / ADJECTIVES.length) % NOUNS.length]}`;
  return { id: `vod-${String(rank + 1).padStart(4, '0')}`, title };
}
