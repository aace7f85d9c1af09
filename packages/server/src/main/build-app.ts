/**
 * The one place the HTTP application is built: connection limits, error envelope, CSV answers,
 * request counters, CORS and the OpenAPI document. It registers no feature's routes:
 * each feature (intake, APIs, live, pages) registers its own as a plugin
 * when assemble() starts it.
 */
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { BeaconSchema, ErrorEnvelopeSchema, PlayerEventSchema, SampleSchema } from '@openqoe/schema';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { attachOpenApiExamples } from '../api/openapi-examples.js';
import type { Config } from '../config/config-schema.js';
import { installErrorHandling } from '../http/api-error.js';
import { connectionOptions } from '../http/client-errors.js';
import { installCsvAnswers } from '../http/csv-answers.js';
import { tidyOpenApi } from '../http/openapi-tidy.js';
import { answerUnknownRoutes } from '../http/unknown-routes.js';
import { LIVE_OPENAPI_EXAMPLES } from '../live/routes/live-openapi-examples.js';
import type { Metrics } from '../observability/metrics.js';
import { VERSION } from '../version.js';

export interface AppDeps {
  config: Config;
  metrics: Metrics;
  logger: boolean | object;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, metrics } = deps;
  const connections = connectionOptions(config.connections, 'http', metrics);
  const app = Fastify({
    ...connections.fastify,
    http: connections.node,
    logger: deps.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.intake.maxBodyBytes,
    trustProxy: config.trustProxy,
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: true },
    },
  });
  connections.guarded(app.server, app.log);
  installErrorHandling(app, () => metrics.errors.labels('http').inc());
  answerUnknownRoutes(app);
  app.addSchema(ErrorEnvelopeSchema);
  attachOpenApiExamples(app, LIVE_OPENAPI_EXAMPLES);
  const csvMediaTypes = installCsvAnswers(app);

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
    // Enums as one `enum`, defaulted query parameters optional: what "Try it out" offers (openapi-tidy.ts);
    // text/csv beside JSON on the routes that answer it (csv-answers.ts).
    transformObject: (d) =>
      csvMediaTypes(tidyOpenApi('openapiObject' in d ? d.openapiObject : d.swaggerObject)),
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

  return app;
}
