/**
 * The counters every connector reports, labelled by connector name, on the
 * server's Prometheus registry (`/metrics`), and what the delivery core
 * reports for one connector, under them.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DeliveryCounters } from '../delivery/delivery.js';

export function createConnectorMetrics(registry: Registry) {
  return {
    sent: new Counter({
      name: 'openqoe_connector_events_sent_total',
      help: 'Events the destination accepted',
      labelNames: ['connector'] as const,
      registers: [registry],
    }),
    failed: new Counter({
      name: 'openqoe_connector_events_failed_total',
      help: 'Events the destination refused for good (e.g. HTTP 400 for a single event); logged',
      labelNames: ['connector'] as const,
      registers: [registry],
    }),
    retried: new Counter({
      name: 'openqoe_connector_retries_total',
      help: 'Requests retried, by reason (HTTP status, network, partial)',
      labelNames: ['connector', 'reason'] as const,
      registers: [registry],
    }),
    dropped: new Counter({
      name: 'openqoe_connector_events_dropped_total',
      help: 'Events not buffered, by reason (buffer_full, too_large); logged',
      labelNames: ['connector', 'reason'] as const,
      registers: [registry],
    }),
    skipped: new Counter({
      name: 'openqoe_connector_events_skipped_total',
      help: 'Events left out on purpose, by reason (event_type, environment, sampling)',
      labelNames: ['connector', 'reason'] as const,
      registers: [registry],
    }),
    buffered: new Gauge({
      name: 'openqoe_connector_buffered_events',
      help: 'Events on disk waiting for the destination',
      labelNames: ['connector'] as const,
      registers: [registry],
    }),
    bufferedBytes: new Gauge({
      name: 'openqoe_connector_buffered_bytes',
      help: 'Bytes on disk waiting for the destination',
      labelNames: ['connector'] as const,
      registers: [registry],
    }),
  };
}

export type ConnectorMetrics = ReturnType<typeof createConnectorMetrics>;

/** One connector's delivery, counted under the `openqoe_connector_*` names (label `connector`). */
export function connectorCounters(m: ConnectorMetrics, connector: string): DeliveryCounters {
  return {
    queued: () => {},
    dropped: (n, reason) => m.dropped.labels(connector, reason).inc(n),
    sent: (records) => m.sent.labels(connector).inc(records.length),
    retried: (reason) => m.retried.labels(connector, reason).inc(),
    refused: () => m.failed.labels(connector).inc(),
    buffered: (records, bytes) => {
      m.buffered.labels(connector).set(records);
      m.bufferedBytes.labels(connector).set(bytes);
    },
  };
}
