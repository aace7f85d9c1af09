/**
 * Synthetic views for `openqoe generate`: one complete native beacon per
 * view, drawn from the distribution stated below (and in docs/generator.md).
 *
 * A view is a function of (seed, index) only: every random draw comes from a
 * seeded PRNG (mulberry32) whose seed mixes the run's seed with the view's
 * index, so the same seed gives the same beacons however many requests are
 * in flight. The view is built on its own timeline from 0 and only then
 * placed in the requested time window.
 *
 * The views follow the metric rules of docs/metrics.md: a `playrequest`, a
 * `startup` segment, heartbeat-sized segments (≤ 10 s), stalls (some shorter
 * than the 250 ms minimum), seeks, pauses, rendition changes, fatal errors,
 * exits before video start, and always a final `viewend` so the server
 * completes the view at once.
 */
import {
  BEACON_LIMITS,
  type Beacon,
  makeEvent,
  makeSample,
  type PlayerEvent,
  type PlayerEventType,
  type PlayerState,
  type Sample,
  SCHEMA_VERSION,
} from '@openqoe/schema';

// ─── The stated distribution ────────────────────────────────────────────────

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
 * /48 of the IPv6 documentation range 2001:db8::/32, so no real geo
 * database knows them: the country only appears with `trustProxy: true` and
 * a geo database built for these networks (the query benchmark builds one).
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

/** The /48 of a country in COUNTRIES, by its position in that list. */
export const countryNetwork = (position: number): string => `2001:db8:${(position + 1).toString(16)}::/48`;

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
const AGGRESSIVE = { switchFactor: 2, stallFactor: 1.25, startupFactor: 0.85 };

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
const SEGMENT_MS = 4000;
/** Room left under the beacon's 1000-sample limit; a longer view ends early. */
const MAX_SAMPLES = BEACON_LIMITS.maxSamples - 10;

