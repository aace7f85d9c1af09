/**
 * The shape every adapter has, so adding a player is copying a sibling.
 * Adapters import only types from the core: the IIFE builds of adapters then
 * carry no second copy of the core, and get the shared media-element
 * tracking through `tools`.
 */
import type { Collector } from './collector.js';

export interface MediaTrackOptions {
  /** Report `MediaError`s as fatal errors (players with their own error events say no). */
  errors: boolean;
  /** Take the rendition size from the element (players that know the bitrate say no). */
  rendition: boolean;
  /** A new `currentSrc` after `loadstart` is a source change (MSE players say no: their src is a blob). */
  source: boolean;
}

export interface AdapterTools {
  /** Follows a media element's events and returns the function that stops it. */
  trackMedia(core: Collector, media: HTMLMediaElement, opts: MediaTrackOptions): () => void;
  /** CDN host from the response headers (X-CDN, X-Served-By, Via, X-Cache), else the URL's host. */
  cdnHost(url: string, header: (name: string) => string | null | undefined): string;
  /**
   * Time to first byte of the URL's last request from resource timing; undefined when unknown (a
   * cross-origin response without Timing-Allow-Origin has no responseStart).
   */
  ttfb(url: string): number | undefined;
}

export interface Adapter {
  name: string;
  /** True when `target` is this adapter's player. */
  test(target: unknown): boolean;
  /** Wires the player to the core; returns the detach function. */
  attach(core: Collector, target: unknown, tools: AdapterTools): () => void;
}
