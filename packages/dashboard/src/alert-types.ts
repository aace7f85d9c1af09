/**
 * The shapes the Alerts pages read and send: alert rules and silences
 * (/system/v1/alert-rules, /system/v1/silences), incidents
 * (/data/v1/incidents) and notification channels
 * (/system/v1/notification-channels). They mirror the server's response
 * schemas (packages/schema/src/api/alerts-api.ts and notification-api.ts)
 * field for field, for the fields the pages use; where those schemas are
 * exported by @openqoe/schema, these names can become re-exports of them.
 */

export const SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
export type AlertSeverity = (typeof SEVERITIES)[number];
export const INCIDENT_STATUSES = ['open', 'acknowledged', 'resolved'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

export interface AlertCondition {
  type: 'threshold';
  operator: '>' | '<';
  value: number;
  for_seconds: number;
  resolve_value?: number;
  resolve_for_seconds?: number;
  min_audience?: number;
}

/** The body of POST /system/v1/alert-rules and PUT …/{id}. */
export interface AlertRuleInput {
  name: string;
  metric: string;
  measurement?: string;
  window_seconds?: number;
  evaluate_every_seconds?: number;
  breakdown?: string | null;
  filters?: string[];
  condition: AlertCondition;
  severity?: AlertSeverity;
  description?: string;
  runbook_url?: string | null;
  channel_ids?: string[];
  enabled?: boolean;
}

export interface AlertRule {
  id: string;
  environment_id: string;
  /** `config`: declared in the config file, read-only through the API. */
  source: 'api' | 'config';
  name: string;
  metric: string;
  kind: 'realtime' | 'window';
  measurement: string | null;
  window_seconds: number | null;
  breakdown: string | null;
  filters: string[];
  condition: Required<AlertCondition>;
  severity: AlertSeverity;
  description: string;
  runbook_url: string | null;
  channel_ids: string[];
  enabled: boolean;
  /** Incidents open or acknowledged now. */
  open_incidents: number;
}

export interface SilenceInput {
  rule_id?: string | null;
  breakdown?: string | null;
  breakdown_value?: string | null;
  starts_at?: string;
  ends_at: string;
  comment?: string;
}

export interface Silence {
  id: string;
  rule_id: string | null;
  breakdown: string | null;
  breakdown_value: string | null;
  starts_at: string;
  ends_at: string;
  comment: string;
  /** Whether it mutes now. */
  active: boolean;
}

export interface IncidentTransition {
  /** trigger, acknowledge or resolve. */
  transition: string;
  at: string;
  value: number | null;
  delivery: string;
}

export interface Incident {
  id: string;
  status: IncidentStatus;
  rule_id: string;
  rule_name: string;
  metric: string;
  breakdown: string | null;
  breakdown_value: string | null;
  filters: string[];
  severity: AlertSeverity;
  operator: '>' | '<';
  threshold: number;
  resolve_value: number;
  open_value: number;
  worst_value: number;
  last_value: number | null;
  /** The largest audience while open: viewers (real-time) or views (windowed). */
  audience: number;
  example_view_ids: string[];
  muted: boolean;
  started_at: string;
  acknowledged_at: string | null;
  resolved_at: string | null;
  transitions?: IncidentTransition[];
}

export interface NotificationChannel {
  id: string;
  name: string;
  type: string;
}

export interface One<T> {
  data: T;
}
export interface List<T> {
  data: T[];
  total_row_count: number;
}
