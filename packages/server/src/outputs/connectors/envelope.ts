/**
 * Turns one player event of a view into the connector envelope
 * (docs/connectors.md): the event with cumulative session metrics and
 * `time_since_last_*` fields, the user/session, player, device, geo, video,
 * custom data and ops metadata.
 *
 * The cumulative metrics are the view's after the beacon that carried the
 * event was applied (the view model applies a beacon at once), so two events
 * of one beacon share them. `time_since_last_*` and `event_count` come from a
 * small per-view trail the stage keeps in memory (saved over a clean restart,
 * see trail-file.ts; after a crash they start over for views in progress). `event_id` depends only on the environment,
 * the view and the sequence number, so a replayed event keeps its id.
 */
import { createHash } from 'node:crypto';
import type { PlayerEvent, PlayerEventType } from '@openqoe/schema';
import type { ActiveView } from '../../pipeline/view-model/active-views.js';
import type { ViewMetrics } from '../../pipeline/view-model/view-machine.js';
import { type MetricCatalog, metricEntries, VIEW_METRICS } from '../../pipeline/view-model/view-metrics.js';
import { VERSION } from '../../version.js';

/** Envelope names of the native event types (snake_case, Datazoom-style where one exists). */
export const ENVELOPE_EVENT_TYPES: Readonly<Record<PlayerEventType, string>> = {
  viewstart: 'view_start',
  playrequest: 'play_request',
  playerready: 'player_ready',
  firstframe: 'playback_start',
  play: 'play',
  pause: 'pause',
  seekstart: 'seek_start',
  seekend: 'seek_end',
  rebufferstart: 'stall_start',
  rebufferend: 'stall_end',
  error: 'error',
  ended: 'playback_complete',
  viewend: 'view_end',
  sourcechange: 'source_change',
  qualitychange: 'rendition_change',
  audiochange: 'audio_track_change',
  subtitlechange: 'subtitle_change',
  customdatachange: 'custom_data_change',
  adstart: 'ad_start',
  adend: 'ad_end',
};

/** The moments a dashboard most often measures from, as `time_since_last_{name}_ms`. */
const TRAILED: Partial<Record<PlayerEventType, string>> = {
  playrequest: 'play_request',
  firstframe: 'playback_start',
  play: 'play',
  pause: 'pause',
  seekstart: 'seek_start',
  rebufferstart: 'stall_start',
  rebufferend: 'stall_end',
  qualitychange: 'rendition_change',
  error: 'error',
  adstart: 'ad_start',
};

/** What the stage remembers per view between beacons. */
export interface ViewTrail {
  eventCount: number;
  lastAtMs: Map<string, number>;
  lastHeartbeatMs: number;
  lastBitrateBps: number;
  playerWidth: number;
  playerHeight: number;
}

export const newTrail = (): ViewTrail => ({
  eventCount: 0,
  lastAtMs: new Map(),
  lastHeartbeatMs: 0,
  lastBitrateBps: 0,
  playerWidth: 0,
  playerHeight: 0,
});

export interface Envelope {
  event_id: string;
  event: {
    type: string;
    timestamp: number;
    metrics: Record<string, number | string | null>;
    attributes: Record<string, string | number | boolean>;
  };
  user_details: Record<string, string>;
  player: Record<string, string>;
  device: Record<string, string>;
  geo_location: Record<string, string | number>;
  video: Record<string, string | number>;
  custom: Record<string, string>;
  ops_metadata: Record<string, string | number | unknown[]>;
}

