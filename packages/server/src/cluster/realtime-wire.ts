/**
 * The real-time aggregates as they travel between pipeline workers and the
 * api node: each RealtimeAggregate as its counters, its startup-time
 * DDSketch (its non-empty bins) and its histogram — never the views behind it.
 * A message is a head plus a list of items; items are packed into as many
 * messages as the NATS max_payload needs and assembled again on receipt.
 */
import type { DDSketch } from '@datadog/sketches-js';
import { entry } from '../pipeline/realtime/map-entry.js';
import { RealtimeAggregate, SUMS } from '../pipeline/realtime/realtime-aggregate.js';

export interface WireAggregate {
  n: number[];
  /** The startup sketch: [values at 0, then bin key and count pairs]; empty when it holds nothing. */
  s: number[];
  h: number[];
}

/**
 * A sketch as its non-empty bins. The protobuf form lists every bin of the
 * store's range as a double (over a kilobyte for a handful of views); a
 * real-time group holds few distinct startup times, so pairs are far smaller.
 */
export function sketchToWire(sketch: DDSketch): number[] {
  const out = [sketch.zeroCount];
  const { bins, offset } = sketch.store;
  for (let i = 0; i < bins.length; i++) if (bins[i]) out.push(i + offset, bins[i]!);
  return out;
}

/**
 * Back to a sketch: each bin's representative value lands in the same bin
 * again. Like a sketch read from protobuf, it has no sum (0): the exact sum
 * travels with the counters, and RealtimeAggregate adds a sketch's own sum
 * when merging it.
 */
export function sketchFromWire(w: readonly number[]): DDSketch {
  const sketch = new RealtimeAggregate().startupSketch();
  if (w[0]) sketch.accept(0, w[0]);
  for (let i = 1; i + 1 < w.length; i += 2) sketch.accept(sketch.mapping.value(w[i]!), w[i + 1]!);
  sketch.sum = 0;
  return sketch;
}

/** value → aggregate: the rows of one dimension. */
export type WireRows = [string, WireAggregate][];

/**
 * What a message carries: all views (`o`), rows of a dimension (`d`; one
 * dimension may come in several items), and the same for one filter set
 * (`fo`, `fd`, with the set's key). A filter set's `fo` item says the set was
 * computed; an `fd` item (even with no rows) says its dimension was.
 */
export type WireItem =
  | { k: 'o'; a: WireAggregate }
  | { k: 'd'; d: string; r: WireRows }
  | { k: 'fo'; f: string; a: WireAggregate }
  | { k: 'fd'; f: string; d: string; r: WireRows };

export function toWire(a: RealtimeAggregate): WireAggregate {
  return {
    n: SUMS.map((k) => a[k]),
    s: a.startupN > 0 ? sketchToWire(a.startupSketch()) : [],
    h: [...a.histogram],
  };
}

/** Counters that are time sums over the window: scaled to a common window length when merged. */
const TIME_SUMS: ReadonlySet<string> = new Set(['watchMs', 'rebufferMs']);

export function fromWire(w: WireAggregate, scale: number): RealtimeAggregate {
  const a = new RealtimeAggregate();
  for (const [i, k] of SUMS.entries()) a[k] = (w.n[i] ?? 0) * (TIME_SUMS.has(k) ? scale : 1);
  // The bins do not carry the sum: it travels with the counters (set above).
  if (w.s.length) a.mergeSketch(sketchFromWire(w.s));
  for (const [i, n] of w.h.entries()) a.histogram[i] = n;
  return a;
}

export function mergeRows(into: Map<string, RealtimeAggregate>, rows: WireRows, scale: number): void {
  for (const [value, a] of rows) entry(into, value, () => new RealtimeAggregate()).merge(fromWire(a, scale));
}

/** Bytes of rows per item: several items fit in a message, and one row never exceeds it. */
const ROW_ITEM_BYTES = 64 * 1024;

/** Items of rows, cut by size; always at least one item, so an empty dimension is still marked. */
export function rowItems(
  make: (rows: WireRows) => WireItem,
  rows: Iterable<[string, RealtimeAggregate]>,
): string[] {
  const out: string[] = [];
  const shell = JSON.stringify(make([]));
  const open = shell.slice(0, shell.lastIndexOf('[]') + 1);
  const close = shell.slice(shell.lastIndexOf('[]') + 1);
  let cur: string[] = [];
  let bytes = 0;
  for (const [value, a] of rows) {
    const row = JSON.stringify([value, toWire(a)]);
    if (cur.length && bytes + row.length > ROW_ITEM_BYTES) {
      out.push(open + cur.join(',') + close);
      cur = [];
      bytes = 0;
    }
    cur.push(row);
    bytes += row.length + 1;
  }
  if (cur.length || out.length === 0) out.push(open + cur.join(',') + close);
  return out;
}

/** Room kept in a message for its head (worker, times, part numbers). */
const HEAD_BYTES = 1024;

/**
 * Messages of `{...head, part, parts, items}`, each under `maxPayload`
 * bytes. Items are serialised JSON; an item larger than a message (only
 * possible with a tiny max_payload) goes alone in its own.
 */
export function packItems(head: object, items: readonly string[], maxPayload: number): Buffer[] {
  const budget = Math.max(HEAD_BYTES, maxPayload - HEAD_BYTES);
  const groups: string[][] = [[]];
  let bytes = 0;
  for (const item of items) {
    const cur = groups[groups.length - 1]!;
    if (cur.length && bytes + item.length + 1 > budget) {
      groups.push([item]);
      bytes = item.length + 1;
    } else {
      cur.push(item);
      bytes += item.length + 1;
    }
  }
  const h = JSON.stringify(head).slice(0, -1);
  const sep = h.length > 1 ? ',' : '';
  return groups.map((g, part) =>
    Buffer.from(`${h}${sep}"part":${part},"parts":${groups.length},"items":[${g.join(',')}]}`),
  );
}

export interface Parted {
  part: number;
  parts: number;
  items: WireItem[];
}

/**
 * Collects the parts of messages sent with packItems, by a key naming one
 * logical message; hands back the whole once every part arrived.
 */
export class PartsAssembler<M extends Parted> {
  private readonly pending = new Map<string, M[]>();

  add(key: string, msg: M): M[] | undefined {
    if (msg.parts <= 1) return [msg];
    const got = entry(this.pending, key, () => []);
    if (got.some((m) => m.part === msg.part)) return undefined;
    got.push(msg);
    if (got.length < msg.parts) return undefined;
    this.pending.delete(key);
    return got;
  }

  /** Forgets incomplete messages whose key `stale` picks (parts lost on the way). */
  drop(stale: (key: string) => boolean): void {
    for (const key of this.pending.keys()) if (stale(key)) this.pending.delete(key);
  }
}
