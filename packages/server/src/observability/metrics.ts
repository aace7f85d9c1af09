/**
 * Prometheus metrics, one registry per server so tests can run several
 * servers in one process. Hot paths hold pre-labelled children.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'openqoe_process_' });
  const m = {
    registry,
    httpRequests: new Counter({
      name: 'openqoe_http_requests_total',
      help: 'HTTP requests answered, by route and status',
      labelNames: ['route', 'method', 'status'] as const,
      registers: [registry],
    }),
    beacons: new Counter({
      name: 'openqoe_intake_beacons_total',
      help: 'Beacons received, by outcome (accepted or an error code)',
      labelNames: ['source', 'outcome'] as const,
      registers: [registry],
    }),
    samplesAccepted: new Counter({
      name: 'openqoe_intake_samples_accepted_total',
      help: 'Samples in beacons answered 202 (durable in the log)',
      labelNames: ['source'] as const,
      registers: [registry],
    }),
    eventsAccepted: new Counter({
      name: 'openqoe_intake_events_accepted_total',
      help: 'Events in beacons answered 202 (durable in the log)',
      labelNames: ['source'] as const,
      registers: [registry],
    }),
    samplesRejected: new Counter({
      name: 'openqoe_intake_samples_rejected_total',
      help: 'Samples in refused beacons, by reason (error code)',
      labelNames: ['source', 'reason'] as const,
      registers: [registry],
    }),
    rejectedRecorded: new Counter({
      name: 'openqoe_rejected_payloads_recorded_total',
      help: 'Refused payloads written to the rejected_payloads table',
      registers: [registry],
    }),
    rejectedCapped: new Counter({
      name: 'openqoe_rejected_payloads_capped_total',
      help: 'Refused payloads not written because their environment reached its hourly cap (still counted)',
      registers: [registry],
    }),
    busFsync: new Histogram({
      name: 'openqoe_bus_fsync_seconds',
      help: 'Duration of one group commit (write + fdatasync) of the embedded log',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1],
      registers: [registry],
    }),
    busCommitRecords: new Histogram({
      name: 'openqoe_bus_group_commit_records',
      help: 'Records made durable by one group commit',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
      registers: [registry],
    }),
    busLagBytes: new Gauge({
      name: 'openqoe_bus_lag_bytes',
      help: 'Bytes durable in the log but not yet processed by the pipeline',
      registers: [registry],
    }),
    pipelineSamples: new Counter({
      name: 'openqoe_pipeline_samples_stored_total',
      help: 'Samples processed by the pipeline and committed to the store',
      registers: [registry],
    }),
    pipelineEvents: new Counter({
      name: 'openqoe_pipeline_events_stored_total',
      help: 'Events processed by the pipeline and committed to the store',
      registers: [registry],
    }),
    pipelineDuplicates: new Counter({
      name: 'openqoe_pipeline_duplicates_total',
      help: 'Samples and events dropped as duplicates of a stored (view_id, sequence_number)',
      registers: [registry],
    }),
    viewsStored: new Counter({
      name: 'openqoe_pipeline_views_stored_total',
      help: 'View rows written (a view is written again when it reopens and completes again)',
      registers: [registry],
    }),
    activeViews: new Gauge({
      name: 'openqoe_active_views',
      help: 'Views held in memory (in progress, or completed and still within 60 minutes)',
      registers: [registry],
    }),
    storeWrite: new Histogram({
      name: 'openqoe_store_write_seconds',
      help: 'Duration of one raw-batch commit to the store',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    rollupQueries: new Counter({
      name: 'openqoe_query_metrics_requests_total',
      help: 'Metrics queries, by where whole hours were read: the ClickHouse rollup (source="rollup") or the views',
      labelNames: ['source'] as const,
      registers: [registry],
    }),
    rollupRefreshedHours: new Counter({
      name: 'openqoe_store_rollup_refreshed_hours_total',
      help: 'Hours of the views rollup recomputed (ClickHouse store)',
      registers: [registry],
    }),
    rollupDirtyHours: new Gauge({
      name: 'openqoe_store_rollup_dirty_hours',
      help: 'Hours changed since their last rollup refresh, read from the views until refreshed (ClickHouse store)',
      registers: [registry],
    }),
    alertEvaluation: new Histogram({
      name: 'openqoe_alert_evaluation_seconds',
      help: 'Time one evaluation of alert rules takes: a real-time tick of one environment (all its rules), or one windowed rule (its store query)',
      labelNames: ['kind'] as const,
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 5],
      registers: [registry],
    }),
    alertEvaluationCpu: new Counter({
      name: 'openqoe_alert_evaluation_cpu_seconds_total',
      help: 'CPU time of the server process (all its threads) while alert rules were evaluated; the engine runs on the main thread, so this leaves out waits for a core',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    errors: new Counter({
      name: 'openqoe_internal_errors_total',
      help: 'Internal errors, by component',
      labelNames: ['component'] as const,
      registers: [registry],
    }),
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
