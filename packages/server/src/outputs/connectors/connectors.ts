/**
 * Builds the configured connectors: checks what each destination requires
 * (naming the config key when something is missing), reads secrets, opens
 * each connector's disk buffer under `{dataDir}/connectors/{name}` and starts
 * its delivery loop.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { ConnectorConfig } from '../../config/connectors-config.js';
import { ConfigError } from '../../config/load-config.js';
import type { ActiveViews } from '../../pipeline/view-model/active-views.js';
import type { ConnectorMetrics } from './connector-metrics.js';
import { Delivery } from './delivery.js';
import type { BatchLimits, Destination } from './destination.js';
import { DATADOG_LOGS_LIMITS, datadogLogsDestination, datadogLogsUrl } from './destinations/datadog-logs.js';
import {
  DATADOG_METRICS_LIMITS,
  datadogMetricsDestination,
  datadogSeriesUrl,
  qoeSeries,
} from './destinations/datadog-metrics.js';
import { FIREHOSE_LIMITS, firehoseDestination } from './destinations/firehose.js';
import { NEW_RELIC_LIMITS, newRelicDestination, newRelicUrl } from './destinations/new-relic.js';
import { SPLUNK_HEC_LIMITS, splunkHecDestination } from './destinations/splunk-hec.js';
import { WEBHOOK_LIMITS, webhookDestination } from './destinations/webhook.js';
import { DiskBuffer } from './disk-buffer.js';
import { ENVELOPE_EVENT_TYPES } from './envelope.js';
import { readSecret } from './secrets.js';

/** A connector entry that cannot work; the server does not start (the message names the key). */
export class ConnectorConfigError extends ConfigError {}

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
  limits: BatchLimits;
  whenFull: 'drop' | 'block';
  filter: ConnectorFilter;
  buffer: DiskBuffer;
  delivery: Delivery;
  tick?(nowMs: number): void;
  close(): Promise<void>;
}

interface Built {
  destination: Destination;
  defaultCompression: 'gzip' | 'none';
}

function required<T>(value: T | undefined, key: string, type: string): T {
  if (value === undefined || value === '')
    throw new ConnectorConfigError(`${key}: is required for type "${type}"`);
  return value;
}

function destinationFor(c: ConnectorConfig, key: string, env: NodeJS.ProcessEnv): Built {
  const timeout = c.requestTimeoutMs;
  const compression = (d: 'gzip' | 'none') => c.compression ?? d;
  const secret = (field: 'token' | 'apiKey') =>
    readSecret(required(c[field], `${key}.${field}`, c.type), `${key}.${field}`, env);
  switch (c.type) {
    case 'splunk_hec':
      return {
        defaultCompression: 'gzip',
        destination: splunkHecDestination({
          url: required(c.url, `${key}.url`, c.type),
          token: secret('token'),
          host: c.host ?? hostname(),
          source: c.source,
          sourcetype: c.sourcetype,
          index: c.index,
          compression: compression('gzip'),
          requestTimeoutMs: timeout,
        }),
      };
    case 'datadog_logs':
      return {
        defaultCompression: 'gzip',
        destination: datadogLogsDestination({
          url: c.url ?? datadogLogsUrl(c.site),
          apiKey: secret('apiKey'),
          hostname: c.host ?? hostname(),
          service: c.service,
          ddsource: c.source,
          tags: c.tags,
          compression: compression('gzip'),
          requestTimeoutMs: timeout,
        }),
      };
    case 'datadog_metrics':
      return {
        defaultCompression: 'gzip',
        destination: datadogMetricsDestination({
          url: c.url ?? datadogSeriesUrl(c.site),
          apiKey: secret('apiKey'),
          tags: c.tags,
          compression: compression('gzip'),
          requestTimeoutMs: timeout,
        }),
      };
    case 'new_relic': {
      const region = c.region ?? 'us';
      if (region !== 'us' && region !== 'eu')
        throw new ConnectorConfigError(`${key}.region: must be "us" or "eu" for type "new_relic"`);
      return {
        defaultCompression: 'gzip',
        destination: newRelicDestination({
          url: c.url ?? newRelicUrl(required(c.accountId, `${key}.accountId`, c.type), region),
          apiKey: secret('apiKey'),
          keyHeader: c.keyHeader,
          eventType: c.eventType,
          compression: compression('gzip'),
          requestTimeoutMs: timeout,
        }),
      };
    }
    case 'firehose': {
      if ((c.accessKeyId === undefined) !== (c.secretAccessKey === undefined))
        throw new ConnectorConfigError(`${key}: give both accessKeyId and secretAccessKey, or neither`);
      return {
        defaultCompression: 'none',
        destination: firehoseDestination({
          deliveryStreamName: required(c.deliveryStreamName, `${key}.deliveryStreamName`, c.type),
          region: required(c.region, `${key}.region`, c.type),
          endpoint: c.url,
          credentials:
            c.accessKeyId && c.secretAccessKey
              ? {
                  accessKeyId: readSecret(c.accessKeyId, `${key}.accessKeyId`, env),
                  secretAccessKey: readSecret(c.secretAccessKey, `${key}.secretAccessKey`, env),
                }
              : undefined,
          requestTimeoutMs: timeout,
        }),
      };
    }
    case 'webhook':
      return {
        defaultCompression: 'none',
        destination: webhookDestination({
          url: required(c.url, `${key}.url`, c.type),
          headers: c.headers,
          signingSecret: c.signingSecret
            ? readSecret(c.signingSecret, `${key}.signingSecret`, env)
            : undefined,
          signatureHeader: c.signatureHeader,
          compression: compression('none'),
          requestTimeoutMs: timeout,
        }),
      };
  }
}

