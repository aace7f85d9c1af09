/**
 * The Mux Data beacon protocol on its own TLS listener: `POST /` (web SDKs)
 * and `POST /android`, text/plain JSON or gzip; `GET /` answers 200 (the
 * custom-domain health check). A site moves its existing Mux integration
 * here by setting `beaconCollectionDomain` to this listener's host:port.
 *
 * Decode → validate → environment from `env_key` → one bus record per view
 * → 200 once durable. Per-view work (delta merging, sequence order) happens
 * in the pipeline worker that owns the view (normalize-mux.ts). What is its
 * own is the protocol (mux-events.ts, mux-keys.ts) and the listener; the
 * other steps are the intake kit's (../kit).
 */
import cors from '@fastify/cors';
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { MuxBatch } from '../../bus/intake-record.js';
import type { Config } from '../../config/config-schema.js';
import { drainRefusedBodies, sendError, toApiError } from '../../http/api-error.js';
import { connectionOptions } from '../../http/client-errors.js';
import { answerUnknownRoutes } from '../../http/unknown-routes.js';
import { BEACON_CONTENT_TYPES, requireContentType } from '../kit/content-type.js';
import { type DecodedBody, decodeBody, parseJson } from '../kit/decode-body.js';
import { environmentOfSdkKey } from '../kit/environment-key.js';
import type { IntakeDeps } from '../kit/intake-deps.js';
import { IntakeOutcomes } from '../kit/outcomes.js';
import { IntakePublisher } from '../kit/publish.js';
import { IntakeRateLimits } from '../kit/rate-limiter.js';
import { takeRawBodies } from '../kit/raw-body.js';
import { decodeMuxBeacon } from './mux-events.js';
import { loadTlsPair } from './tls-pair.js';

export interface MuxIntake {
  url: string;
  close(): Promise<void>;
}

export async function startMuxIntake(
  config: Config,
  deps: IntakeDeps,
  log: { info(m: string): void; warn(m: string): void },
): Promise<MuxIntake> {
  const mux = config.compat.mux;
  const tls = await loadTlsPair(mux.certPath, mux.keyPath, config.dataDir);
  if (tls.generated || !mux.certPath)
    log.warn(
      `mux-protocol intake: using a self-signed certificate (${tls.certPath}); set compat.mux.certPath and keyPath for production`,
    );
  const connections = connectionOptions(config.connections, 'mux', deps.metrics);
  const app = Fastify({
    ...connections.fastify,
    https: {
      cert: tls.cert,
      key: tls.key,
      handshakeTimeout: config.connections.handshakeTimeoutMs,
      ...connections.node,
    },
    logger: false,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.intake.maxBodyBytes,
    trustProxy: config.trustProxy,
  });
  connections.guarded(app.server, log);
  answerUnknownRoutes(app);
  await app.register(cors, { origin: '*', methods: ['GET', 'POST'], maxAge: 86_400 });
  muxRoutes(app, config, deps);
  const host = mux.host || config.host;
  const address = await app.listen({ host, port: mux.port });
  log.info(`mux-protocol intake listening on ${address}`);
  return { url: address, close: () => app.close() };
}

export function muxRoutes(app: FastifyInstance, config: Config, deps: IntakeDeps): void {
  const { metrics, registry } = deps;
  const mux = config.compat.mux;
  const limits = new IntakeRateLimits(config.intake.rateLimit, 'beacons');
  // Refusals are recorded under the path the SDK posted to (`/` or `/android`).
  const outcomes = new IntakeOutcomes(deps, 'mux');
  const publisher = new IntakePublisher(deps.bus, metrics, 'mux', 'data');

  takeRawBodies(app, config.intake.maxBodyBytes);
  // This listener is an application of its own: nothing above it drains a refused body or answers a 500.
  drainRefusedBodies(app);
  app.setErrorHandler(
    outcomes.errorHandler((err, request, reply) => {
      metrics.errors.labels('http').inc();
      request.log.error({ err }, 'internal error');
      return sendError(reply, toApiError(err));
    }),
  );

  app.get('/', async () => ({ ok: true }));
  const handler = async (request: FastifyRequest<{ Body: Buffer }>, reply: FastifyReply) => {
    const receivedAtMs = Date.now();
    let envId: string | null = null;
    let decoded: DecodedBody | undefined;
    try {
      requireContentType(request.headers['content-type'], BEACON_CONTENT_TYPES, 'text/plain');
      limits.fromIp(request.ip, receivedAtMs);
      decoded = decodeBody(
        request.body,
        request.headers['content-encoding'],
        config.intake.maxDecompressedBytes,
      );
      const beacon = decodeMuxBeacon(parseJson(decoded.text), mux.maxEventsPerBeacon);
      // A beacon may carry views of several environments (env_key is per event).
      const byEnv = new Map<string, MuxBatch[]>();
      for (const [viewId, view] of beacon.views) {
        const env = environmentOfSdkKey(registry, mux.envKeys, view.envKey);
        envId = env.id;
        const list = byEnv.get(env.id) ?? [];
        list.push({ format: 'mux', viewId, events: view.events });
        byEnv.set(env.id, list);
      }
      for (const [id, batches] of byEnv) {
        limits.forEnvironment(id, receivedAtMs);
        const meta = publisher.meta(
          id,
          receivedAtMs,
          beacon.sentAtMs === undefined ? 0 : receivedAtMs - beacon.sentAtMs,
          request.ip,
          request.headers['user-agent'],
        );
        await publisher.publishViews(meta, batches, request.log);
      }
      outcomes.accepted(beacon.eventCount);
      return reply.code(200).send({ events: beacon.eventCount });
    } catch (err) {
      return outcomes.refuse(request, reply, err, envId, decoded?.bytes ?? request.body);
    }
  };
  app.post('/', handler);
  app.post('/android', handler);
}
