/**
 * Mux key minification undone, on a `viewstart` event exactly as mux-embed
 * 5.19.0 sent it from Chromium (captured by the e2e test), each full key
 * written out by hand from the protocol's dictionary.
 */
import { describe, expect, it } from 'vitest';
import { decodeKey, expandKey, minifyKey } from '../src/intake/mux/mux-keys.js';

const CAPTURED_KEYS: Record<string, string> = {
  mapve: 'mux_api_version',
  mem: 'mux_embed',
  memve: 'mux_embed_version',
  udvcg: 'viewer_device_category',
  pinid: 'player_instance_id',
  msara: 'mux_sample_rate',
  bdm: 'beacon_domain',
  psqno: 'player_sequence_number',
  xsqno: 'view_sequence_number',
  pispa: 'player_is_paused',
  pwd: 'player_width',
  pht: 'player_height',
  pauon: 'player_autoplay_on',
  ppron: 'player_preload_on',
  placd: 'player_language_code',
  pisfs: 'player_is_fullscreen',
  vsodu: 'video_source_duration',
  vsoht: 'video_source_height',
  xdpfrco: 'view_dropped_frame_count',
  pphti: 'player_playhead_time',
  xmaphps: 'view_max_playhead_position',
  uti: 'viewer_time',
  psw: 'player_software',
  pmxpinm: 'player_mux_plugin_name',
  ake: 'env_key',
  pnm: 'player_name',
  piiti: 'player_init_time',
  vid: 'video_id',
  vtt: 'video_title',
  vdn: 'video_cdn',
  c1: 'custom_1',
  xid: 'view_id',
  xpntimscv: 'view_playing_time_ms_cumulative',
  ucxty: 'viewer_connection_type',
  ucxlwdamp: 'viewer_connection_low_data_mode',
  xwati: 'view_watch_time',
  pvwco: 'player_view_count',
  xst: 'view_start',
  ppbmpda: 'player_playback_mode_data',
  vsohn: 'video_source_hostname',
  sid: 'session_id',
  sst: 'session_start',
  sex: 'session_expires',
  mvrid: 'mux_viewer_id',
  msano: 'mux_sample_number',
  e: 'event',
  wur: 'page_url',
  vsour: 'video_source_url',
};

describe('Mux key decoding', () => {
  it('expands every key of a captured mux-embed event', () => {
    for (const [wire, full] of Object.entries(CAPTURED_KEYS)) expect(expandKey(wire), wire).toBe(full);
  });

  it('integer words, words outside the dictionary, and codes that do not decode', () => {
    expect(decodeKey('c10')).toBe('custom_10');
    expect(decodeKey('u_flavour_id')).toBe('viewer_flavour_id');
    expect(decodeKey('brand_new_')).toBeUndefined();
    expect(decodeKey('zz')).toBeUndefined();
    expect(decodeKey('xqq')).toBeUndefined();
    // Kept as sent when it does not decode.
    expect(expandKey('xqq')).toBe('xqq');
  });

  it('minifying then expanding gives the key back', () => {
    for (const full of Object.values(CAPTURED_KEYS)) expect(expandKey(minifyKey(full))).toBe(full);
    expect(minifyKey('viewer_flavour_id')).toBe('u_flavour_id');
  });
});