const LIMITS: Record<ConnectorConfig['type'], BatchLimits> = {
  splunk_hec: SPLUNK_HEC_LIMITS,
  datadog_logs: DATADOG_LOGS_LIMITS,
  datadog_metrics: DATADOG_METRICS_LIMITS,
  new_relic: NEW_RELIC_LIMITS,
  firehose: FIREHOSE_LIMITS,
  webhook: WEBHOOK_LIMITS,
};

/** Checks the whole list before anything is opened, so a bad entry stops the start cleanly. */
export function validateConnectors(configs: readonly ConnectorConfig[]): void {
  const names = new Set<string>();
  const known = new Set(Object.values(ENVELOPE_EVENT_TYPES));
  configs.forEach((c, i) => {
    const key = `connectors[${i}]`;
    if (names.has(c.name)) throw new ConnectorConfigError(`${key}.name: "${c.name}" is used twice`);
    names.add(c.name);
    c.eventTypes.forEach((t, j) => {
      if (!known.has(t))
        throw new ConnectorConfigError(
          `${key}.eventTypes[${j}]: unknown event type "${t}" (one of ${[...known].join(', ')})`,
        );
    });
    const limits = LIMITS[c.type];
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
  for (const [i, c] of configs.entries()) {
    if (!c.enabled) continue;
    const { destination } = destinationFor(c, `connectors[${i}]`, deps.env ?? process.env);
    const base = LIMITS[c.type];
    const limits: BatchLimits = {
      maxEvents: Math.min(c.batchMaxEvents ?? base.maxEvents, base.maxEvents),
      maxBytes: Math.min(c.batchMaxBytes ?? base.maxBytes, base.maxBytes),
      maxRecordBytes: base.maxRecordBytes,
    };
    const buffer = await DiskBuffer.open({
      dir: join(deps.dataDir, 'connectors', c.name),
      maxBytes: c.bufferMaxBytes,
      segmentBytes: Math.max(64 * 1024, Math.min(16 * 1024 * 1024, Math.floor(c.bufferMaxBytes / 8))),
    });
    const delivery = new Delivery(buffer, destination, deps.metrics, {
      name: c.name,
      limits,
      maxDelayMs: c.batchMaxDelayMs,
      retry: { initialBackoffMs: c.retryInitialBackoffMs, maxBackoffMs: c.retryMaxBackoffMs },
      log: deps.log,
    });
    const filter = new ConnectorFilter(c.eventTypes, c.environments, c.sampleRate);
    const connector: Connector = {
      name: c.name,
      acceptsEvents: c.type !== 'datadog_metrics',
      limits,
      whenFull: c.whenFull,
      filter,
      buffer,
      delivery,
      close: async () => {
        await delivery.stop();
        await buffer.close();
      },
    };
    if (c.type === 'datadog_metrics')
      connector.tick = seriesTicker(c, connector, deps.views, deps.metrics, deps.log);
    delivery.start();
    out.push(connector);
    deps.log.info(
      `connector ${c.name} (${c.type}): ${buffer.records} events buffered from before, up to ${limits.maxEvents} per request`,
    );
  }
  return out;
}

/** Appends one set of series per interval boundary, on the view timer. */
function seriesTicker(
  c: ConnectorConfig,
  connector: Connector,
  views: ActiveViews,
  metrics: ConnectorMetrics,
  log: Log,
): (nowMs: number) => void {
  const interval = c.metricsIntervalMs;
  let last = Math.floor(Date.now() / interval) * interval;
  return (nowMs) => {
    const end = Math.floor(nowMs / interval) * interval;
    if (end <= last) return;
    last = end;
    const series = qoeSeries(views, end, interval, c.tags).filter((s) =>
      connector.filter.allowsEnvironment(s.tags[0]!.slice('env:'.length)),
    );
    if (series.length === 0) return;
    const records = series.map((s) => ({ id: `${s.metric}|${s.tags[0]}|${end}`, text: JSON.stringify(s) }));
    connector.buffer
      .append(records, 'drop')
      .then((r) => {
        if (r.full) metrics.dropped.labels(connector.name, 'buffer_full').inc(r.full);
        connector.delivery.notify();
      })
      .catch((err: unknown) =>
        log.error(`connector ${c.name}: cannot buffer series: ${(err as Error).message}`),
      );
  };
}
