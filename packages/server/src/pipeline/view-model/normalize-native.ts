/**
 * Native samples and events → view items. A native sample already is a
 * segment (a state held for a duration, with every fact the machine needs),
 * so normalising it is wrapping, not copying.
 */
import type { PlayerEvent, Sample } from '@openqoe/schema';
import type { ViewItem } from './view-items.js';

export function nativeItems(samples: readonly Sample[], events: readonly PlayerEvent[]): ViewItem[] {
  const items: ViewItem[] = [];
  for (const s of samples) {
    items.push({
      kind: 'segment',
      seq: s.sequenceNumber,
      state: s.state,
      deviceStartMs: s.timestamp,
      durationMs: s.durationMs,
      facts: s,
    });
  }
  for (const e of events) {
    items.push({
      kind: 'event',
      seq: e.sequenceNumber,
      type: e.type,
      state: e.state,
      deviceTimeMs: e.viewerTime,
      facts: e,
    });
  }
  return items;
}
