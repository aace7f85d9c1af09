/**
 * Prometheus metrics, one registry per server so tests can run several
 * servers in one process. Hot paths hold pre-labelled children.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Metric constructors that register on `registry` (never on prom-client's global one). */
export function metricKit(registry: Registry) {
  const registers = [registry];
  return {
    counter: <const L extends string = string>(name: string, help: string, labelNames: readonly L[] = []) =>
      new Counter<L>({ name, help, labelNames, registers }),
    gauge: <const L extends string = string>(name: string, help: string, labelNames: readonly L[] = []) =>
      new Gauge<L>({ name, help, labelNames, registers }),
    histogram: <const L extends string = string>(
      name: string,
      help: string,
      buckets: number[],
      labelNames: readonly L[] = [],
    ) => new Histogram<L>({ name, help, buckets, labelNames, registers }),
  };
}

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'openqoe_process_' });
  const { counter, gauge, histogram } = metricKit(registry);
  return {
    registry,
    httpRequests: counter('openqoe_http_requests_total', 'HTTP requests answered, by route and status', [
      'route',
      'method',
      'status',
    ]),
    beacons: counter(
      'openqoe_intake_beacons_total',
      'Beacons received, by outcome (accepted or an error code)',
      ['source', 'outcome'],
    ),
    samplesAccepted: counter(
      'openqoe_intake_samples_accepted_total',
      'Samples in beacons answered 202 (durable in the log)',
      ['source'],
    ),
    eventsAccepted: counter(
      'openqoe_intake_events_accepted_total',
      'Events in beacons answered 202 (durable in the log)',
      ['source'],
    ),
    keysIgnored: counter(
      'openqoe_intake_keys_ignored_total',
      'Keys dropped from accepted reports because they contradict the report (named in the answer), by key',
      ['source', 'key'],
    ),
    samplesRejected: counter(
      'openqoe_intake_samples_rejected_total',
      'Samples in refused beacons, by reason (error code)',
      ['source', 'reason'],
    ),
    rejectedRecorded: counter(
      'openqoe_rejected_payloads_recorded_total',
      'Refused payloads written to the rejected_payloads table',
    ),
    rejectedCapped: counter(
      'openqoe_rejected_payloads_capped_total',
      'Refused payloads not written because their environment reached its hourly cap (still counted)',
    ),
    rejectedUnrecorded: counter(
      'openqoe_rejected_unrecorded_total',
      'Refused payloads that could not be written to rejected_payloads (the store refused even the row alone)',
    ),
    busFsync: histogram(
      'openqoe_bus_fsync_seconds',
      'Duration of one group commit (write + fdatasync) of the embedded log',
      [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1],
    ),
    busCommitRecords: histogram(
      'openqoe_bus_group_commit_records',
      'Records made durable by one group commit',
      [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
    ),
    busLagBytes: gauge(
      'openqoe_bus_lag_bytes',
      'Bytes durable in the log but not yet processed by the pipeline',
    ),
    pipelineSamples: counter(
      'openqoe_pipeline_samples_stored_total',
      'Samples processed by the pipeline and committed to the store',
    ),
    pipelineEvents: counter(
      'openqoe_pipeline_events_stored_total',
      'Events processed by the pipeline and committed to the store',
    ),
    pipelineDuplicates: counter(
      'openqoe_pipeline_duplicates_total',
      'Samples and events dropped as duplicates of a stored (view_id, sequence_number)',
    ),
    viewsStored: counter(
      'openqoe_pipeline_views_stored_total',
      'View rows written (a view is written again when it reopens and completes again)',
    ),
    activeViews: gauge(
      'openqoe_active_views',
      'Views held in memory (in progress, or completed and still within 60 minutes)',
    ),
    storeWrite: histogram(
      'openqoe_store_write_seconds',
      'Duration of one raw-batch commit to the store',
      [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    ),
    storeWriteFailures: counter(
      'openqoe_store_write_failures_total',
      'Writes the store refused, by what they carried (raw: ledger and position; views; hand-off: a NATS store writer batch); each is retried',
      ['what'],
    ),
    pipelineStalled: gauge(
      'openqoe_pipeline_stalled',
      "1 while a writer waits for the store to take a write it refused: the pipeline (it reads nothing more from the bus), or the store writer of a NATS deployment's api node",
      ['writer'],
    ),
    ready: gauge('openqoe_ready', 'What /readyz last answered: 1 ready, 0 not (see its reasons)'),
    connectionsOpen: gauge('openqoe_connections_open', 'Open connections, by listener (http, mux, rtmp)', [
      'listener',
    ]),
    connectionsRefused: counter(
      'openqoe_connections_refused_total',
      'Connections closed as they were accepted, by listener and cap (total, address, trusted_proxy)',
      ['listener', 'cap'],
    ),
    connectionsTimedOut: counter(
      'openqoe_connections_timed_out_total',
      'Connections closed by a timeout, by listener and stage (handshake, request, idle)',
      ['listener', 'stage'],
    ),
    connectionErrors: counter(
      'openqoe_connection_errors_total',
      'Connections that failed (reset, malformed HTTP, TLS errors), by listener and error code',
      ['listener', 'code'],
    ),
    rollupQueries: counter(
      'openqoe_query_metrics_requests_total',
      'Metrics queries, by where whole hours were read: the ClickHouse rollup (source="rollup") or the views',
      ['source'],
    ),
    rollupRefreshedHours: counter(
      'openqoe_store_rollup_refreshed_hours_total',
      'Hours of the views rollup recomputed (ClickHouse store)',
    ),
    rollupDirtyHours: gauge(
      'openqoe_store_rollup_dirty_hours',
      'Hours changed since their last rollup refresh, read from the views until refreshed (ClickHouse store)',
    ),
    alertEvaluation: histogram(
      'openqoe_alert_evaluation_seconds',
      'Time one evaluation of alert rules takes: a real-time tick of one environment (all its rules), or one windowed rule (its store query)',
      [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 5],
      ['kind'],
    ),
    alertEvaluationCpu: counter(
      'openqoe_alert_evaluation_cpu_seconds_total',
      'CPU time of the server process (all its threads) while alert rules were evaluated; the engine runs on the main thread, so this leaves out waits for a core',
      ['kind'],
    ),
    errors: counter('openqoe_internal_errors_total', 'Internal errors, by component', ['component']),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
