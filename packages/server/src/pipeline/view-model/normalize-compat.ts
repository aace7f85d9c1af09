/**
 * The drop-in intakes' bus records → view items: one entry point for the
 * pipeline, whichever format the record carries.
 */
import type { CompatBatch, IntakeMeta } from '../../bus/intake-record.js';
import { cmcdItems } from './normalize-cmcd.js';
import { muxItems } from './normalize-mux.js';
import type { PointItem, SourceItem, ViewItem } from './view-items.js';

export function compatItems(meta: IntakeMeta, batch: CompatBatch): PointItem[] {
  if (batch.format === 'mux') return muxItems(batch.events);
  // Reports without a device time are placed at their arrival, on the device's clock.
  return cmcdItems(batch.reports, meta.receivedAtMs - meta.clockOffsetMs);
}

/** The native items a batch's items became (points as expanded; a point still waiting for a gap has none yet). */
export function expandedItems(items: readonly SourceItem[]): ViewItem[] {
  if (!items.some((i) => i.kind === 'point')) return items as ViewItem[];
  const out: ViewItem[] = [];
  for (const item of items) {
    if (item.kind === 'point') {
      if (item.expanded) for (const e of item.expanded) out.push(e);
    } else out.push(item);
  }
  return out;
}
