/**
 * Alerting settings (docs/alerting.md): rules declared in the config file
 * (read-only through the API) and the base URL of notification links. A
 * rule's own fields are those of `POST /system/v1/alert-rules`, checked when
 * the server starts (every bad field named).
 */
import { Type } from '@sinclair/typebox';

const ConfigRuleSchema = Type.Object(
  {
    id: Type.String({
      pattern: '^[A-Za-z0-9_.-]{1,64}$',
      description: 'The rule’s id: stable, so its incidents stay linked to it across restarts',
    }),
    environment: Type.String({
      default: 'default',
      description: 'The environment’s id or name',
    }),
  },
  {
    additionalProperties: true,
    description: 'An alert rule: id, environment, and the fields of an API rule (name, metric, condition, …)',
  },
);

export const AlertsConfigSchema = Type.Object(
  {
    rules: Type.Array(ConfigRuleSchema, {
      default: [],
      description:
        'Alert rules, read-only through the API: each an `id`, an `environment` (id or name; default `default`) and the fields of a rule of POST /system/v1/alert-rules (docs/alerting.md)',
    }),
    historyDays: Type.Integer({
      minimum: 1,
      maximum: 400,
      default: 28,
      description:
        'Days the per-series minute history (the sums of every real-time metric, per dimension value) is kept, for backtests and anomaly baselines',
    }),
    historyValuesPerDimension: Type.Integer({
      minimum: 1,
      maximum: 100_000,
      default: 1000,
      description:
        'Values of each breakdown dimension kept per minute in that history: the most watched of the day',
    }),
    publicUrl: Type.String({
      default: '',
      description: 'Base URL of this server in notification links; empty: the address it listens on',
    }),
  },
  { additionalProperties: false, default: {} },
);
