/**
 * CMCD reports (CTA-5004-B event mode, or request-mode data), as the
 * reference decoder gives them → points for the view model. `sta` is the
 * state the player reports at `ts`; the event type (`e`) says what
 * happened. What that time counts as is the view machine's business.
 */
import { BEACON_LIMITS, type PlayerState } from '@openqoe/schema';
import type { CmcdReport, CompatValue } from '../../bus/intake-record.js';
import type { DimensionSource, PointEvent, PointItem, PointValue, StatePoint } from './view-items.js';

const STATES: Record<string, PlayerState> = {
  s: 'startup',
  p: 'playing',
  r: 'rebuffering',
  k: 'seeking',
  a: 'paused',
  w: 'paused',
  e: 'ended',
  f: 'error',
  q: 'ended',
  d: 'ready',
};

/** What a play-state report amounts to in native events. */
const STATE_EVENTS: Record<string, PointEvent['type']> = {
  s: 'play',
  a: 'pause',
  k: 'seekstart',
  r: 'rebufferstart',
  e: 'ended',
  q: 'viewend',
};

const FORMATS: Record<string, DimensionSource['streamFormat']> = {
  h: 'hls',
  d: 'dash',
  s: 'other',
  o: 'other',
};

/** Keys read as facts (not kept as raw attributes). */
const FACT_KEYS = new Set([
  'e',
  'ts',
  'sn',
  'sta',
  'sid',
  'cid',
  'sf',
  'st',
  'cdn',
  'v',
  'pt',
  'pb',
  'br',
  'ltc',
  'msd',
  'bsd',
  'ec',
  'rc',
  'ttfb',
  'ttlb',
  'url',
]);

const first = (v: CompatValue | CompatValue[] | undefined): CompatValue | undefined =>
  Array.isArray(v) ? v[0] : v;
const num = (v: CompatValue | CompatValue[] | undefined): number => {
  const n = first(v);
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : 0;
};
const str = (v: CompatValue | CompatValue[] | undefined): string => {
  const s = first(v);
  return s === undefined ? '' : String(s);
};

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '';
  }
}

/** One report → one point; `fallbackTimeMs` stands in for `ts` (request-mode data may lack it). */
export function cmcdPoint(r: CmcdReport, fallbackTimeMs: number): StatePoint {
  const e = str(r['e']);
  const sta = str(r['sta']);
  const ts = num(r['ts']) || fallbackTimeMs;
  const events: PointEvent[] = [];
  if (e === 'ps' && STATE_EVENTS[sta]) events.push({ type: STATE_EVENTS[sta] });
  if (e === 'e') {
    const codes = Array.isArray(r['ec'])
      ? r['ec'].map(String)
      : r['ec'] === undefined
        ? []
        : [String(r['ec'])];
    events.push({
      type: 'error',
      errorCode: (codes[0] ?? '').slice(0, 256),
      errorMessage: codes.join(', ').slice(0, 1024),
      errorFatal: sta === 'f',
      errorBusiness: false,
    });
  }
  const dims: Partial<DimensionSource> = { sdkName: 'cmcd' };
  if (r['v'] !== undefined) dims.sdkVersion = str(r['v']);
  if (r['sid'] !== undefined) dims.sessionId = str(r['sid']).slice(0, 128);
  if (r['cid'] !== undefined) dims.videoId = str(r['cid']).slice(0, 128);
  if (r['sf'] !== undefined) dims.streamFormat = FORMATS[str(r['sf'])] ?? 'other';
  if (r['st'] !== undefined) dims.streamType = str(r['st']) === 'v' ? 'vod' : 'live';
  if (r['cdn'] !== undefined) dims.cdnProvider = str(r['cdn']).slice(0, 256);
  const raw: Record<string, PointValue> = {};
  for (const [key, value] of Object.entries(r)) {
    if (!FACT_KEYS.has(key)) raw[key] = Array.isArray(value) ? value.join(' ') : value;
  }

  const point: StatePoint = {
    seq: r['sn'] as number,
    deviceTimeMs: ts,
    playheadMs: num(r['pt']),
    events,
    dims,
    raw,
    liveLatencyMs: num(r['ltc']),
  };
  // A response-received report is stamped with its request's start, earlier than the state it
  // carries (the state when the response ended): it changes no state. Request mode without a player
  // state (v1): a startup request means the player is starting, any other that it is playing.
  const state =
    e === 'rr'
      ? undefined
      : (STATES[sta] ?? (e === '' ? (r['su'] === true ? 'startup' : 'playing') : undefined));
  if (state) point.state = state;
  // The rendition playing; a bitrate change names the one switched to.
  const bitrateKbps = e === 'bc' ? num(r['br']) : num(r['pb']);
  if (bitrateKbps) point.videoBitrateBps = bitrateKbps * 1000;
  if (e === 'bc') events.push({ type: 'qualitychange' });
  if (e === 'rr') {
    const rc = typeof r['rc'] === 'number' ? r['rc'] : 0;
    const failed = rc === 0 || rc >= 400;
    point.requests = {
      count: failed ? 0 : 1,
      failed: failed ? 1 : 0,
      bytes: 0,
      ttfbTotalMs: failed ? 0 : num(r['ttfb']),
      // A report without `ttfb` (not enabled, or ignored at the intake) counts the request, not its TTFB.
      timed: !failed && typeof r['ttfb'] === 'number' ? 1 : 0,
      transferTotalMs: 0,
    };
    const host = hostOf(str(r['url']));
    if (host) dims.cdnHost = host.slice(0, 256);
  }
  const msd = num(r['msd']);
  if (msd) point.playRequestedAtMs = ts - msd;
  const bsd = r['bsd'];
  const stalled = Array.isArray(bsd)
    ? bsd.reduce<number>((s, d) => s + (typeof d === 'number' ? d : 0), 0)
    : num(bsd);
  // Each duration is bounded at the intake; their sum (up to 64 of them) is bounded here.
  if (stalled > 0) point.stalledMs = Math.min(stalled, BEACON_LIMITS.maxIntervalMs);
  return point;
}

export function cmcdItems(reports: readonly CmcdReport[], fallbackTimeMs: number): PointItem[] {
  return reports.map((r) => {
    const point = cmcdPoint(r, fallbackTimeMs);
    return { kind: 'point', seq: point.seq, point };
  });
}
