/**
 * Shaka Player: the element's state through the HTML5 tracking; from Shaka
 * the rendition (`adaptation`/`variantchanged` + getStats), every response
 * through a networking-engine response filter (time, bytes, CDN headers;
 * the first byte from resource timing)
 * and every failed attempt through its `retry` event,
 * the manifest type and live latency, and its errors: severity 2
 * (CRITICAL) is fatal, the code is Shaka's numeric code. Stalls come from
 * its `buffering` event: Shaka pauses by playback rate 0, without `waiting`.
 */
import type { Adapter } from '../core/adapter.js';

interface ShakaStats {
  width: number;
  height: number;
  streamBandwidth: number;
  liveLatency: number;
}
interface ShakaResponse {
  uri: string;
  headers: Record<string, string>;
  timeMs?: number;
  data?: ArrayBuffer;
}
interface ShakaLike {
  getMediaElement(): HTMLMediaElement | null;
  getStats(): ShakaStats;
  getManifestType(): string | null;
  load(...args: unknown[]): Promise<unknown>;
  isLive(): boolean;
  getNetworkingEngine(): {
    registerResponseFilter(f: (type: number, r: ShakaResponse) => void): void;
    unregisterResponseFilter(f: (type: number, r: ShakaResponse) => void): void;
    addEventListener(type: string, fn: () => void): void;
    removeEventListener(type: string, fn: () => void): void;
  } | null;
  addEventListener(type: string, fn: (e: never) => void): void;
  removeEventListener(type: string, fn: (e: never) => void): void;
  constructor: { version?: string };
}

export const shaka: Adapter = {
  name: 'shaka',
  test: (t) => typeof (t as ShakaLike)?.getNetworkingEngine === 'function',
  attach(core, target, tools) {
    const p = target as ShakaLike;
    let untrack = () => {};
    let media: HTMLMediaElement | null = null;
    const track = () => {
      const el = p.getMediaElement();
      if (!el || el === media) return;
      untrack();
      media = el;
      untrack = tools.trackMedia(core, el, { errors: false, rendition: false, source: false });
      core.probe.liveLatencyMs = () => (p.isLive() ? (p.getStats().liveLatency || 0) * 1000 : 0);
    };
    const rendition = () => {
      const s = p.getStats();
      core.setRendition({ bitrateBps: s.streamBandwidth, width: s.width, height: s.height });
    };
    core.setContext({ playerSoftware: 'shaka', playerVersion: p.constructor.version ?? '' });
    const filter = (_type: number, r: ShakaResponse) => {
      core.request({
        bytes: r.data?.byteLength ?? 0,
        // Shaka gives a response's total time only: the first byte comes from resource timing.
        ttfbMs: tools.ttfb(r.uri),
        transferMs: r.timeMs ?? 0,
        cdnHost: tools.cdnHost(r.uri, (h) => r.headers[h]),
      });
    };
    // The networking engine says `retry` after every failed attempt it may retry, the last one included;
    // the response filter sees successful responses only.
    const failed = () => core.request({ bytes: 0, ttfbMs: 0, transferMs: 0, failed: true });
    const on: Record<string, (e: never) => void> = {
      loaded: () => {
        track();
        const type = (p.getManifestType() ?? '').toLowerCase();
        core.setContext({
          streamFormat: type === 'hls' || type === 'dash' ? type : 'other',
          streamType: p.isLive() ? 'live' : 'vod',
        });
        core.ready();
        rendition();
      },
      // Shaka holds the playback rate at 0 while it buffers, so the element never says `waiting`.
      buffering: (e: { buffering: boolean }) => {
        if (e.buffering) core.waiting();
        else if (core.state === 'rebuffering') core.playing();
      },
      adaptation: rendition,
      variantchanged: rendition,
      error: (e: { detail: { code: number; severity: number; category: number } }) => {
        const d = e.detail;
        core.error(d.code, `shaka error ${d.code} (category ${d.category})`, d.severity === 2);
      },
    };
    for (const k in on) p.addEventListener(k, on[k]!);
    const net = p.getNetworkingEngine();
    net?.registerResponseFilter(filter);
    net?.addEventListener('retry', failed);
    // Shaka reports a failed load() only through its promise, never as an `error` event.
    const load = p.load;
    p.load = function (this: ShakaLike, ...args: unknown[]) {
      return load.apply(this, args).catch((err: { code: number; category: number; severity: number }) => {
        track();
        on.error!({ detail: err } as never);
        throw err;
      });
    };
    track();
    return () => {
      p.load = load;
      untrack();
      for (const k in on) p.removeEventListener(k, on[k]!);
      net?.unregisterResponseFilter(filter);
      net?.removeEventListener('retry', failed);
    };
  },
};
