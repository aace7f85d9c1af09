/**
 * The Mux Data beacon protocol on its own TLS listener: `POST /` (web SDKs)
 * and `POST /android`, text/plain JSON or gzip; `GET /` answers 200 (the
 * custom-domain health check). A site moves its existing Mux integration
 * here by setting `beaconCollectionDomain` to this listener's host:port.
 *
 * Decode → validate → environment from `env_key` → one bus record per view
 * → 200 once durable. Per-view work (delta merging, sequence order) happens
 * in the pipeline worker that owns the view (normalize-mux.ts).
 */
import cors from '@fastify/cors';
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { IntakeMeta, MuxBatch } from '../../bus/intake-record.js';
import type { Config } from '../../config/config-schema.js';
import { ApiError, drainRefusedBodies, sendError, toApiError } from '../../http/api-error.js';
import { type CompatDeps, compatEnvironment, publishCompat, refuseCompat } from '../kit/compat-intake.js';
import { type DecodedBody, decodeBody, parseJson } from '../kit/decode-body.js';
import { RateLimiter } from '../kit/rate-limiter.js';
import { decodeMuxBeacon } from './mux-events.js';
import { loadTlsPair } from './tls-pair.js';

export interface MuxIntake {
  url: string;
  close(): Promise<void>;
}

const ACCEPTED_TYPES = new Set(['', 'text/plain', 'application/json', 'application/octet-stream']);

export async function startMuxIntake(
  config: Config,
  deps: CompatDeps,
  log: { info(m: string): void; warn(m: string): void },
): Promise<MuxIntake> {
  const mux = config.compat.mux;
  const tls = await loadTlsPair(mux.certPath, mux.keyPath, config.dataDir);
  if (tls.generated || !mux.certPath)
    log.warn(
      `mux-protocol intake: using a self-signed certificate (${tls.certPath}); set compat.mux.certPath and keyPath for production`,
    );
  const app = Fastify({
    https: { cert: tls.cert, key: tls.key },
    logger: false,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.intake.maxBodyBytes,
    trustProxy: config.trustProxy,
  });
  await app.register(cors, { origin: '*', methods: ['GET', 'POST'], maxAge: 86_400 });
  muxRoutes(app, config, deps);
  const host = mux.host || config.host;
  const address = await app.listen({ host, port: mux.port });
  log.info(`mux-protocol intake listening on ${address}`);
  return { url: address, close: () => app.close() };
}

export function muxRoutes(app: FastifyInstance, config: Config, deps: CompatDeps): void {
  const { metrics } = deps;
  const rl = config.intake.rateLimit;
  const perKey = new RateLimiter(rl.perEnvKeyPerSecond, rl.perEnvKeyBurst);
  const perIp = new RateLimiter(rl.perIpPerSecond, rl.perIpBurst);
  const accepted = metrics.beacons.labels('mux', 'accepted');
  const eventsAccepted = metrics.eventsAccepted.labels('mux');

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: config.intake.maxBodyBytes },
    (_req, body, done) => done(null, body),
  );
  drainRefusedBodies(app);
  app.setErrorHandler((err, request, reply) => {
    const apiErr = toApiError(err);
    if (apiErr.code === 'QOE_ERR_INTERNAL') {
      metrics.errors.labels('http').inc();
      request.log.error({ err }, 'internal error');
      return sendError(reply, apiErr);
    }
    return refuseCompat(deps, 'mux', request.url, request, reply, apiErr, null, undefined);
  });

  app.get('/', async () => ({ ok: true }));
  const handler = async (request: FastifyRequest<{ Body: Buffer }>, reply: FastifyReply) => {
    const receivedAtMs = Date.now();
    let envId: string | null = null;
    let decoded: DecodedBody | undefined;
    try {
      const contentType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (!ACCEPTED_TYPES.has(contentType)) {
        throw new ApiError('QOE_ERR_UNSUPPORTED_MEDIA_TYPE', [
          `Content-Type ${contentType} is not accepted; send text/plain`,
        ]);
      }
      const wait = perIp.take(request.ip, receivedAtMs);
      if (wait > 0)
        throw new ApiError('QOE_ERR_RATE_LIMITED', [`Too many beacons from ${request.ip}`], [], {
          'retry-after': String(wait),
        });
      decoded = decodeBody(
        request.body,
        request.headers['content-encoding'],
        config.intake.maxDecompressedBytes,
      );
      const beacon = decodeMuxBeacon(parseJson(decoded.text), config.compat.mux.maxEventsPerBeacon);
      const byEnv = new Map<string, MuxBatch[]>();
      for (const [viewId, view] of beacon.views) {
        const env = compatEnvironment(deps.registry, config.compat.mux.envKeys, view.envKey);
        envId = env.id;
        const list = byEnv.get(env.id) ?? [];
        list.push({ format: 'mux', viewId, events: view.events });
        byEnv.set(env.id, list);
      }
      for (const [id, batches] of byEnv) {
        const keyWait = perKey.take(id, receivedAtMs);
        if (keyWait > 0)
          throw new ApiError('QOE_ERR_RATE_LIMITED', ['Too many beacons for this environment'], [], {
            'retry-after': String(keyWait),
          });
        const meta: IntakeMeta = {
          kind: 'mux',
          envId: id,
          receivedAtMs,
          clockOffsetMs: beacon.sentAtMs === undefined ? 0 : receivedAtMs - beacon.sentAtMs,
          ip: request.ip,
          userAgent: request.headers['user-agent'] ?? '',
        };
        await publishCompat(deps, meta, batches, request.log);
      }
      accepted.inc();
      eventsAccepted.inc(beacon.eventCount);
      return reply.code(200).send({ events: beacon.eventCount });
    } catch (err) {
      const apiErr = toApiError(err);
      if (apiErr.code === 'QOE_ERR_INTERNAL') throw err;
      return refuseCompat(
        deps,
        'mux',
        request.url,
        request,
        reply,
        apiErr,
        envId,
        decoded?.bytes ?? request.body,
      );
    }
  };
  app.post('/', handler);
  app.post('/android', handler);
}
