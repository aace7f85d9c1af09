#!/usr/bin/env node
/**
 * The ingest benchmark's baseline: a bare Fastify route at the same path
 * that only parses the JSON body and answers 204. What openqoe does beyond
 * this (validation, durable log, pipeline, store) is what the ratio measures.
 *
 *   node packages/server/bench/bare-server.mjs [--port 0]
 *
 * Prints `bare listening on http://127.0.0.1:PORT` once ready; stops on SIGTERM/SIGINT.
 */
import { parseArgs } from 'node:util';
import Fastify from 'fastify';

const { values: opts } = parseArgs({ options: { port: { type: 'string', default: '0' } } });

// Same body limit as openqoe's default intake.maxBodyBytes.
const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_req, body, done) => {
  try {
    done(null, JSON.parse(body));
  } catch (err) {
    err.statusCode = 400;
    done(err, undefined);
  }
});
app.post('/v1/beacon', async (_request, reply) => reply.code(204).send());

const address = await app.listen({ host: '127.0.0.1', port: Number(opts.port) });
process.stdout.write(`bare listening on ${address}\n`);

const stop = () => app.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
