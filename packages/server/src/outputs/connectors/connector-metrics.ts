/**
 * The counters every connector reports, labelled by connector name, on the
 * server's Prometheus registry (`/metrics`), and what the delivery core
 * reports for one connector, under them.
 */
import type { Registry } from 'prom-client';
import { metricKit } from '../../observability/metrics.js';
import type { DeliveryCounters } from '../delivery/delivery.js';

export function createConnectorMetrics(registry: Registry) {
  const { counter, gauge } = metricKit(registry);
  return {
    sent: counter('openqoe_connector_events_sent_total', 'Events the destination accepted', ['connector']),
    failed: counter(
      'openqoe_connector_events_failed_total',
      'Events the destination refused for good (e.g. HTTP 400 for a single event); logged',
      ['connector'],
    ),
    retried: counter(
      'openqoe_connector_retries_total',
      'Requests retried, by reason (HTTP status, network, partial)',
      ['connector', 'reason'],
    ),
    dropped: counter(
      'openqoe_connector_events_dropped_total',
      'Events not buffered, by reason (buffer_full, too_large); logged',
      ['connector', 'reason'],
    ),
    skipped: counter(
      'openqoe_connector_events_skipped_total',
      'Events left out on purpose, by reason (event_type, environment, sampling)',
      ['connector', 'reason'],
    ),
    buffered: gauge('openqoe_connector_buffered_events', 'Events on disk waiting for the destination', [
      'connector',
    ]),
    bufferedBytes: gauge('openqoe_connector_buffered_bytes', 'Bytes on disk waiting for the destination', [
      'connector',
    ]),
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
