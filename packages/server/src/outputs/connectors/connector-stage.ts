/**
 * The connector stage on the pipeline seam: for every applied beacon it
 * builds one envelope per player event, and appends to each connector's disk
 * buffer what passes that connector's filters. `batch` resolves only when
 * every buffer has made its records durable, which holds the pipeline's
 * commit: after a crash the batch comes again and the buffers skip the ids
 * they already hold. Delivery happens apart, in each connector's loop.
 * Replayed batches (the start-up rebuild) were sent before: they are skipped.
 */
import type { PlayerEvent } from '@openqoe/schema';
import type { AppliedBeacon, PipelineEvents, PipelineStage } from '../../pipeline/pipeline-events.js';
import type { ActiveViews } from '../../pipeline/view-model/active-views.js';
import type { ViewMetrics } from '../../pipeline/view-model/view-machine.js';
import type { ConnectorMetrics } from './connector-metrics.js';
import type { Connector } from './connectors.js';
import { BufferFullError, type BufferRecord } from './disk-buffer.js';
import { buildEnvelope, type Envelope, newTrail, type ViewTrail } from './envelope.js';
import { saveTrails, takeTrails } from './trail-file.js';

/** Longest one batch waits for room in a full 'block' buffer before the pipeline pauses and retries. */
const BLOCK_RETRY_MS = 5000;

interface Built {
  envelope: Envelope;
  text: string;
  envId: string;
  viewKey: string;
}

export class ConnectorStage implements PipelineStage {
  readonly name = 'connectors';
  private readonly trails: Map<string, ViewTrail>;
  private readonly eventConnectors: Connector[];
  private lastDropLogMs = 0;
  private closed = false;
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
      let trail = this.trails.get(viewKey);
      if (!trail) {
        trail = newTrail();
        this.trails.set(viewKey, trail);
      }
      const items = [...a.items].sort((x, y) => x.seq - y.seq);
      let metrics: ViewMetrics | undefined;
      for (const item of items) {
        if (item.kind === 'segment') {
          // Samples are not sent; they feed the trail (heartbeat time, rendition, player size).
          const f = item.facts;
          trail.lastHeartbeatMs = Math.max(
            trail.lastHeartbeatMs,
            view.eventTime(item.deviceStartMs + item.durationMs),
          );
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
        out.push({ envelope, text: JSON.stringify(envelope), envId: view.envId, viewKey });
      }
    }
    return out;
  }

  private async appendTo(c: Connector, built: Built[]): Promise<void> {
    const records: BufferRecord[] = [];
    const name = c.name;
    for (const b of built) {
      const skip = c.filter.skip(b.envelope.event.type, b.envId, b.viewKey);
      if (skip) {
        this.metrics.skipped.labels(name, skip).inc();
        continue;
      }
      if (Buffer.byteLength(b.text) > c.limits.maxRecordBytes) {
        this.metrics.dropped.labels(name, 'too_large').inc();
        this.warnDrop(`connector ${name}: event ${b.envelope.event_id} is larger than the destination takes`);
        continue;
      }
      records.push({ id: b.envelope.event_id, text: b.text });
    }
    if (records.length === 0) return;
    if (c.whenFull === 'block') {
      await this.appendHolding(c, records);
    } else {
      const result = await c.buffer.append(records, 'drop');
      if (result.full > 0) {
        this.metrics.dropped.labels(name, 'buffer_full').inc(result.full);
        this.warnDrop(
          `connector ${name}: buffer full, dropped ${result.full} events (raise bufferMaxBytes or fix the destination)`,
        );
      }
    }
    c.delivery.notify();
  }

  /**
   * 'block' mode: appends as room frees up, holding the pipeline meanwhile.
   * After BLOCK_RETRY_MS without finishing it gives up for now; the pipeline
   * offers the batch again after a pause, and ids already buffered are skipped.
   */
  private async appendHolding(c: Connector, records: BufferRecord[]): Promise<void> {
    const deadline = Date.now() + BLOCK_RETRY_MS;
    for (;;) {
      try {
        await c.buffer.append(records, 'block');
        return;
      } catch (err) {
        if (!(err instanceof BufferFullError) || this.closed || Date.now() >= deadline) throw err;
        this.warnDrop(`connector ${c.name}: ${err.message}; holding the pipeline until there is room`);
        c.delivery.notify();
        await c.buffer.waitForRoom(Math.max(1, deadline - Date.now()));
      }
    }
  }

  private warnDrop(message: string): void {
    const now = Date.now();
    if (now - this.lastDropLogMs < 10_000) return;
    this.lastDropLogMs = now;
    this.log.warn(message);
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
    this.closed = true;
    await Promise.all(this.connectors.map((c) => c.close()));
    if (this.trailFile) {
      try {
        saveTrails(this.trailFile, this.trails);
      } catch (err) {
        this.log.warn(`connectors: could not keep the view trails: ${(err as Error).message}`);
      }
    }
  }
}
