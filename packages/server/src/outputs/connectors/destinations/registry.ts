/**
 * The connectors' destinations by config `type`: connectors.ts looks each
 * entry's module up here. A new destination is one module of the same
 * shape, listed here (and its type in config/connectors-config.ts).
 */
import type { ConnectorType } from '../../../config/connectors-config.js';
import type { ConnectorModule } from '../connector-settings.js';
import { datadogLogs } from './datadog-logs.js';
import { datadogMetrics } from './datadog-metrics.js';
import { firehose } from './firehose.js';
import { newRelic } from './new-relic.js';
import { splunkHec } from './splunk-hec.js';
import { webhook } from './webhook.js';

export const CONNECTORS: Record<ConnectorType, ConnectorModule> = {
  splunk_hec: splunkHec,
  datadog_logs: datadogLogs,
  datadog_metrics: datadogMetrics,
  new_relic: newRelic,
  firehose,
  webhook,
};
