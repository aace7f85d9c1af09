/**
 * The monitoring stream's counters, registered on the server's /metrics
 * registry, and what the delivery core reports for one sink, under them.
 */
import type { Registry } from 'prom-client';
import { metricKit } from '../../../observability/metrics.js';
import type { DeliveryCounters } from '../../delivery/delivery.js';

export function createMonitoringMetrics(registry: Registry) {
  const { counter, gauge, histogram } = metricKit(registry);
  return {
    records: counter(
      'openqoe_monitoring_records_total',
      'Monitoring records emitted, by kind (window or instant)',
      ['kind'],
    ),
    lateRecords: counter(
      'openqoe_monitoring_late_records_total',
      'Data for windows already emitted (counted, not re-emitted)',
    ),
    payloadsQueued: counter(
      'openqoe_monitoring_payloads_queued_total',
      'Payloads written to a sink’s disk buffer',
      ['sink'],
    ),
    payloadsSent: counter(
      'openqoe_monitoring_payloads_sent_total',
      'Payloads acknowledged by a sink’s destination',
      ['sink'],
    ),
    bytesSent: counter(
      'openqoe_monitoring_bytes_sent_total',
      'Payload bytes acknowledged by a sink’s destination',
      ['sink'],
    ),
    sendErrors: counter('openqoe_monitoring_send_errors_total', 'Failed deliveries (each is retried)', [
      'sink',
    ]),
    dropped: counter(
      'openqoe_monitoring_dropped_payloads_total',
      'Payloads refused because a sink’s disk buffer was full',
      ['sink'],
    ),
    rejected: counter(
      'openqoe_monitoring_rejected_payloads_total',
      'Payloads a sink’s destination refused for good, by status; kept in the sink’s dead-letter directory',
      ['sink', 'status'],
    ),
    buffered: gauge(
      'openqoe_monitoring_buffered_bytes',
      'Bytes in a sink’s disk buffer not yet acknowledged',
      ['sink'],
    ),
    ackLag: histogram(
      'openqoe_monitoring_ack_lag_seconds',
      'From a payload’s emission point (window end + allowed lateness) to the sink’s acknowledgement',
      [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 5, 10, 30, 60, 300],
      ['sink'],
    ),
  };
}

export type MonitoringMetrics = ReturnType<typeof createMonitoringMetrics>;

/** One sink's delivery, counted under the `openqoe_monitoring_*` names (label `sink`). */
export function sinkCounters(m: MonitoringMetrics, sink: string): DeliveryCounters {
  return {
    queued: (n) => m.payloadsQueued.labels(sink).inc(n),
    dropped: (n) => m.dropped.labels(sink).inc(n),
    sent: (records) => {
      const now = Date.now();
      let bytes = 0;
      for (const r of records) {
        bytes += r.payload.length;
        m.ackLag.labels(sink).observe(Math.max(0, now - r.dueAtMs) / 1000);
      }
      m.payloadsSent.labels(sink).inc(records.length);
      m.bytesSent.labels(sink).inc(bytes);
    },
    retried: () => m.sendErrors.labels(sink).inc(),
    refused: (_, status) => m.rejected.labels(sink, status).inc(),
    buffered: (_, bytes) => m.buffered.labels(sink).set(bytes),
  };
}
