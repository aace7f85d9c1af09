/**
 * The monitoring stream's counters, registered on the server's /metrics
 * registry, and what the delivery core reports for one sink, under them.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { DeliveryCounters } from '../../delivery/delivery.js';

export function createMonitoringMetrics(registry: Registry) {
  const registers = [registry];
  return {
    records: new Counter({
      name: 'openqoe_monitoring_records_total',
      help: 'Monitoring records emitted, by kind (window or instant)',
      labelNames: ['kind'] as const,
      registers,
    }),
    lateRecords: new Counter({
      name: 'openqoe_monitoring_late_records_total',
      help: 'Data for windows already emitted (counted, not re-emitted)',
      registers,
    }),
    payloadsQueued: new Counter({
      name: 'openqoe_monitoring_payloads_queued_total',
      help: 'Payloads written to a sink’s disk buffer',
      labelNames: ['sink'] as const,
      registers,
    }),
    payloadsSent: new Counter({
      name: 'openqoe_monitoring_payloads_sent_total',
      help: 'Payloads acknowledged by a sink’s destination',
      labelNames: ['sink'] as const,
      registers,
    }),
    bytesSent: new Counter({
      name: 'openqoe_monitoring_bytes_sent_total',
      help: 'Payload bytes acknowledged by a sink’s destination',
      labelNames: ['sink'] as const,
      registers,
    }),
    sendErrors: new Counter({
      name: 'openqoe_monitoring_send_errors_total',
      help: 'Failed deliveries (each is retried)',
      labelNames: ['sink'] as const,
      registers,
    }),
    dropped: new Counter({
      name: 'openqoe_monitoring_dropped_payloads_total',
      help: 'Payloads refused because a sink’s disk buffer was full',
      labelNames: ['sink'] as const,
      registers,
    }),
    rejected: new Counter({
      name: 'openqoe_monitoring_rejected_payloads_total',
      help: 'Payloads a sink’s destination refused for good, by status; kept in the sink’s dead-letter directory',
      labelNames: ['sink', 'status'] as const,
      registers,
    }),
    buffered: new Gauge({
      name: 'openqoe_monitoring_buffered_bytes',
      help: 'Bytes in a sink’s disk buffer not yet acknowledged',
      labelNames: ['sink'] as const,
      registers,
    }),
    ackLag: new Histogram({
      name: 'openqoe_monitoring_ack_lag_seconds',
      help: 'From a payload’s emission point (window end + allowed lateness) to the sink’s acknowledgement',
      labelNames: ['sink'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 5, 10, 30, 60, 300],
      registers,
    }),
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
