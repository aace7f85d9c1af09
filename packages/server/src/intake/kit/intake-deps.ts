/**
 * What the assembly (main/) hands every intake: the bus it publishes to, the
 * registry its environment keys resolve in, the metrics it counts in, the
 * recorder that keeps what it refuses, and the admission of new views.
 */
import type { Registry } from '../../auth/registry.js';
import type { Bus } from '../../bus/bus.js';
import type { IntakeMeta } from '../../bus/intake-record.js';
import type { Metrics } from '../../observability/metrics.js';
import type { RejectedRecorder } from './rejected-recorder.js';
import type { ViewAdmission } from './view-admission.js';

export interface IntakeDeps {
  bus: Bus;
  registry: Registry;
  metrics: Metrics;
  rejected: RejectedRecorder;
  admission: ViewAdmission;
}

/** The `source` label of the intake metrics, and the `kind` of the bus records. */
export type IntakeSource = IntakeMeta['kind'];
