/**
 * `monitor(videoElementOrPlayer, options)`: attaches the collector to a
 * player and returns a handle. The HTML5 adapter is built in; other players'
 * adapters are registered with `use()` (their IIFE builds do it themselves).
 */

import { cdnHost, html5, resourceTtfb, trackMedia } from './adapters/html5.js';
import type { Adapter, AdapterTools } from './core/adapter.js';
import { Collector } from './core/collector.js';
import type { MonitorHandle, MonitorOptions } from './core/types.js';

export type { Adapter, AdapterTools, MediaTrackOptions } from './core/adapter.js';
export { Collector, SDK_NAME, SDK_VERSION } from './core/collector.js';
export { backoffMs, MAX_BODY_BYTES, Transport } from './core/transport.js';
export type * from './core/types.js';

const adapters: Adapter[] = [html5];
const tools: AdapterTools = { trackMedia, cdnHost, ttfb: resourceTtfb };

/** Registers a player adapter (the newest wins when two recognise the same player). */
export function use(adapter: Adapter): void {
  adapters.unshift(adapter);
}

export function monitor(target: unknown, options: MonitorOptions): MonitorHandle {
  const core = new Collector(options);
  const adapter = adapters.find((a) => {
    try {
      return a.test(target);
    } catch {
      return false;
    }
  });
  let detach = () => {};
  try {
    if (adapter) detach = adapter.attach(core, target, tools);
  } catch {
    core.transport.stats.collectorErrors++;
  }
  const onVisibility = () => {
    if (document.visibilityState === 'hidden') core.hidden();
  };
  const onPageHide = () => core.unload();
  const hasDoc = typeof document !== 'undefined';
  if (hasDoc) {
    document.addEventListener('visibilitychange', onVisibility);
    addEventListener('pagehide', onPageHide);
  }
  return {
    update: (data) => core.update(data),
    setConsent: (granted) => core.setConsent(granted),
    flush: () => core.transport.flush(),
    destroy: () => {
      core.destroy();
      try {
        detach();
      } catch {
        core.transport.stats.collectorErrors++;
      }
      if (hasDoc) {
        document.removeEventListener('visibilitychange', onVisibility);
        removeEventListener('pagehide', onPageHide);
      }
    },
    get viewId() {
      return core.viewId;
    },
    stats: () => ({ ...core.transport.stats }),
  };
}
