/**
 * The alerting API's shapes the Alerts pages read and send: the server's own
 * response schemas from @openqoe/schema, imported as types only (the bundle
 * carries none of them, and an API change that breaks a page fails
 * `npm run check`), and the choices the pages list.
 */
import type { AlertSeverity, Incident } from '@openqoe/schema';

export type {
  AlertRule,
  AlertRuleInput,
  AlertRuleListResponse,
  AlertRuleResponse,
  AlertSeverity,
  BacktestResponse,
  IncidentListResponse,
  IncidentResponse,
  NotificationChannelListResponse,
  SilenceInput,
  SilenceListResponse,
} from '@openqoe/schema';

/** The schema's ALERT_SEVERITIES, most severe first (repeated here: importing the value would bundle TypeBox). */
export const SEVERITIES = [
  'critical',
  'error',
  'warning',
  'info',
] as const satisfies readonly AlertSeverity[];
/** The schema's INCIDENT_STATUSES. */
export const INCIDENT_STATUSES = [
  'open',
  'acknowledged',
  'resolved',
] as const satisfies readonly Incident['status'][];
