/**
 * The items a view is built from: what every source (native beacons, Mux
 * events, CMCD reports) becomes before the view model applies it, and the
 * sample fields that describe a view. Kept apart from the registry
 * (active-views.ts), the point expansion (normalize-points.ts) and the
 * timeline, which all read these shapes, so none of them imports another
 * just for a type.
 */
import type { PlayerEventType, PlayerState, Sample } from '@openqoe/schema';
import type { EventFacts, SegmentFacts } from './view-machine.js';

/** The fields of a sample that describe the view rather than the interval. */
export type DimensionSource = Pick<
  Sample,
  | 'viewerId'
  | 'sessionId'
  | 'playerInstanceId'
  | 'videoId'
  | 'videoTitle'
  | 'assetId'
  | 'playbackId'
  | 'liveStreamId'
  | 'streamType'
  | 'streamFormat'
  | 'cdnHost'
  | 'cdnProvider'
  | 'playerName'
  | 'playerSoftware'
  | 'playerVersion'
  | 'pageUrl'
  | 'subPropertyId'
  | 'experimentName'
  | 'viewerUserId'
  | 'sdkName'
  | 'sdkVersion'
  | 'customData1'
  | 'customData2'
  | 'customData3'
  | 'customData4'
  | 'customData5'
  | 'customData6'
  | 'customData7'
  | 'customData8'
  | 'customData9'
  | 'customData10'
  | 'videoCodec'
  | 'videoBitrateBps'
  | 'videoWidth'
  | 'videoHeight'
>;

/** A native sample is already a segment's facts and dimensions; other sources build the same shape. */
export type SegmentSource = SegmentFacts & DimensionSource;

export type ViewItem =
  | {
      kind: 'segment';
      seq: number;
      state: PlayerState;
      deviceStartMs: number;
      durationMs: number;
      facts: SegmentSource;
    }
  | {
      kind: 'event';
      seq: number;
      type: PlayerEventType;
      state: PlayerState;
      deviceTimeMs: number;
      facts: EventFacts;
    };

/** One thing that happened at the point, in native event terms. */
export interface PointEvent {
  type: PlayerEventType;
  errorCode?: string;
  errorMessage?: string;
  errorFatal?: boolean;
  errorBusiness?: boolean;
  detail?: string;
}

export type PointValue = string | number | boolean;

/** Media requests reported at the point. */
export interface PointRequests {
  count: number;
  failed: number;
  bytes: number;
  ttfbTotalMs: number;
  /** The requests `ttfbTotalMs` covers (a report may lack the time to first byte). */
  timed: number;
  transferTotalMs: number;
}

/** What a point-in-time source says at one instant, in native terms (normalize-mux.ts, normalize-cmcd.ts). */
export interface StatePoint {
  /** Per view, from 0, in the order the player produced them. */
  seq: number;
  deviceTimeMs: number;
  playheadMs: number;
  /** The state the player is in from this point on; undefined keeps the current one. */
  state?: PlayerState;
  events: PointEvent[];
  /** Dimensions sent with the point (only those it carries; the rest keep their earlier values). */
  dims?: Partial<DimensionSource>;
  /** Keys the source sent that openqoe has no field for: kept, not dropped. */
  raw?: Record<string, PointValue>;
  /** Rendition and player size from this point on (0 or undefined keeps the earlier value). */
  videoBitrateBps?: number;
  videoWidth?: number;
  videoHeight?: number;
  playerWidth?: number;
  playerHeight?: number;
  /** The content's duration (VOD), ms; 0 or undefined keeps the earlier value. */
  videoDurationMs?: number;
  requests?: PointRequests;
  droppedFrames?: number;
  liveLatencyMs?: number;
  playerStartupTimeMs?: number;
  pageLoadTimeMs?: number;
  /**
   * Starvation the player reported only as a duration (CMCD `bsd`), ending at
   * this point. Used only while the view never reported a rebuffering state,
   * so the same stall is not counted twice.
   */
  stalledMs?: number;
  /** Play request time on the device clock when the source gives it as a delay (CMCD `msd`). */
  playRequestedAtMs?: number;
}

/**
 * An item of a point-in-time source (Mux events, CMCD reports): expanded in
 * sequence order against the view's own source state (normalize-points.ts);
 * `expanded` holds the native items it became, for the pipeline's stages.
 */
export interface PointItem {
  kind: 'point';
  seq: number;
  point: StatePoint;
  expanded?: ViewItem[];
}

/** What `apply` takes: native items, or points to expand. */
export type SourceItem = ViewItem | PointItem;
