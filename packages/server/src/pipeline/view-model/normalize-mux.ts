/**
 * Mux Data events (keys already expanded by the intake) → points for the
 * view model. Each event says what the player did at one instant; which
 * state that puts the player in is decided here, what the state's time
 * counts as is the view machine's business. Dimensions the event carries
 * (a full snapshot or a delta) become the point's dimensions, merged into
 * the view's in sequence order; keys openqoe has no field for are kept as
 * raw attributes.
 */
import { BEACON_LIMITS, type PlayerState } from '@openqoe/schema';
import type { CompatValue } from '../../bus/intake-record.js';
import type { DimensionSource, PointEvent, PointItem, PointValue, StatePoint } from './view-items.js';

type StringDimension = Exclude<
  { [K in keyof DimensionSource]: DimensionSource[K] extends string ? K : never }[keyof DimensionSource],
  'streamType' | 'streamFormat'
>;

/** Mux dimension keys → openqoe dimensions (plain strings). */
const DIMENSIONS: Record<string, StringDimension> = {
  mux_viewer_id: 'viewerId',
  session_id: 'sessionId',
  player_instance_id: 'playerInstanceId',
  video_id: 'videoId',
  video_title: 'videoTitle',
  video_cdn: 'cdnProvider',
  player_name: 'playerName',
  player_software_name: 'playerSoftware',
  player_software: 'playerSoftware',
  player_software_version: 'playerVersion',
  page_url: 'pageUrl',
  sub_property_id: 'subPropertyId',
  experiment_name: 'experimentName',
  viewer_user_id: 'viewerUserId',
  mux_embed: 'sdkName',
  mux_embed_version: 'sdkVersion',
  video_source_codec: 'videoCodec',
  video_source_hostname: 'cdnHost',
  custom_1: 'customData1',
  custom_2: 'customData2',
  custom_3: 'customData3',
  custom_4: 'customData4',
  custom_5: 'customData5',
  custom_6: 'customData6',
  custom_7: 'customData7',
  custom_8: 'customData8',
  custom_9: 'customData9',
  custom_10: 'customData10',
};

/** Keys read as facts of the event (not kept as raw attributes). */
const FACT_KEYS = new Set([
  'event',
  'env_key',
  'view_id',
  'view_sequence_number',
  'viewer_time',
  'player_playhead_time',
  'video_source_bitrate',
  'video_source_width',
  'video_source_height',
  'video_source_duration',
  'video_duration',
  'player_width',
  'player_height',
  'player_error_code',
  'player_error_message',
  'player_error_severity',
  'player_error_business_exception',
  'player_is_paused',
  'video_stream_type',
  'video_source_mime_type',
  'video_source_url',
  'player_startup_time',
  'page_load_time',
  'request_bytes_loaded',
  'request_start',
  'request_response_start',
  'request_response_end',
  'request_hostname',
]);

const num = (v: CompatValue | undefined): number => {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : Number.NaN;
  return Number.isFinite(n) && n > 0 ? n : 0;
};
/** Whether two times make a span: both known, in order, at most a day apart (longer is a clock mistake). */
const spans = (from: number, to: number): boolean =>
  from > 0 && to >= from && to - from <= BEACON_LIMITS.maxIntervalMs;
/** From → to in ms when they make a span, else 0 (unknown). */
const span = (from: number, to: number): number => (spans(from, to) ? to - from : 0);
/** A content duration past a year is a live player's placeholder or a unit mistake: unknown (0). */
const contentDuration = (ms: number): number => (ms <= BEACON_LIMITS.maxContentDurationMs ? ms : 0);
const str = (v: CompatValue | undefined): string => (v === undefined ? '' : String(v));

