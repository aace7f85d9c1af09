/**
 * `POST /v1/cmcd/{env_key}`: CMCD v2 event-mode reports (hls.js, dash.js,
 * Shaka `eventTargets`), and request-mode data (`CMCD=` query, `CMCD-*`
 * headers) from CDN-log pipelines. Sessions (`sid`) become views. Answers
 * 200 once durable; never 410, which would switch the player's reporting
 * off for the rest of the session.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { CmcdBatch, IntakeMeta } from '../../bus/intake-record.js';
import type { Config } from '../../config/config-schema.js';
import { ApiError, toApiError } from '../../http/api-error.js';
import { type CompatDeps, compatEnvironment, publishCompat, refuseCompat } from '../kit/compat-intake.js';
import { type DecodedBody, decodeBody } from '../kit/decode-body.js';
import { RateLimiter } from '../kit/rate-limiter.js';
import { bySession, decodeCmcdReports } from './cmcd-reports.js';

const ROUTE = '/v1/cmcd/:env_key';
const ACCEPTED_TYPES = new Set([
  '',
  'application/cmcd',
  'text/cmcd',
  'text/plain',
  'application/octet-stream',
]);

export async function cmcdRoute(app: FastifyInstance, config: Config, deps: CompatDeps): Promise<void> {
  const rl = config.intake.rateLimit;
  const perKey = new RateLimiter(rl.perEnvKeyPerSecond, rl.perEnvKeyBurst);
  const perIp = new RateLimiter(rl.perIpPerSecond, rl.perIpBurst);
  const accepted = deps.metrics.beacons.labels('cmcd', 'accepted');
  const eventsAccepted = deps.metrics.eventsAccepted.labels('cmcd');

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: config.intake.maxBodyBytes },
    (_req, body, done) => done(null, body),
  );

  app.route<{ Params: { env_key: string }; Body: Buffer | undefined }>({
    method: ['POST', 'GET'],
    url: ROUTE,
    schema: {
      tags: ['intake'],
      summary: 'Send CMCD reports (event mode, or request-mode data)',
      description:
        'Body: application/cmcd (or text/cmcd), one CMCD dictionary per line (CTA-5004-B event mode). ' +
        'Request-mode data rides on the CMCD= query parameter or the CMCD-* headers. Every report needs sid ' +
        'and sn; event reports need ts. A session (sid) is a view. Answered 200 once durable; never 410.',
      params: Type.Object({ env_key: Type.String({ maxLength: 128 }) }),
      response: {
        200: Type.Object({ reports: Type.Integer() }),
        400: { $ref: 'ErrorEnvelope#' },
        401: { $ref: 'ErrorEnvelope#' },
        413: { $ref: 'ErrorEnvelope#' },
        415: { $ref: 'ErrorEnvelope#' },
        429: { $ref: 'ErrorEnvelope#' },
      },
    },
    errorHandler: (err, request, reply) => {
      const apiErr = toApiError(err);
      if (apiErr.code === 'QOE_ERR_INTERNAL') return reply.send(err);
      return refuseCompat(deps, 'cmcd', ROUTE, request, reply, apiErr, null, undefined);
    },
    handler: async (request, reply) => {
      const receivedAtMs = Date.now();
      let envId: string | null = null;
      let decoded: DecodedBody | undefined;
      try {
        const contentType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        if (!ACCEPTED_TYPES.has(contentType))
          throw new ApiError('QOE_ERR_UNSUPPORTED_MEDIA_TYPE', [
            `Content-Type ${contentType} is not accepted; send application/cmcd`,
          ]);
        const wait = perIp.take(request.ip, receivedAtMs);
        if (wait > 0)
          throw new ApiError('QOE_ERR_RATE_LIMITED', [`Too many reports from ${request.ip}`], [], {
            'retry-after': String(wait),
          });
        const env = compatEnvironment(deps.registry, config.compat.cmcd.envKeys, request.params.env_key);
        envId = env.id;
        const keyWait = perKey.take(env.id, receivedAtMs);
        if (keyWait > 0)
          throw new ApiError('QOE_ERR_RATE_LIMITED', ['Too many reports for this environment'], [], {
            'retry-after': String(keyWait),
          });
        const body = request.body && request.body.length > 0 ? request.body : undefined;
        if (body)
          decoded = decodeBody(body, request.headers['content-encoding'], config.intake.maxDecompressedBytes);
        const q = request.url.indexOf('?');
        const reports = decodeCmcdReports(
          {
            body: decoded?.text ?? '',
            query: q < 0 ? '' : request.url.slice(q + 1),
            headers: request.headers,
          },
          config.compat.cmcd.maxReportsPerBody,
        );
        let latestTs = 0;
        for (const r of reports) if (typeof r['ts'] === 'number' && r['ts'] > latestTs) latestTs = r['ts'];
        const meta: IntakeMeta = {
          kind: 'cmcd',
          envId: env.id,
          receivedAtMs,
          // Reports go out as they happen, so the newest report's time stands in for the sending time.
          clockOffsetMs: latestTs > 0 ? receivedAtMs - latestTs : 0,
          ip: request.ip,
          userAgent: request.headers['user-agent'] ?? '',
        };
        const batches: CmcdBatch[] = [];
        for (const [viewId, list] of bySession(reports))
          batches.push({ format: 'cmcd', viewId, reports: list });
        await publishCompat(deps, meta, batches, request.log);
        accepted.inc();
        eventsAccepted.inc(reports.length);
        return reply.code(200).send({ reports: reports.length });
      } catch (err) {
        const apiErr = toApiError(err);
        if (apiErr.code === 'QOE_ERR_INTERNAL') throw err;
        return refuseCompat(
          deps,
          'cmcd',
          ROUTE,
          request,
          reply,
          apiErr,
          envId,
          decoded?.bytes ?? request.body,
        );
      }
    },
  });
}