/** A UUID-shaped id from (environment, view, sequence number): a replay gets the same one. */
export function eventId(envId: string, viewId: string, seq: number): string {
  const h = createHash('sha256').update(`${envId}\u0000${viewId}\u0000${seq}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

const round = (n: number) => Math.round(n);

type MetricsOf = (
  m: ViewMetrics,
  r: typeof roundedBy,
  playheadSec: number,
  height: number,
  width: number,
  name: string,
  bitrateKbps: number,
  state: string,
  eventCount: number,
  since: Record<string, number | null>,
) => Envelope['event']['metrics'];
const roundedBy = (v: number | string | null, by: number) => (typeof v === 'number' ? round(v / by) : v);
const metricsBuilders = new WeakMap<MetricCatalog, MetricsOf>();

/**
 * The envelope's metrics: the catalog's envelope fields in its order, before
 * and after the event's own fields. Built for every event, so it is one
 * object literal generated once per catalog (fixed keys, as a hand-written
 * envelope has): filling an object key by key and spreading it halved the
 * connectors' throughput (docs/benchmarks.md).
 */
function metricsBuilder(catalog: MetricCatalog): MetricsOf {
  let build = metricsBuilders.get(catalog);
  if (!build) {
    const side = (after: boolean) => {
      const parts: string[] = [];
      for (const [key, { envelope: f }] of metricEntries(catalog)) {
        if (!f || !f.afterEvent !== !after) continue;
        const v = `(m[${JSON.stringify(key)}] ?? null)`;
        parts.push(`${JSON.stringify(f.field)}: ${f.round ? `r(${v}, ${f.round})` : v}`);
      }
      return parts.map((part) => `${part}, `).join('');
    };
    build = new Function(
      'm, r, playheadSec, height, width, name, bitrateKbps, state, eventCount, since',
      `return { ${side(false)}playhead_position_sec: playheadSec, rendition_height: height, rendition_width: width, ` +
        `rendition_name: name, rendition_video_bitrate_kbps: bitrateKbps, ${side(true)}` +
        'player_state: state, event_count: eventCount, ...since };',
    ) as MetricsOf;
    metricsBuilders.set(catalog, build);
  }
  return build;
}

export interface EnvelopeInput {
  view: ActiveView;
  metrics: ViewMetrics;
  trail: ViewTrail;
  event: PlayerEvent;
  receivedAtMs: number;
  userAgent: string;
  /** The metric catalog whose envelope fields it carries (VIEW_METRICS). */
  catalog?: MetricCatalog;
}

export function buildEnvelope({
  view,
  metrics,
  trail,
  event,
  receivedAtMs,
  userAgent,
  catalog = VIEW_METRICS,
}: EnvelopeInput): Envelope {
  const at = view.eventTime(event.viewerTime);
  const type = ENVELOPE_EVENT_TYPES[event.type];
  const d = view.dims;
  const c = view.client;
  const m = view.machine;
  trail.eventCount++;

  const sinceFields: Record<string, number | null> = {};
  for (const name of Object.values(TRAILED)) {
    const last = trail.lastAtMs.get(name);
    sinceFields[`time_since_last_${name}_ms`] = last === undefined ? null : Math.max(0, at - last);
  }
  sinceFields['time_since_last_heartbeat_ms'] =
    trail.lastHeartbeatMs > 0 ? Math.max(0, at - trail.lastHeartbeatMs) : null;
  sinceFields['time_since_request_ms'] = m.playRequested ? Math.max(0, at - m.playRequestedAtMs) : null;
  sinceFields['time_since_started_ms'] = m.started ? Math.max(0, at - m.firstFrameAtMs) : null;

  // A rendition change carries the new rendition; any other event reads the view's current one.
  const change = event.type === 'qualitychange';
  const eventBitrate = event.videoBitrateBps;
  const width = change && event.videoWidth > 0 ? event.videoWidth : (d?.videoWidth ?? 0);
  const height = change && event.videoHeight > 0 ? event.videoHeight : (d?.videoHeight ?? 0);
  const bitrate = change && eventBitrate > 0 ? eventBitrate : (d?.videoBitrateBps ?? 0);

  const attributes: Record<string, string | number | boolean> = {};
  if (change) {
    const last = trail.lastBitrateBps;
    if (last > 0 && eventBitrate > 0 && eventBitrate !== last)
      attributes['abs_shift'] = eventBitrate > last ? 'up' : 'down';
    attributes['rendition_video_bitrate_kbps'] = round(eventBitrate / 1000);
    if (eventBitrate > 0) trail.lastBitrateBps = eventBitrate;
  }
  if (event.type === 'error' || event.errorCode) {
    attributes['error_code'] = event.errorCode;
    attributes['error_message'] = event.errorMessage;
    attributes['fatal'] = event.errorFatal;
    attributes['business_exception'] = event.errorBusiness;
  }
  if (event.detail) attributes['detail'] = event.detail;

  const envelope: Envelope = {
    event_id: eventId(view.envId, view.viewId, event.sequenceNumber),
    event: {
      type,
      timestamp: at,
      metrics: metricsBuilder(catalog)(
        metrics,
        roundedBy,
        event.playheadMs / 1000,
        height,
        width,
        height > 0 ? `${height}p` : '',
        round(bitrate / 1000),
        event.state,
        trail.eventCount,
        sinceFields,
      ),
      attributes,
    },
    user_details: {
      app_session_id: d?.sessionId ?? '',
      content_session_id: view.viewId,
      viewer_id: d?.viewerId ?? '',
      viewer_user_id: d?.viewerUserId ?? '',
      client_ip: c.ip,
      user_agent: userAgent,
      page_url: d?.pageUrl ?? '',
    },
    player: {
      player_name: d?.playerName ?? '',
      player_software: d?.playerSoftware ?? '',
      player_version: d?.playerVersion ?? '',
      player_instance_id: d?.playerInstanceId ?? '',
      streaming_protocol: d?.streamFormat ?? '',
      sdk_name: d?.sdkName ?? '',
      sdk_version: d?.sdkVersion ?? '',
    },
    device: {
      browser_name: c.browser,
      browser_version: c.browserVersion,
      os_name: c.os,
      os_version: c.osVersion,
      device_type: c.deviceCategory,
      device_brand: c.deviceBrand,
      device_model: c.deviceModel,
    },
    geo_location: {
      country_code: c.country,
      region: c.region,
      city: c.city,
      asn: c.asn,
      as_org: c.asOrg,
    },
    video: {
      media_type: d?.streamType ?? '',
      video_id: d?.videoId ?? '',
      title: d?.videoTitle ?? '',
      asset_id: d?.assetId ?? '',
      playback_id: d?.playbackId ?? '',
      live_stream_id: d?.liveStreamId ?? '',
      codec: d?.videoCodec ?? '',
      cdn_host: d?.cdnHost ?? '',
      cdn_provider: d?.cdnProvider ?? '',
      player_width: trail.playerWidth,
      player_height: trail.playerHeight,
    },
    custom: customOf(view),
    ops_metadata: {
      environment_id: view.envId,
      sequence_number: event.sequenceNumber,
      server_ts_offset_ms: view.clockOffsetMs,
      server_received_at_ms: receivedAtMs,
      viewer_time_ms: event.viewerTime,
      producer: `openqoe/${VERSION}`,
      collector_observability: [],
    },
  };
  const trailName = TRAILED[event.type];
  if (trailName) trail.lastAtMs.set(trailName, at);
  return envelope;
}

function customOf(view: ActiveView): Record<string, string> {
  const out: Record<string, string> = {};
  const d = view.dims;
  if (!d) return out;
  for (const [i, v] of d.customData.entries()) if (v) out[`custom_data_${i + 1}`] = v;
  if (d.experimentName) out['experiment_name'] = d.experimentName;
  if (d.subPropertyId) out['sub_property_id'] = d.subPropertyId;
  return out;
}