/** From the source's MIME type, else (native HLS reports none) from its URL's extension. */
function streamFormat(mime: string, url: string): DimensionSource['streamFormat'] {
  const m = mime.toLowerCase();
  if (m.includes('mpegurl')) return 'hls';
  if (m.includes('dash')) return 'dash';
  if (m.startsWith('video/') || m.startsWith('audio/')) return 'progressive';
  const path = url.split(/[?#]/)[0]!.toLowerCase();
  if (path.endsWith('.m3u8')) return 'hls';
  if (path.endsWith('.mpd')) return 'dash';
  if (/\.(mp4|m4v|webm|mov|ogg|ogv)$/.test(path)) return 'progressive';
  return m || path ? 'other' : '';
}

/** The state an event leaves the player in, and the native events it amounts to. */
function transition(
  name: string,
  e: Record<string, CompatValue>,
): { state?: PlayerState; events: PointEvent[] } {
  switch (name) {
    case 'playerready':
      return { state: 'ready', events: [{ type: 'playerready' }] };
    case 'viewstart':
      // mux-embed sends viewstart when the view's first play is asked for, before it stamps
      // its `play` (and a renditionchange): the play request is the viewstart's instant, as
      // mux-embed's own time to first frame counts it.
      return { events: [{ type: 'viewstart' }, { type: 'playrequest' }] };
    case 'play':
      // Before the first frame a play starts startup; after it, the state holds until `playing`.
      return { state: 'startup', events: [{ type: 'play' }] };
    case 'playing':
      return { state: 'playing', events: [] };
    case 'pause':
      return { state: 'paused', events: [{ type: 'pause' }] };
    case 'seeking':
      return { state: 'seeking', events: [{ type: 'seekstart' }] };
    case 'seeked':
      return { state: e['player_is_paused'] === true ? 'paused' : 'playing', events: [{ type: 'seekend' }] };
    case 'rebufferstart':
      return { state: 'rebuffering', events: [{ type: 'rebufferstart' }] };
    case 'rebufferend':
      return { state: 'playing', events: [{ type: 'rebufferend' }] };
    case 'ended':
      return { state: 'ended', events: [{ type: 'ended' }] };
    case 'viewend':
      return { events: [{ type: 'viewend' }] };
    case 'renditionchange':
      return { events: [{ type: 'qualitychange' }] };
    case 'adbreakstart':
      return { state: 'ad', events: [{ type: 'adstart' }] };
    case 'adbreakend':
      return { events: [{ type: 'adend' }] };
    case 'error': {
      // Mux treats an error as fatal unless the player marked it a warning.
      const severity = str(e['player_error_severity']).toLowerCase();
      const business = e['player_error_business_exception'] === true;
      const fatal = severity !== 'warning';
      return {
        ...(fatal && !business ? { state: 'error' as const } : {}),
        events: [
          {
            type: 'error',
            errorCode: str(e['player_error_code']).slice(0, 256),
            errorMessage: str(e['player_error_message']).slice(0, 1024),
            errorFatal: fatal,
            errorBusiness: business,
          },
        ],
      };
    }
    default:
      // Heartbeats, request events and the rest change no state.
      return { events: [] };
  }
}

export function muxPoint(e: Record<string, CompatValue>): StatePoint {
  const name = str(e['event']);
  const { state, events } = transition(name, e);
  const dims: Partial<DimensionSource> = {};
  const raw: Record<string, PointValue> = {};
  for (const [key, value] of Object.entries(e)) {
    const dim = DIMENSIONS[key];
    if (dim) dims[dim] = str(value).slice(0, 1024);
    else if (!FACT_KEYS.has(key)) raw[key] = value;
  }
  const streamType = str(e['video_stream_type']).toLowerCase();
  if (streamType) dims.streamType = streamType === 'live' ? 'live' : 'vod';
  if (e['video_source_mime_type'] !== undefined || e['video_source_url'] !== undefined)
    dims.streamFormat = streamFormat(str(e['video_source_mime_type']), str(e['video_source_url']));
  if (e['request_hostname'] !== undefined) dims.cdnHost = str(e['request_hostname']).slice(0, 256);

  const point: StatePoint = {
    seq: (e['view_sequence_number'] as number) - 1,
    deviceTimeMs: e['viewer_time'] as number,
    playheadMs: num(e['player_playhead_time']),
    events,
    dims,
    raw,
    videoBitrateBps: num(e['video_source_bitrate']),
    videoWidth: num(e['video_source_width']),
    videoHeight: num(e['video_source_height']),
    playerWidth: num(e['player_width']),
    playerHeight: num(e['player_height']),
    // The player's own duration of the source, else the one the site set in the metadata (both ms).
    videoDurationMs: contentDuration(num(e['video_source_duration']) || num(e['video_duration'])),
    playerStartupTimeMs: num(e['player_startup_time']),
    pageLoadTimeMs: num(e['page_load_time']),
  };
  if (state) point.state = state;
  if (name === 'requestcompleted' || name === 'requestfailed') {
    const start = num(e['request_start']);
    const first = num(e['request_response_start']);
    const end = num(e['request_response_end']);
    const completed = name === 'requestcompleted';
    point.requests = {
      count: completed ? 1 : 0,
      failed: completed ? 0 : 1,
      bytes: num(e['request_bytes_loaded']),
      // A failed request's TTFB is not a completed one's; one without both times has none, and
      // counting it as 0 ms would pull the mean down.
      ttfbTotalMs: completed ? span(start, first) : 0,
      timed: completed && spans(start, first) ? 1 : 0,
      transferTotalMs: span(first, end),
    };
  }
  return point;
}

export function muxItems(events: readonly Record<string, CompatValue>[]): PointItem[] {
  return events.map((e) => {
    const point = muxPoint(e);
    return { kind: 'point', seq: point.seq, point };
  });
}
