#!/usr/bin/env node
/**
 * The load generator of the ingest benchmark: autocannon POSTing beacons of
 * N samples to one URL. ingest.mjs runs it pinned to its own core; it can
 * also be run by hand against any server.
 *
 * Output is NDJSON on stdout: a {"type":"progress"} line every 10 s and one
 * {"type":"result"} line at the end.
 *
 *   node packages/server/bench/load.mjs --url http://127.0.0.1:8080/v1/beacon --env-key KEY \
 *     [--duration 60] [--connections 100] [--samples 20]
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { makeViewBeacon } from '@openqoe/schema';
import autocannon from 'autocannon';

const PROGRESS_EVERY_MS = 10_000;

const { values: opts } = parseArgs({
  options: {
    url: { type: 'string' },
    'env-key': { type: 'string', default: 'bench' },
    duration: { type: 'string', default: '60' },
    connections: { type: 'string', default: '100' },
    samples: { type: 'string', default: '20' },
  },
});
if (!opts.url) {
  process.stderr.write('load.mjs: --url is required\n');
  process.exit(2);
}
const duration = Number(opts.duration);
const connections = Number(opts.connections);
const samplesPerBeacon = Number(opts.samples);

/*
 * Every request must carry (viewId, sequenceNumber) pairs never sent before,
 * or the pipeline drops them as duplicates. The body is built once with a
 * fixed-width placeholder viewId; per request only the placeholder bytes are
 * overwritten in place (no JSON work, no allocation). Reusing one buffer is
 * safe because autocannon copies the body into the request it builds before
 * asking for the next one.
 */
const prefix = randomBytes(6).toString('hex');
const ID_DIGITS = 10;
const placeholder = `${prefix}-${'x'.repeat(ID_DIGITS)}`;
const body = Buffer.from(
  JSON.stringify(makeViewBeacon(opts['env-key'], placeholder, 0, samplesPerBeacon, Date.now())),
);
const offsets = [];
for (let at = body.indexOf(placeholder); at >= 0; at = body.indexOf(placeholder, at + 1)) {
  offsets.push(at + prefix.length + 1);
}
if (offsets.length !== samplesPerBeacon) throw new Error('placeholder viewId not found once per sample');

let counter = 0;
const setupRequest = (req) => {
  const id = (counter++).toString(36).padStart(ID_DIGITS, '0');
  for (const at of offsets) body.write(id, at, 'latin1');
  req.body = body;
  return req;
};

const cpuAtStart = process.cpuUsage();
const emit = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);

const instance = autocannon(
  {
    url: opts.url,
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    connections,
    duration,
    requests: [{ setupRequest }],
  },
  (err, result) => {
    clearInterval(progress);
    if (err) {
      process.stderr.write(`load.mjs: ${err.message}\n`);
      process.exit(1);
    }
    emit({
      type: 'result',
      url: opts.url,
      connections,
      samplesPerBeacon,
      bodyBytes: body.length,
      start: result.start.getTime(),
      finish: result.finish.getTime(),
      durationS: result.duration,
      requests: result.requests.total,
      ok2xx: result['2xx'],
      non2xx: result.non2xx,
      statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([k, v]) => [k, v.count])),
      errors: result.errors,
      timeouts: result.timeouts,
      // The generator's own CPU seconds, to tell whether it, rather than the server, was the limit.
      cpuS: (({ user, system }) => (user + system) / 1e6)(process.cpuUsage(cpuAtStart)),
      // autocannon records latency for 2xx responses only.
      latencyMs: {
        p50: result.latency.p50,
        p90: result.latency.p90,
        p99: result.latency.p99,
        max: result.latency.max,
      },
    });
  },
);

// Counted here rather than from autocannon's ticks to split 2xx from the rest while running.
const seen = { ok2xx: 0, non2xx: 0 };
instance.on('response', (_client, statusCode) => {
  if (statusCode >= 200 && statusCode < 300) seen.ok2xx++;
  else seen.non2xx++;
});
const startedAt = Date.now();
let last = { at: startedAt, ok2xx: 0 };
const progress = setInterval(() => {
  const now = Date.now();
  emit({
    type: 'progress',
    elapsedS: Math.round((now - startedAt) / 1000),
    ok2xx: seen.ok2xx,
    non2xx: seen.non2xx,
    ok2xxPerS: Math.round(((seen.ok2xx - last.ok2xx) * 1000) / (now - last.at)),
  });
  last = { at: now, ok2xx: seen.ok2xx };
}, PROGRESS_EVERY_MS);
