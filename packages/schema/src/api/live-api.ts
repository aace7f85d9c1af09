/**
 * Answers of the live streams API (/video/v1/live-streams…) that the
 * dashboard reads: the server serialises with these schemas.
 */
import { type Static, Type } from '@sinclair/typebox';
import { DataOf, ListOf } from './envelope.js';

export const LiveStream = Type.Object({
  id: Type.String({ description: 'Public id: put it in player metadata (liveStreamId) and in stats tokens' }),
  environment_id: Type.String(),
  stream_key: Type.String({ description: 'Secret: the encoder publishes to rtmp://host/live/{stream_key}' }),
  status: Type.Union([Type.Literal('idle'), Type.Literal('active')], {
    description: 'active while an encoder is publishing',
  }),
  created_at: Type.String({ description: 'Epoch seconds (a string, as the reference answers)' }),
});
export type LiveStream = Static<typeof LiveStream>;

/** Where encoders push, or why they cannot: the RTMP listener is optional and may be off. */
export const RtmpIngestInfo = Type.Object({
  url: Type.Union([Type.String(), Type.Null()], {
    description: 'rtmp://host:port/live: append /{stream_key}; null when the RTMP ingest is off',
  }),
  off_reason: Type.Union([Type.String(), Type.Null()], {
    description: 'Why the RTMP ingest is off (disabled, or its port was taken) and what to change',
  }),
});
export type RtmpIngestInfo = Static<typeof RtmpIngestInfo>;

/** `GET /video/v1/live-streams/{id}` */
export const LiveStreamResponse = DataOf(LiveStream);
export type LiveStreamResponse = Static<typeof LiveStreamResponse>;
/** `POST /video/v1/live-streams` (201) */
export const LiveStreamCreatedResponse = Type.Object({ data: LiveStream, rtmp: RtmpIngestInfo });
export type LiveStreamCreatedResponse = Static<typeof LiveStreamCreatedResponse>;
/** `GET /video/v1/live-streams` */
export const LiveStreamListResponse = Type.Object({
  data: Type.Array(LiveStream),
  total_row_count: Type.Integer(),
  rtmp: RtmpIngestInfo,
});
export type LiveStreamListResponse = Static<typeof LiveStreamListResponse>;

export const LiveStreamHealthRow = Type.Object({
  at: Type.String({ description: 'ISO-8601' }),
  status: Type.String(),
  connected: Type.Boolean(),
  stream_drift_ms: Type.Union([Type.Integer(), Type.Null()]),
  stream_drift_session_avg: Type.Union([Type.Integer(), Type.Null()]),
  stream_drift_deviation_from_rolling_avg: Type.Union([Type.Integer(), Type.Null()]),
});
export type LiveStreamHealthRow = Static<typeof LiveStreamHealthRow>;

/** `GET /video/v1/live-streams/{id}/health` */
export const LiveStreamHealthResponse = ListOf(LiveStreamHealthRow);
export type LiveStreamHealthResponse = Static<typeof LiveStreamHealthResponse>;

export const IngestStatus = Type.Union(
  [Type.Literal('excellent'), Type.Literal('good'), Type.Literal('poor'), Type.Literal('unknown')],
  {
    description:
      'From the drift deviation: excellent ≤ 500 ms, good ≤ 1000 ms, poor above; unknown without data',
  },
);

export const LiveStreamCurrent = Type.Object({
  id: Type.String(),
  environment_id: Type.String(),
  status: IngestStatus,
  connected: Type.Boolean({ description: 'An encoder is publishing' }),
  updated_at: Type.String({ description: 'ISO-8601: the latest video packet, or now when unknown' }),
  stream_drift_ms: Type.Integer({ description: 'Wall-clock elapsed − media elapsed (0 when unknown)' }),
  stream_drift_session_avg: Type.Integer({ description: 'ms' }),
  stream_drift_deviation_from_rolling_avg: Type.Integer({ description: 'ms' }),
  views: Type.Integer({ description: 'Views of the stream being watched now' }),
  viewers: Type.Integer({ description: 'Distinct viewers among them' }),
});
export type LiveStreamCurrent = Static<typeof LiveStreamCurrent>;

/** `GET /video/v1/live-streams/{id}/current` */
export const LiveStreamCurrentResponse = DataOf(LiveStreamCurrent);
export type LiveStreamCurrentResponse = Static<typeof LiveStreamCurrentResponse>;