const STARTUP_ERRORS = [
  ['manifestLoadError', 'Manifest could not be loaded'],
  ['MEDIA_ERR_SRC_NOT_SUPPORTED', 'The media source is not supported'],
  ['keySystemError', 'No usable DRM key system'],
] as const;
const PLAYBACK_ERRORS = [
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

// ─── Random draws ───────────────────────────────────────────────────────────

/** mulberry32: a small, fast 32-bit PRNG; uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The view's own seed: murmur3's finaliser over the run seed and the index, so neighbours are unrelated. */
function viewSeed(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

interface LogNormal {
  median: number;
  sigma: number;
  min: number;
  max: number;
}

class Draw {
  constructor(readonly next: () => number) {}

  chance(p: number): boolean {
    return this.next() < p;
  }

  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(list: Weighted<T>): T {
    let r = this.next() * 100;
    for (const [value, weight] of list) {
      r -= weight;
      if (r < 0) return value;
    }
    return list[list.length - 1]![0];
  }

  normal(): number {
    // Box–Muller; 1 − u keeps log away from 0.
    return Math.sqrt(-2 * Math.log(1 - this.next())) * Math.cos(2 * Math.PI * this.next());
  }

  logNormal(d: LogNormal, factor = 1): number {
    const v = d.median * factor * Math.exp(d.sigma * this.normal());
    return Math.round(Math.min(d.max, Math.max(d.min, v)));
  }

  /** Knuth's method: fine for the small means used here (at most a few dozen). */
  poisson(mean: number): number {
    const limit = Math.exp(-mean);
    let k = 0;
    let p = this.next();
    while (p > limit) {
      k++;
      p *= this.next();
    }
    return k;
  }

  zipf(cumulative: readonly number[]): number {
    const r = this.next() * cumulative[cumulative.length - 1]!;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! > r) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  hex(chars: number): string {
    let out = '';
    while (out.length < chars)
      out += (Math.floor(this.next() * 0x1_0000_0000) >>> 0).toString(16).padStart(8, '0');
    return out.slice(0, chars);
  }
}

const zipfCumulative = (n: number, s: number): number[] => {
  const out: number[] = [];
  let sum = 0;
  for (let k = 1; k <= n; k++) {
    sum += 1 / k ** s;
    out.push(sum);
  }
  return out;
};
const VOD_POPULARITY = zipfCumulative(CATALOGUE.vodTitles, CATALOGUE.zipfExponent);
const LIVE_POPULARITY = zipfCumulative(CATALOGUE.liveChannels, CATALOGUE.zipfExponent);

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

// ─── One view ───────────────────────────────────────────────────────────────

export type ViewKind = 'played' | 'ebvs' | 'startup_failure' | 'playback_failure';

export interface ViewRequest {
  seed: number;
  index: number;
  envKey: string;
  /** The view is placed so it starts at a uniform time in [fromMs, toMs] and ends by toMs. */
  fromMs: number;
  toMs: number;
}

export interface SyntheticView {
  beacon: Beacon;
  /** Send as the `user-agent` header. */
  userAgent: string;
  /** Send as the `x-forwarded-for` header (used only by a server with trustProxy). */
  forwardedFor: string;
  /** What the view was drawn to be, for reports and tests. */
  kind: ViewKind;
  startMs: number;
  endMs: number;
}

type Rendition = (typeof LADDER)[number];

/** Builds one view's items on its own timeline (t = 0 at the play request), numbering them in order. */
class Timeline {
  t = 0;
  playheadMs = 0;
  seq = 0;
  rung: number;
  readonly samples: Sample[] = [];
  readonly events: PlayerEvent[] = [];
  private first = true;

  constructor(
    private readonly template: Sample,
    private readonly draw: Draw,
    private readonly cdn: CdnProfile,
    startRung: number,
    private readonly firstSample: { playerStartupTimeMs: number; pageLoadTimeMs: number },
    private readonly liveLatencyMs: number,
  ) {
    this.rung = startRung;
  }

  get rendition(): Rendition {
    return LADDER[this.rung]!;
  }

  get full(): boolean {
    return this.samples.length >= MAX_SAMPLES;
  }

  event(type: PlayerEventType, state: PlayerState, facts: Partial<PlayerEvent> = {}): void {
    this.events.push(
      makeEvent({
        viewId: this.template.viewId,
        sequenceNumber: this.seq++,
        viewerTime: this.t,
        state,
        type,
        playheadMs: this.playheadMs,
        ...facts,
      }),
    );
  }

  /** A state held for `totalMs`, as heartbeat-sized samples (≤ 10 s each). */
  segment(state: PlayerState, totalMs: number, extra: Partial<Sample> = {}): void {
    let left = Math.max(0, Math.round(totalMs));
    do {
      const d = Math.min(HEARTBEAT_MS, left);
      left -= d;
      this.sample(state, d, extra);
    } while (left > 0 && !this.full);
  }

  private sample(state: PlayerState, d: number, extra: Partial<Sample>): void {
    const r = this.rendition;
    const playing = state === 'playing';
    const start = this.playheadMs;
    if (playing) this.playheadMs += d;
    const requests = playing ? Math.max(1, Math.ceil(d / SEGMENT_MS)) : state === 'rebuffering' ? 1 : 0;
    const bytes = playing ? Math.round((r.bitrateBps * d) / 8000) : 0;
    const s: Sample = {
      ...this.template,
      sequenceNumber: this.seq++,
      viewerTime: this.t + d,
      state,
      timestamp: this.t,
      durationMs: d,
      playedMs: playing ? d : 0,
      pausedMs: state === 'paused' ? d : 0,
      bufferedMs: state === 'rebuffering' ? d : 0,
      seekedMs: state === 'seeking' ? d : 0,
      startupMs: state === 'startup' ? d : 0,
      videoTimeStartMs: start,
      videoTimeEndMs: this.playheadMs,
      videoBitrateBps: state === 'startup' ? 0 : r.bitrateBps,
      videoWidth: state === 'startup' ? 0 : r.width,
      videoHeight: state === 'startup' ? 0 : r.height,
      requestCount: requests,
      requestFailedCount: requests > 0 && this.draw.chance(0.01) ? 1 : 0,
      requestBytes: bytes,
      requestTtfbTotalMs:
        requests > 0
          ? requests * this.draw.logNormal({ median: this.cdn.ttfbMs, sigma: 0.4, min: 5, max: 5000 })
          : 0,
      // Throughput 2–6× the bitrate: a segment downloads in a sixth to a half of its length.
      requestTransferTotalMs: playing ? Math.round(d / this.draw.uniform(2, 6)) : 0,
      droppedFrames: playing && this.draw.chance(0.05) ? 1 + this.draw.int(30) : 0,
      liveLatencyMs:
        playing && this.liveLatencyMs > 0 ? Math.round(this.liveLatencyMs * this.draw.uniform(0.9, 1.1)) : 0,
      ...(this.first ? this.firstSample : {}),
      ...extra,
    };
    this.first = false;
    this.t += d;
    this.samples.push(s);
  }

  /** Switches one rung up or down (when there is one) and says so with a `qualitychange`. */
  shift(up: boolean): void {
    const next = up ? this.rung + 1 : this.rung - 1;
    if (next < 0 || next >= LADDER.length) return;
    this.rung = next;
    const r = this.rendition;
    this.event('qualitychange', 'playing', {
      videoBitrateBps: r.bitrateBps,
      videoWidth: r.width,
      videoHeight: r.height,
    });
  }
}

/** What interrupts playing, at a position in the intended playing time. */
type Interruption =
  | { at: number; kind: 'stall'; ms: number }
  | { at: number; kind: 'seek'; ms: number; jumpMs: number }
  | { at: number; kind: 'pause'; ms: number }
  | { at: number; kind: 'failure' };

export function syntheticView(req: ViewRequest): SyntheticView {
  const draw = new Draw(mulberry32(viewSeed(req.seed, req.index)));
  const device = draw.pick(DEVICES);
  const player = draw.pick(device.players);
  const cdn = draw.pick(CDNS);
  const country = draw.pick(COUNTRIES);
  const countryPos = COUNTRIES.findIndex(([c]) => c === country);
  const streamType = draw.pick(STREAM_TYPE_MIX);
  const rank = draw.zipf(streamType === 'vod' ? VOD_POPULARITY : LIVE_POPULARITY);
  const video = catalogueEntry(streamType, rank);
  const experiment = draw.pick(EXPERIMENTS);
  const aggressive = experiment === 'abr-aggressive';
  const viewer = `viewer-${draw.int(VIEWERS)}`;
  const viewId = [draw.hex(8), draw.hex(4), `4${draw.hex(3)}`, `a${draw.hex(3)}`, draw.hex(12)].join('-');
  const forwardedFor = `2001:db8:${(countryPos + 1).toString(16)}:${draw.hex(4)}::${draw.hex(4)}`;
  const format =
    player === 'dash.js' ? 'dash' : player === 'shaka' ? (draw.chance(0.5) ? 'dash' : 'hls') : 'hls';

  const section = draw.pick(SUB_PROPERTIES);
  const template = makeSample({
    viewId,
    viewerId: viewer,
    sessionId: `${viewer}-s${draw.int(1000)}`,
    playerInstanceId: draw.hex(16),
    videoCodec: 'avc1.640028',
    audioCodec: 'mp4a.40.2',
    playerWidth: device.playerWidth,
    playerHeight: device.playerHeight,
    pageLoadTimeMs: 0,
    playerStartupTimeMs: 0,
    videoStartupTimeMs: 0,
    videoId: video.id,
    videoTitle: video.title,
    streamType,
    streamFormat: format,
    cdnHost: cdn.hosts[draw.int(cdn.hosts.length)]!,
    cdnProvider: cdn.provider,
    // A site section has its own player.
    playerName: `${section} player`,
    playerSoftware: player,
    playerVersion: player === 'html5' ? device.html5Version : PLAYER_VERSIONS[player],
    pageUrl: `https://www.example.com/watch/${video.id}`,
    subPropertyId: section,
    experimentName: experiment,
    sdkName: 'openqoe-generate',
    sdkVersion: '1',
  });

  const startupFactor = cdn.startupFactor * (aggressive ? AGGRESSIVE.startupFactor : 1);
  const firstSample = {
    playerStartupTimeMs: draw.logNormal(TIMES.playerStartupMs),
    pageLoadTimeMs: draw.chance(TIMES.pageLoadShare) ? draw.logNormal(TIMES.pageLoadMs) : 0,
  };
  const liveLatency = streamType === 'live' ? draw.logNormal(TIMES.liveLatencyMs) : 0;
  const tl = new Timeline(template, draw, cdn, device.startRung, firstSample, liveLatency);

  const roll = draw.next();
  const kind: ViewKind =
    roll < OUTCOMES.startupFailure
      ? 'startup_failure'
      : roll < OUTCOMES.startupFailure + OUTCOMES.playbackFailure
        ? 'playback_failure'
        : roll < OUTCOMES.startupFailure + OUTCOMES.playbackFailure + OUTCOMES.ebvs
          ? 'ebvs'
          : 'played';

  tl.event('playrequest', 'startup');
  if (kind === 'ebvs') {
    tl.segment('startup', draw.logNormal(TIMES.ebvsWaitMs));
    tl.event('viewend', 'startup');
  } else if (kind === 'startup_failure') {
    tl.segment('startup', draw.logNormal(TIMES.failedStartupMs));
    const [code, message] = STARTUP_ERRORS[draw.int(STARTUP_ERRORS.length)]!;
    tl.event('error', 'error', { errorCode: code, errorMessage: message, errorFatal: true });
    tl.event('viewend', 'error');
  } else {
    const startup = draw.logNormal(TIMES.videoStartupMs, startupFactor);
    tl.segment('startup', startup, { videoStartupTimeMs: startup });
    play(tl, draw, streamType, {
      watchMs: draw.logNormal(TIMES.watchMs),
      stallsPerMinute: cdn.stallsPerMinute * (aggressive ? AGGRESSIVE.stallFactor : 1),
      switchChance: EVENTS.switchPerHeartbeat * (aggressive ? AGGRESSIVE.switchFactor : 1),
      seek: streamType === 'vod' && draw.chance(EVENTS.seekShare),
      pause: draw.chance(EVENTS.pauseShare),
      fail: kind === 'playback_failure',
    });
  }

  // Place the view: a uniform start in the window, moved earlier if it would end after the window.
  const durationMs = tl.t;
  let startMs = Math.round(draw.uniform(req.fromMs, req.toMs));
  if (startMs + durationMs > req.toMs) startMs = req.toMs - durationMs;
  for (const s of tl.samples) {
    s.timestamp += startMs;
    s.viewerTime += startMs;
  }
  for (const e of tl.events) e.viewerTime += startMs;
  const endMs = startMs + durationMs;
  return {
    beacon: {
      envKey: req.envKey,
      schemaVersion: SCHEMA_VERSION,
      sentAt: endMs,
      samples: tl.samples,
      events: tl.events,
    },
    userAgent: device.userAgent,
    forwardedFor,
    kind,
    startMs,
    endMs,
  };
}

interface PlayPlan {
  watchMs: number;
  stallsPerMinute: number;
  switchChance: number;
  seek: boolean;
  pause: boolean;
  fail: boolean;
}

/** From the first frame to the end: playing heartbeats with the view's interruptions in between. */
function play(tl: Timeline, draw: Draw, streamType: 'vod' | 'live', plan: PlayPlan): void {
  const interruptions: Interruption[] = [];
  // From 1 s on, so every interruption comes after the first frame (before it, it would be startup time).
  const at = () => Math.round(draw.uniform(1000, plan.watchMs));
  const stalls = draw.poisson((plan.stallsPerMinute * plan.watchMs) / 60_000);
  for (let i = 0; i < stalls; i++) {
    const ms = draw.chance(TIMES.shortStallShare) ? 50 + draw.int(200) : draw.logNormal(TIMES.stallMs);
    interruptions.push({ at: at(), kind: 'stall', ms });
  }
  if (plan.seek) {
    interruptions.push({
      at: at(),
      kind: 'seek',
      ms: draw.logNormal(TIMES.seekLatencyMs),
      jumpMs: 10_000 + draw.int(110_000),
    });
  }
  if (plan.pause) interruptions.push({ at: at(), kind: 'pause', ms: draw.logNormal(TIMES.pauseMs) });
  let endAt = plan.watchMs;
  if (plan.fail) {
    endAt = at();
    interruptions.push({ at: endAt, kind: 'failure' });
  }
  interruptions.sort((a, b) => a.at - b.at);

  let played = 0;
  let heartbeat = 0;
  const playUntil = (target: number) => {
    while (played < target && !tl.full) {
      // A rendition switch happens on a heartbeat, before the next playing sample.
      if (heartbeat > 0 && draw.chance(plan.switchChance)) tl.shift(draw.chance(0.6));
      const d = Math.min(HEARTBEAT_MS, target - played);
      tl.segment('playing', d);
      played += d;
      heartbeat++;
    }
  };

  for (const it of interruptions) {
    playUntil(Math.min(it.at, endAt));
    if (tl.full) break;
    if (it.kind === 'failure') {
      const [code, message] = PLAYBACK_ERRORS[draw.int(PLAYBACK_ERRORS.length)]!;
      tl.event('error', 'error', { errorCode: code, errorMessage: message, errorFatal: true });
      tl.event('viewend', 'error');
      return;
    }
    if (it.kind === 'stall') {
      tl.segment('rebuffering', it.ms);
      if (draw.chance(EVENTS.downshiftAfterStall)) tl.shift(false);
    } else if (it.kind === 'seek') {
      tl.event('seekstart', 'seeking');
      tl.playheadMs += it.jumpMs;
      tl.segment('seeking', it.ms, {
        videoTimeStartMs: tl.playheadMs - it.jumpMs,
        videoTimeEndMs: tl.playheadMs,
      });
      tl.event('seekend', 'playing');
    } else {
      tl.event('pause', 'paused');
      tl.segment('paused', it.ms);
      tl.event('play', 'playing');
    }
  }
  playUntil(endAt);
  // A VOD viewer reaches the end or leaves; a live viewer can only leave.
  if (streamType === 'vod') {
    tl.event('ended', 'ended');
    tl.event('viewend', 'ended');
  } else tl.event('viewend', 'playing');
}
