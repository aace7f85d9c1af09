/**
 * Dimensions a query may filter or group by: the API name and its column in
 * the `views` table. Only names from this list ever reach SQL as identifiers.
 */
export const DIMENSIONS: Record<string, string> = {
  environment_id: 'env_id',
  view_id: 'view_id',
  viewer_id: 'viewer_id',
  session_id: 'session_id',
  video_id: 'video_id',
  video_title: 'video_title',
  asset_id: 'asset_id',
  playback_id: 'playback_id',
  live_stream_id: 'live_stream_id',
  stream_type: 'stream_type',
  stream_format: 'stream_format',
  cdn: 'cdn_host',
  cdn_host: 'cdn_host',
  cdn_provider: 'cdn_provider',
  player_name: 'player_name',
  player_software: 'player_software',
  player_version: 'player_version',
  page_url: 'page_url',
  sub_property_id: 'sub_property_id',
  experiment_name: 'experiment_name',
  viewer_user_id: 'viewer_user_id',
  sdk_name: 'sdk_name',
  sdk_version: 'sdk_version',
  video_codec: 'video_codec',
  browser: 'browser',
  browser_version: 'browser_version',
  operating_system: 'os',
  operating_system_version: 'os_version',
  device_category: 'device_category',
  device_brand: 'device_brand',
  device_model: 'device_model',
  country: 'country',
  region: 'region',
  city: 'city',
  asn: 'CAST(asn AS VARCHAR)',
  as_org: 'as_org',
  outcome: 'outcome',
  error_code: 'error_code',
  ...Object.fromEntries(
    Array.from({ length: 10 }, (_, i) => [`custom_data_${i + 1}`, `custom_data_${i + 1}`]),
  ),
};

export const DIMENSION_NAMES = Object.keys(DIMENSIONS);
