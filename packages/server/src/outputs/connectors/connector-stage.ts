/**
 * The connector stage on the pipeline seam: for every applied beacon it
 * builds one envelope per player event, and offers each connector's delivery
 * (outputs/delivery/) what passes that connector's filters. `batch` resolves
 * only when every queue has made its records durable, which holds the
 * pipeline's commit: after a crash the batch comes again and the queues skip
 * the ids they already hold. Delivery happens apart, in each connector's loop.
 * Replayed batches (the start-up rebuild) were sent before: they are skipped.
 */
import type { PlayerEvent } from '@openqoe/schema';
import type { AppliedBeacon, PipelineEvents, PipelineStage } from '../../pipeline/pipeline-events.js';
import { entry } from '../../pipeline/realtime/map-entry.js';
import type { ActiveViews } from '../../pipeline/view-model/active-views.js';
import type { ViewMetrics } from '../../pipeline/view-model/view-machine.js';
import type { QueueRecord } from '../delivery/destination.js';
import type { ConnectorMetrics } from './connector-metrics.js';
import type { Connector } from './connectors.js';
import { buildEnvelope, type Envelope, newTrail, type ViewTrail } from './envelope.js';
import { saveTrails, takeTrails } from './trail-file.js';

/** Longest one batch waits for room in a full 'block' buffer before the pipeline pauses and retries. */
const BLOCK_RETRY_MS = 5000;

interface Built {
  envelope: Envelope;
  record: QueueRecord;
  envId: string;
  viewKey: string;
}

export class ConnectorStage implements PipelineStage {
  readonly name = 'connectors';
  private readonly trails: Map<string, ViewTrail>;
  private readonly eventConnectors: Connector[];
  private lastPruneMs = Date.now();

  constructor(
    private readonly connectors: Connector[],
    private readonly views: ActiveViews,
    private readonly metrics: ConnectorMetrics,
    private readonly log: { warn(m: string): void; error(m: string): void },
    /** Where the per-view trails are kept over a clean restart; undefined to not keep them. */
    private readonly trailFile?: string,
  ) {
    this.trails = trailFile ? takeTrails(trailFile) : new Map();
    this.eventConnectors = connectors.filter((c) => c.acceptsEvents);
  }

  subscribe(events: PipelineEvents): void {
    events.on('batchApplied', ({ beacons, replay }) => (replay ? undefined : this.batch(beacons)));
    events.on('viewFinal', ({ view }) => this.trails.delete(`${view.envId}\u0000${view.viewId}`));
    events.on('tick', ({ nowMs }) => this.tick(nowMs));
  }

  private async batch(applied: readonly AppliedBeacon[]): Promise<void> {
    if (this.eventConnectors.length === 0) return;
    const built = this.build(applied);
    if (built.length === 0) return;
    await Promise.all(this.eventConnectors.map((c) => this.appendTo(c, built)));
  }

  private build(applied: readonly AppliedBeacon[]): Built[] {
    const out: Built[] = [];
    for (const a of applied) {
      const view = a.view;
      if (!view) continue;
      const viewKey = `${view.envId}\u0000${view.viewId}`;
      const trail = entry(this.trails, viewKey, newTrail);
      const items = [...a.items].sort((x, y) => x.seq - y.seq);
      let metrics: ViewMetrics | undefined;
      for (const item of items) {
        if (item.kind === 'segment') {
          // Samples are not sent; they feed the trail (heartbeat time, rendition, player size).
          const f = item.facts;
          const endMs = view.eventTime(item.deviceStartMs + item.durationMs);
          trail.lastHeartbeatMs = Math.max(trail.lastHeartbeatMs, endMs);
          if (f.videoBitrateBps > 0) trail.lastBitrateBps = f.videoBitrateBps;
          if (f.playerWidth > 0) trail.playerWidth = f.playerWidth;
          if (f.playerHeight > 0) trail.playerHeight = f.playerHeight;
          continue;
        }
        metrics ??= view.machine.metrics(view.status === 'completed');
        const envelope = buildEnvelope({
          view,
          metrics,
          trail,
          event: item.facts as PlayerEvent,
          receivedAtMs: a.arrival.receivedAtMs,
          userAgent: a.arrival.userAgent,
        });
        const record = {
          id: envelope.event_id,
          key: '',
          dueAtMs: 0,
          payload: Buffer.from(JSON.stringify(envelope)),
        };
        out.push({ envelope, record, envId: view.envId, viewKey });
      }
    }
    return out;
  }

  private async appendTo(c: Connector, built: Built[]): Promise<void> {
    const records: QueueRecord[] = [];
    for (const b of built) {
      const skip = c.filter.skip(b.envelope.event.type, b.envId, b.viewKey);
      if (skip) this.metrics.skipped.labels(c.name, skip).inc();
      else records.push(b.record);
    }
    if (records.length === 0) return;
    // Too large or, with `drop`, beyond a full buffer: dropped and counted by the core.
    const durable = c.delivery.offer(records);
    if (!c.delivery.queue.holding) return durable;
    // `block`, buffer full: the pipeline waits for room a while, then pauses and offers the batch again
    // (the ids already queued or held are skipped).
    let timer: NodeJS.Timeout | undefined;
    const giveUp = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`connector ${c.name}: buffer full; the pipeline waits for room`)),
        BLOCK_RETRY_MS,
      );
    });
    try {
      await Promise.race([durable, giveUp]);
    } finally {
      clearTimeout(timer);
    }
  }

  private tick(nowMs: number): void {
    for (const c of this.connectors) c.tick?.(nowMs);
    // Trails of views that are gone without a 'final' change (kept over a restart) are dropped here.
    if (nowMs - this.lastPruneMs >= 60_000) {
      this.lastPruneMs = nowMs;
      const live = new Set<string>();
      for (const v of this.views.values()) live.add(`${v.envId}\u0000${v.viewId}`);
      for (const key of this.trails.keys()) if (!live.has(key)) this.trails.delete(key);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.connectors.map((c) => c.delivery.close()));
    if (this.trailFile) {
      try {
        saveTrails(this.trailFile, this.trails);
      } catch (err) {
        this.log.warn(`connectors: could not keep the view trails: ${(err as Error).message}`);
      }
    }
  }
}
