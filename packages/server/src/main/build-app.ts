/**
 * Builds the HTTP application: error envelope, CORS, OpenAPI docs, and the
 * routes in the order data flows — sources (intake), then the APIs.
 */
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { BeaconSchema, PlayerEventSchema, SampleSchema } from '@openqoe/schema';
import { Type } from '@sinclair/typebox';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { metricsRoutes } from '../api/data/metrics-routes.js';
import { videoViewsRoutes } from '../api/data/video-views-routes.js';
import { demoRoutes } from '../api/demo/demo-routes.js';
import { attachOpenApiExamples } from '../api/openapi-examples.js';
import { opsRoutes } from '../api/ops-routes.js';
import { systemAccessTokensRoutes } from '../api/system/system-access-tokens.js';
import { systemEnvironmentsRoutes } from '../api/system/system-environments.js';
import { uiRoutes } from '../api/ui/ui-routes.js';
import type { Registry } from '../auth/registry.js';
import type { Bus } from '../bus/bus.js';
import type { Config } from '../config/config-schema.js';
import { installErrorHandling } from '../http/api-error.js';
import { cmcdRoute } from '../intake/cmcd/cmcd-route.js';
import type { RejectedRecorder } from '../intake/kit/rejected-recorder.js';
import { beaconRoute } from '../intake/native/beacon-route.js';
import { LIVE_OPENAPI_EXAMPLES } from '../live/routes/live-openapi-examples.js';
import type { Metrics } from '../observability/metrics.js';
import type { Store } from '../store/store.js';
import { VERSION } from '../version.js';

export interface AppDeps {
  config: Config;
  store: Store;
  bus: Bus;
  registry: Registry;
  metrics: Metrics;
  rejected: RejectedRecorder;
  logger: boolean | object;
  /** Scale-out roles serve part of the routes (default: all of them); ops routes are always served. */
  routes?: { intake: boolean; apis: boolean };
}

const ErrorEnvelopeSchema = Type.Object(
  {
    error: Type.Object({
      type: Type.String(),
      code: Type.String(),
      messages: Type.Array(Type.String()),
      fields: Type.Array(Type.Object({ path: Type.String(), problem: Type.String() })),
    }),
  },
  { $id: 'ErrorEnvelope' },
);

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, metrics } = deps;
  const app = Fastify({
    logger: deps.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.intake.maxBodyBytes,
    trustProxy: config.trustProxy,
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: true },
    },
  });
  installErrorHandling(app, () => metrics.errors.labels('http').inc());
  app.addSchema(ErrorEnvelopeSchema);
  attachOpenApiExamples(app, LIVE_OPENAPI_EXAMPLES);

  // Runs for every request: a callback hook (no promise), and each route/method/status counter looked up once.
  const requestCounters = new Map<string, ReturnType<Metrics['httpRequests']['labels']>>();
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const key = `${route} ${request.method} ${reply.statusCode}`;
    let counter = requestCounters.get(key);
    if (!counter) {
      counter = metrics.httpRequests.labels(route, request.method, String(reply.statusCode));
      requestCounters.set(key, counter);
    }
    counter.inc();
    done();
  });

  await app.register(cors, {
    origin: '*',
    methods: ['GET', 'POST', 'DELETE', 'PUT', 'PATCH'],
    maxAge: 86_400,
  });
  await app.register(swagger, {
    // Shared schemas keep their own names ($id) in the document instead of def-N.
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json['$id'] ?? `def-${i}`) },
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'openqoe',
        version: VERSION,
        description:
          'Self-hosted video Quality-of-Experience analytics. Errors use one envelope: ' +
          '{"error": {"type", "code", "messages", "fields": [{"path", "problem"}]}}; codes are listed in docs/errors.md.',
      },
      components: {
        securitySchemes: {
          basicAuth: {
            type: 'http',
            scheme: 'basic',
            description: 'Access token id as user name, secret as password',
          },
        },
        schemas: {
          Sample: SampleSchema as unknown as Record<string, unknown>,
          PlayerEvent: PlayerEventSchema as unknown as Record<string, unknown>,
          Beacon: BeaconSchema as unknown as Record<string, unknown>,
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  // Sources: the intake lives in its own context because it parses its own bodies.
  const routes = deps.routes ?? { intake: true, apis: true };
  if (routes.intake) await app.register(async (scope) => beaconRoute(scope, deps));
  // CMCD reports (drop-in intake): its own context too, for the same reason.
  if (routes.intake && config.compat.cmcd.enabled)
    await app.register(async (scope) => cmcdRoute(scope, config, deps));

  // APIs.
  if (routes.apis) {
    metricsRoutes(app, deps.registry, deps.store, (rollup) =>
      metrics.rollupQueries.labels(rollup ? 'rollup' : 'views').inc(),
    );
    videoViewsRoutes(app, deps.registry, deps.store);
    systemEnvironmentsRoutes(app, deps.registry);
    systemAccessTokensRoutes(app, deps.registry);
  }
  opsRoutes(app, {
    bus: deps.bus,
    metrics,
    registry: deps.registry,
    requireToken: config.metrics.requireToken,
    startedAtMs: Date.now(),
  });
  // Demo page (/demo/): a test video with the browser collector attached.
  if (config.demo.enabled && routes.intake && routes.apis)
    demoRoutes(app, { registry: deps.registry, dataDir: config.dataDir });
  // --- dashboard (/ui/, and / redirects there): the built single-page app, logic in ui/ui-routes.ts.
  if (config.ui.enabled && routes.apis) await uiRoutes(app, { distDir: config.ui.distDir });
  else app.get('/', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/docs'));
  // --- end dashboard
  return app;
}
