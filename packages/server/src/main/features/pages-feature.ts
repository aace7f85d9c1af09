/**
 * What a person opens in a browser, and the ops routes every node serves:
 * /healthz and /metrics always; the dashboard (/ui/) on api nodes; the demo
 * page (/demo/) only where both the intake and the APIs run.
 */
import type { FastifyInstance } from 'fastify';
import { demoRoutes } from '../../api/demo/demo-routes.js';
import { opsRoutes } from '../../api/ops-routes.js';
import { uiRoutes } from '../../api/ui/ui-routes.js';
import type { Config } from '../../config/config-schema.js';
import type { Metrics } from '../../observability/metrics.js';
import type { Feature } from '../feature.js';
import type { Platform } from '../platform.js';
import type { Roles } from '../roles.js';

export async function pagesFeature(
  config: Config,
  app: FastifyInstance,
  platform: Platform,
  runs: Roles,
  metrics: Metrics,
  /** Optional listeners that could not start, filled in as they start: /healthz lists them. */
  listenersOff: readonly string[],
): Promise<Feature> {
  await app.register(async (scope) => {
    opsRoutes(scope, {
      bus: platform.bus,
      metrics,
      registry: platform.registry,
      requireToken: config.metrics.requireToken,
      startedAtMs: Date.now(),
      listenersOff,
      dataDir: config.dataDir,
      readiness: config.readiness,
      ...(config.cluster.bus ? {} : { maxBacklogBytes: config.bus.maxBacklogBytes }),
    });
    // Demo page (/demo/): a test video with the browser collector attached.
    if (config.demo.enabled && runs.ingest && runs.api)
      demoRoutes(scope, { registry: platform.registry, dataDir: config.dataDir });
    // The dashboard (/ui/, and / redirects there): the built single-page app.
    if (config.ui.enabled && runs.api) await uiRoutes(scope, { distDir: config.ui.distDir });
    else scope.get('/', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/docs'));
  });
  return { name: 'pages' };
}
