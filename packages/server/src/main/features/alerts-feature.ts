/**
 * Alerting on an api node (the embedded server, or the api role of a
 * cluster, so rules are evaluated once, from the merged numbers): the engine
 * over the real-time ticks the APIs receive and the owned store, and the
 * routes of rules, silences and incidents; and the per-series minute
 * history written from the same ticks. The notifier is the
 * notifications output (outputs/notifications/), given by assemble().
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { AlertEngine } from '../../alerts/alert-engine.js';
import { AlertRepository } from '../../alerts/alert-repository.js';
import { configRules } from '../../alerts/config-rules.js';
import { SeriesHistory } from '../../alerts/series-history.js';
import { incidentsRoutes } from '../../api/data/incidents-routes.js';
import { alertRulesRoutes } from '../../api/system/alert-rules.js';
import { silencesRoutes } from '../../api/system/silences.js';
import type { Config } from '../../config/config-schema.js';
import type { Metrics } from '../../observability/metrics.js';
import type { Notifier } from '../../outputs/notifications/incident-notice.js';
import type { Feature, Log } from '../feature.js';
import type { OpenedStore } from '../open-store.js';
import type { Platform } from '../platform.js';
import type { RealtimeTicks } from './api-feature.js';

export async function alertsFeature(
  config: Config,
  app: FastifyInstance,
  platform: Platform & { owned: OpenedStore },
  realtime: RealtimeTicks,
  notifier: Notifier,
  metrics: Metrics,
  log: Log,
): Promise<Feature> {
  const { registry, owned } = platform;
  const repository = new AlertRepository(owned);
  const baseUrl = () => {
    if (config.alerts.publicUrl) return config.alerts.publicUrl;
    const a = app.server.address() as AddressInfo | null;
    return a ? `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` : '';
  };
  // Kept whether or not a rule exists, so a new rule has a past to be backtested on; each minute
  // written is handed to the anomaly rules.
  const history: SeriesHistory = new SeriesHistory(owned, {
    historyDays: config.alerts.historyDays,
    valuesPerDimension: config.alerts.historyValuesPerDimension,
    log,
    onMinute: (m) => engine.onMinute(m),
  });
  const engine = new AlertEngine({
    repository,
    store: owned,
    registry,
    notifier,
    filtered: realtime.filtered,
    history,
    configRules: await configRules(
      config.alerts.rules,
      registry,
      (e, c) => notifier.hasChannel(e, c),
      Date.now(),
    ),
    baseUrl,
    log,
    evaluated: (kind, seconds, cpuSeconds) => {
      metrics.alertEvaluation.observe({ kind }, seconds);
      metrics.alertEvaluationCpu.inc({ kind }, cpuSeconds);
    },
  });
  await engine.start();
  let written = Promise.resolve();
  realtime.onTick((t) => {
    engine.onTick(t).catch((err) => log.error(`alerts: evaluating a tick failed: ${(err as Error).message}`));
    written = written
      .then(() => history.onTick(t))
      .catch((err) => log.error(`alerts: series history: ${(err as Error).message}`));
  });
  await app.register(async (scope) => {
    const deps = { registry, engine, notifier, repository, history, historyDays: config.alerts.historyDays };
    alertRulesRoutes(scope, deps);
    silencesRoutes(scope, deps);
    incidentsRoutes(scope, deps);
  });
  return {
    name: 'alerts',
    close: async () => {
      await engine.close();
      await written;
      await history.flush();
    },
  };
}
