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
 *     [--duration 60] [--connections 100] [--samples 20] [--views 0]
 *
 * --views 0 (default): every request is a new view. --views N: requests go
 * round-robin to N views, each beacon continuing its view (next sequence
 * numbers, contiguous times), as N players in progress would send them.
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
    views: { type: 'string', default: '0' },
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
let body = Buffer.from(
  JSON.stringify(makeViewBeacon(opts['env-key'], placeholder, 0, samplesPerBeacon, Date.now())),
);
const offsets = [];
for (let at = body.indexOf(placeholder); at >= 0; at = body.indexOf(placeholder, at + 1)) {
  offsets.push(at + prefix.length + 1);
}
if (offsets.length !== samplesPerBeacon) throw new Error('placeholder viewId not found once per sample');

const views = Number(opts.views);
if (!Number.isInteger(views) || views < 0) throw new Error('--views must be a non-negative integer');

/*
 * With --views N, each sample's sequence number, timestamp and viewerTime are
 * placeholders of fixed width too (numbers padded with leading spaces, which
 * JSON allows), rewritten per request so beacon b of a view carries samples
 * b·S … b·S + S − 1, each 10 s long, right after the previous beacon's.
 */
const SEQ_BASE = 9_000_000_000;
const TS_BASE = 8_000_000_000_000;
const VT_BASE = 7_000_000_000_000;
const SAMPLE_MS = 10_000;
const numberOffsets = (base) =>
  Array.from({ length: samplesPerBeacon }, (_, i) => {
    const at = body.indexOf(String(base + i));
    if (at < 0) throw new Error(`placeholder ${base + i} not found`);
    return at;
  });
let seqAt = [];
let tsAt = [];
let vtAt = [];
if (views > 0) {
  const template = JSON.parse(body.toString());
  template.samples.forEach((s, i) => {
    s.sequenceNumber = SEQ_BASE + i;
    s.timestamp = TS_BASE + i;
    s.viewerTime = VT_BASE + i;
    s.durationMs = SAMPLE_MS;
    s.state = 'playing';
  });
  body = Buffer.from(JSON.stringify(template));
  offsets.length = 0;
  for (let at = body.indexOf(placeholder); at >= 0; at = body.indexOf(placeholder, at + 1)) {
    offsets.push(at + prefix.length + 1);
  }
  seqAt = numberOffsets(SEQ_BASE);
  tsAt = numberOffsets(TS_BASE);
  vtAt = numberOffsets(VT_BASE);
}
const t0 = Date.now() - 3_600_000;
const pad = (n, width) => String(n).padStart(width, ' ');

let counter = 0;
const setupRequest = (req) => {
  const k = counter++;
  const view = views > 0 ? k % views : k;
  const id = view.toString(36).padStart(ID_DIGITS, '0');
  for (const at of offsets) body.write(id, at, 'latin1');
  if (views > 0) {
    const first = Math.floor(k / views) * samplesPerBeacon;
    for (let i = 0; i < samplesPerBeacon; i++) {
      const start = t0 + (first + i) * SAMPLE_MS;
      body.write(pad(first + i, 10), seqAt[i], 'latin1');
      body.write(pad(start, 13), tsAt[i], 'latin1');
      body.write(pad(start + SAMPLE_MS, 13), vtAt[i], 'latin1');
    }
  }
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
