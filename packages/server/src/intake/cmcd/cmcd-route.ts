/**
 * `POST /v1/cmcd/{env_key}`: CMCD v2 event-mode reports (hls.js, dash.js,
 * Shaka `eventTargets`), and request-mode data (`CMCD=` query, `CMCD-*`
 * headers) from CDN-log pipelines. Sessions (`sid`) become views. Answers
 * 200 once durable; never 410, which would switch the player's reporting
 * off for the rest of the session. What is its own is the CMCD decoding
 * (cmcd-reports.ts) and the route; the other steps are the intake kit's (../kit).
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { CmcdBatch } from '../../bus/intake-record.js';
import type { Config } from '../../config/config-schema.js';
import { errorAnswers } from '../../http/route-schema.js';
import { requireContentType } from '../kit/content-type.js';
import { type DecodedBody, decodeBody } from '../kit/decode-body.js';
import { environmentOfSdkKey } from '../kit/environment-key.js';
import type { IntakeDeps } from '../kit/intake-deps.js';
import { IntakeOutcomes } from '../kit/outcomes.js';
import { IntakePublisher } from '../kit/publish.js';
import { IntakeRateLimits } from '../kit/rate-limiter.js';
import { takeRawBodies } from '../kit/raw-body.js';
import { viewRefs } from '../kit/view-admission.js';
import { bySession, decodeCmcdReports } from './cmcd-reports.js';

const ROUTE = '/v1/cmcd/:env_key';
const CMCD_CONTENT_TYPES: ReadonlySet<string> = new Set([
  '',
  'application/cmcd',
  'text/cmcd',
  'text/plain',
  'application/octet-stream',
]);

export async function cmcdRoute(app: FastifyInstance, config: Config, deps: IntakeDeps): Promise<void> {
  const cmcd = config.compat.cmcd;
  const limits = new IntakeRateLimits(config.intake.rateLimit, 'reports');
  const outcomes = new IntakeOutcomes(deps, 'cmcd', ROUTE);
  const publisher = new IntakePublisher(deps.bus, deps.metrics, 'cmcd', 'data');
  takeRawBodies(app, config.intake.maxBodyBytes);

  app.route<{ Params: { env_key: string }; Body: Buffer | undefined }>({
    method: ['POST', 'GET'],
    url: ROUTE,
    schema: {
      tags: ['intake'],
      summary: 'Send CMCD reports (event mode, or request-mode data)',
      description:
        'Body: application/cmcd (or text/cmcd), one CMCD dictionary per line (CTA-5004-B event mode). ' +
        'Request-mode data rides on the CMCD= query parameter or the CMCD-* headers. Every report needs sid ' +
        'and sn; event reports need ts. A session (sid) is a view. Answered 200 once durable; never 410. ' +
        'A key that contradicts its own report (a wall-clock ttfb, as dash.js 5.2 sends) is dropped and named ' +
        'in `ignored`; the report is kept.',
      params: Type.Object({ env_key: Type.String({ maxLength: 128 }) }),
      // Documented for the reference's "Try it out"; the handler reads the raw query itself.
      querystring: Type.Object({
        CMCD: Type.Optional(
          Type.String({
            description: 'Request-mode CMCD data: one dictionary',
            examples: ['sid="6e2fb550-c457-11e9-bb97-0800200c9a66",sn=0,br=3200,ot=v,su'],
          }),
        ),
      }),
      response: {
        200: Type.Object({
          reports: Type.Integer(),
          ignored_count: Type.Optional(Type.Integer({ description: 'Keys dropped from accepted reports' })),
          ignored: Type.Optional(
            Type.Array(Type.Object({ path: Type.String(), problem: Type.String() }), {
              description:
                'The first 50 keys dropped because they contradict their report (named as refusals name ' +
                'fields); the rest of each report is kept',
            }),
          ),
        }),
        ...errorAnswers(400, 401, 413, 415, 429),
      },
    },
    // Size errors happen before the handler; they are refused and recorded here.
    errorHandler: outcomes.errorHandler(),
    handler: async (request, reply) => {
      const receivedAtMs = Date.now();
      let envId: string | null = null;
      let decoded: DecodedBody | undefined;
      try {
        requireContentType(request.headers['content-type'], CMCD_CONTENT_TYPES, 'application/cmcd');
        limits.fromIp(request.ip, receivedAtMs);
        const env = environmentOfSdkKey(deps.registry, cmcd.envKeys, request.params.env_key);
        envId = env.id;
        limits.forEnvironment(env.id, receivedAtMs);
        // Request-mode data may come with no body at all.
        const body = request.body && request.body.length > 0 ? request.body : undefined;
        if (body)
          decoded = decodeBody(body, request.headers['content-encoding'], config.intake.maxDecompressedBytes);
        const q = request.url.indexOf('?');
        const { reports, ignored } = decodeCmcdReports(
          {
            body: decoded?.text ?? '',
            query: q < 0 ? '' : request.url.slice(q + 1),
            headers: request.headers,
          },
          cmcd.maxReportsPerBody,
        );
        let latestTs = 0;
        for (const r of reports) if (typeof r['ts'] === 'number' && r['ts'] > latestTs) latestTs = r['ts'];
        const meta = publisher.meta(
          env.id,
          receivedAtMs,
          // Reports go out as they happen, so the newest report's time stands in for the sending time.
          latestTs > 0 ? receivedAtMs - latestTs : 0,
          request.ip,
          request.headers['user-agent'],
        );
        const batches: CmcdBatch[] = [];
        for (const [viewId, list] of bySession(reports))
          batches.push({ format: 'cmcd', viewId, reports: list });
        const release = deps.admission.admit(env.id, viewRefs(batches), false, receivedAtMs);
        try {
          await publisher.publishViews(meta, batches, request.log);
        } catch (err) {
          release();
          throw err;
        }
        outcomes.accepted(reports.length, undefined, ignored);
        if (ignored.length === 0) return reply.code(200).send({ reports: reports.length });
        // The answer names the first 50, as a refusal names its fields.
        return reply
          .code(200)
          .send({ reports: reports.length, ignored_count: ignored.length, ignored: ignored.slice(0, 50) });
      } catch (err) {
        return outcomes.refuse(request, reply, err, envId, decoded?.bytes ?? request.body);
      }
    },
  });
}
