/**
 * Builds the configured connectors: checks the list (names, event types,
 * batch sizes within the destination's), looks each entry's destination up
 * by `type` (destinations/registry.ts), which checks what it requires and
 * reads its secrets, and opens it on the delivery core with its queue under
 * `{dataDir}/connectors/{name}/queue` (moving in what a previous version's
 * buffer in `{dataDir}/connectors/{name}/` still held).
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { ConnectorConfig } from '../../config/connectors-config.js';
import type { ActiveViews } from '../../pipeline/view-model/active-views.js';
import { Delivery } from '../delivery/delivery.js';
import type { BatchLimits } from '../delivery/destination.js';
import { previousDiskBuffer } from '../delivery/previous-queues.js';
import { type ConnectorMetrics, connectorCounters } from './connector-metrics.js';
import { ConnectorConfigError } from './connector-settings.js';
import { CONNECTORS } from './destinations/registry.js';
import { ENVELOPE_EVENT_TYPES } from './envelope.js';

type Log = { info(m: string): void; warn(m: string): void; error(m: string): void };

export type SkipReason = 'event_type' | 'environment' | 'sampling';

export class ConnectorFilter {
  private readonly types: Set<string> | undefined;
  private readonly envs: Set<string> | undefined;
  private readonly sampleCache = new Map<string, boolean>();

  constructor(
    eventTypes: readonly string[],
    environments: readonly string[],
    private readonly sampleRate: number,
  ) {
    this.types = eventTypes.length ? new Set(eventTypes) : undefined;
    this.envs = environments.length ? new Set(environments) : undefined;
  }

  /** Why an event is left out, or undefined when it is sent. */
  skip(eventType: string, envId: string, viewKey: string): SkipReason | undefined {
    if (this.types && !this.types.has(eventType)) return 'event_type';
    if (!this.allowsEnvironment(envId)) return 'environment';
    if (this.sampleRate < 1 && !this.sampled(viewKey)) return 'sampling';
    return undefined;
  }

  allowsEnvironment(envId: string): boolean {
    return !this.envs || this.envs.has(envId);
  }

  /** Per view, from a hash of its key: the same view is always in or out, on every server. */
  sampled(viewKey: string): boolean {
    let hit = this.sampleCache.get(viewKey);
    if (hit === undefined) {
      const h = createHash('sha1').update(viewKey).digest().readUInt32BE(0);
      hit = h / 0x1_0000_0000 < this.sampleRate;
      if (this.sampleCache.size > 100_000) this.sampleCache.clear();
      this.sampleCache.set(viewKey, hit);
    }
    return hit;
  }
}

export interface Connector {
  name: string;
  acceptsEvents: boolean;
  filter: ConnectorFilter;
  delivery: Delivery;
  /** Offers its own records on the view timer (a destination of aggregates). */
  tick?(nowMs: number): void;
}

/** Checks the whole list before anything is opened, so a bad entry stops the start cleanly. */
export function validateConnectors(configs: readonly ConnectorConfig[]): void {
  const names = new Set<string>();
  const known = new Set(Object.values(ENVELOPE_EVENT_TYPES));
  configs.forEach((c, i) => {
    const key = `connectors[${i}]`;
    if (names.has(c.name)) throw new ConnectorConfigError(`${key}.name: "${c.name}" is used twice`);
    names.add(c.name);
    for (const [j, t] of c.eventTypes.entries())
      if (!known.has(t))
        throw new ConnectorConfigError(
          `${key}.eventTypes[${j}]: unknown event type "${t}" (one of ${[...known].join(', ')})`,
        );
    const limits = CONNECTORS[c.type].limits;
    if (c.batchMaxEvents !== undefined && c.batchMaxEvents > limits.maxEvents)
      throw new ConnectorConfigError(
        `${key}.batchMaxEvents: ${c.type} takes at most ${limits.maxEvents} events per request`,
      );
    if (c.batchMaxBytes !== undefined && c.batchMaxBytes > limits.maxBytes)
      throw new ConnectorConfigError(
        `${key}.batchMaxBytes: ${c.type} takes at most ${limits.maxBytes} bytes per request`,
      );
  });
}

export async function openConnectors(
  configs: readonly ConnectorConfig[],
  deps: { dataDir: string; views: ActiveViews; metrics: ConnectorMetrics; log: Log; env?: NodeJS.ProcessEnv },
): Promise<Connector[]> {
  validateConnectors(configs);
  const out: Connector[] = [];
  try {
    for (const [i, c] of configs.entries())
      if (c.enabled) out.push(await openConnector(c, `connectors[${i}]`, deps));
  } catch (err) {
    for (const c of out) await c.delivery.close();
    throw err;
  }
  return out;
}

async function openConnector(
  c: ConnectorConfig,
  key: string,
  deps: { dataDir: string; views: ActiveViews; metrics: ConnectorMetrics; log: Log; env?: NodeJS.ProcessEnv },
): Promise<Connector> {
  const module = CONNECTORS[c.type];
  const base = module.limits;
  const limits: BatchLimits = {
    maxEvents: Math.min(c.batchMaxEvents ?? base.maxEvents, base.maxEvents),
    maxBytes: Math.min(c.batchMaxBytes ?? base.maxBytes, base.maxBytes),
    maxRecordBytes: base.maxRecordBytes,
  };
  const destination = module.create(c, { key, env: deps.env ?? process.env });
  const dir = join(deps.dataDir, 'connectors', c.name);
  const delivery = await Delivery.open(destination, {
    label: `connector ${c.name}`,
    nouns: ['event', 'events'],
    dir: join(dir, 'queue'),
    bufferMaxBytes: c.bufferMaxBytes,
    whenFull: c.whenFull,
    retry: { initialBackoffMs: c.retryInitialBackoffMs, maxBackoffMs: c.retryMaxBackoffMs },
    limits,
    maxDelayMs: c.batchMaxDelayMs,
    counters: connectorCounters(deps.metrics, c.name),
    log: deps.log,
    previous: previousDiskBuffer(dir),
  });
  const filter = new ConnectorFilter(c.eventTypes, c.environments, c.sampleRate);
  const connector: Connector = { name: c.name, acceptsEvents: !module.series, filter, delivery };
  const series = module.series?.(c, deps.views);
  if (series)
    connector.tick = (nowMs) => {
      const records = series(nowMs)
        .filter((s) => filter.allowsEnvironment(s.envId))
        .map((s) => s.record);
      // Aggregates are not held for: a full buffer drops them (counted).
      if (records.length)
        delivery
          .offer(records, 'drop')
          .catch((err: unknown) =>
            deps.log.error(`connector ${c.name}: cannot buffer series: ${(err as Error).message}`),
          );
    };
  deps.log.info(
    `connector ${c.name} (${c.type}): ${delivery.queue.records} events buffered from before, up to ${limits.maxEvents} per request`,
  );
  return connector;
}
