/**
 * The native intake against bad input, over real sockets to the real CLI:
 * every refusal has the right status and an envelope that names the field and
 * the problem, nothing bad reaches the store, the refused payloads are kept
 * (truncated, capped) in rejected_payloads, and the server keeps serving.
 */
import { gzipSync } from 'node:zlib';
import { type Beacon, type ErrorEnvelope, makeBeacon, makeSample, type Sample } from '@openqoe/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Deadline } from './helpers/patience.js';
import {
  postBeacon,
  queryDataDir,
  removeDir,
  type ServerProcess,
  startServer,
  TEST_CONFIG,
} from './helpers/server-process.js';

const MiB = 1024 * 1024;
const TEXT = { 'content-type': 'text/plain' };
const GZIP = { 'content-type': 'text/plain', 'content-encoding': 'gzip' };

type Reply = Awaited<ReturnType<typeof postBeacon>>;

/** The envelope of a refusal, after checking its shape and code. */
function refusal(res: Reply, status: number, code: string): ErrorEnvelope['error'] {
  expect(res.status, JSON.stringify(res.json).slice(0, 500)).toBe(status);
  const err = (res.json as ErrorEnvelope).error;
  expect(err).toBeDefined();
  expect(err.code).toBe(code);
  expect(typeof err.type).toBe('string');
  expect(err.messages.length).toBeGreaterThan(0);
  expect(Array.isArray(err.fields)).toBe(true);
  // Never a stack trace in a response.
  expect(JSON.stringify(res.json)).not.toMatch(/\bat .+\.(js|ts):\d+/);
  return err;
}

/** The problem given for one field path, failing if the path is not named. */
function problemAt(err: ErrorEnvelope['error'], path: string): string {
  const field = err.fields.find((f) => f.path === path);
  expect(field, `no field ${path} in ${JSON.stringify(err.fields)}`).toBeDefined();
  return field!.problem;
}

/** Value of a Prometheus sample without labels (or the sum over its label sets). */
function metric(text: string, name: string): number {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`).exec(line);
    if (m) {
      sum += Number(m[1]);
      found = true;
    }
  }
  return found ? sum : Number.NaN;
}

async function metrics(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

/** Polls `check` until it stops throwing, or fails with its last error after `timeoutMs` (idle-machine time, scaled). */
async function eventually(check: () => Promise<void>, timeoutMs = 5000): Promise<void> {
  const deadline = new Deadline(timeoutMs);
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (deadline.expired()) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Samples of one view, numbered from 0. */
const samplesOf = (viewId: string, count: number, overrides: Partial<Sample> = {}): Sample[] =>
  Array.from({ length: count }, (_, i) => makeSample({ viewId, sequenceNumber: i, ...overrides }));

describe('native intake: bad input', () => {
  let server: ServerProcess;
  let envKey: string;
  let envId: string;
  /** Codes of every refusal sent (none is rate limited), for the rejected_payloads check. */
  const refused: string[] = [];
  /** Samples answered 202, by view. */
  const accepted = new Map<string, number>();
  let badViews = 0;
  /** A view id for a beacon that must never be stored. */
  const badView = () => `bad-${++badViews}`;

  const send = async (
    body: string | Buffer,
    headers: Record<string, string> = TEXT,
    query = '',
  ): Promise<Reply> => {
    const res = await postBeacon(server.url, body, headers, query);
    if (res.status === 202) {
      const b = JSON.parse(Buffer.isBuffer(body) ? body.toString() : body) as Beacon;
      for (const s of b.samples) accepted.set(s.viewId, (accepted.get(s.viewId) ?? 0) + 1);
    } else {
      refused.push((res.json as ErrorEnvelope).error?.code ?? `HTTP ${res.status}`);
    }
    return res;
  };
  /** A beacon of `count` valid samples of a fresh bad view, with a hook to break it. */
  const beacon = (
    count: number,
    breakIt: (b: Record<string, unknown>, samples: Record<string, unknown>[]) => void,
  ) => {
    const b = makeBeacon({ envKey, samples: samplesOf(badView(), count) }) as unknown as Record<
      string,
      unknown
    >;
    breakIt(b, b['samples'] as Record<string, unknown>[]);
    return JSON.stringify(b);
  };

  beforeAll(async () => {
    server = await startServer();
    envKey = server.bootstrap().environment.key;
    envId = server.bootstrap().environment.id;
  });

  afterAll(async () => {
    await server?.kill();
    if (server) removeDir(server.dataDir);
  });

  it('accepts a good beacon before any bad input (baseline)', async () => {
    const res = await send(JSON.stringify(makeBeacon({ envKey, samples: samplesOf('good-before', 3) })));
    expect(res.status).toBe(202);
    expect(res.json).toEqual({ samples: 3, events: 0 });
  });

  describe('fields', () => {
    it('names a field of the wrong type with its path and the type it got', async () => {
      const res = await send(
        beacon(4, (_b, s) => {
          s[2]!['videoBitrateBps'] = '2500000';
        }),
      );
      const err = refusal(res, 400, 'QOE_ERR_VALIDATION');
      expect(problemAt(err, 'samples[2].videoBitrateBps')).toMatch(/must be a finite number, got a string/);
      expect(err.fields).toHaveLength(1);
    });

    it('names every bad field of a beacon at once, not just the first', async () => {
      const res = await send(
        beacon(3, (b, s) => {
          s[0]!['sequenceNumber'] = 1.5;
          s[1]!['viewId'] = 42;
          s[2]!['errorFatal'] = 'yes';
          b['sentAt'] = 'now';
        }),
      );
      const err = refusal(res, 400, 'QOE_ERR_VALIDATION');
      expect(problemAt(err, 'samples[0].sequenceNumber')).toMatch(/must be an integer, got 1.5/);
      expect(problemAt(err, 'samples[1].viewId')).toMatch(/must be a string, got a number/);
      expect(problemAt(err, 'samples[2].errorFatal')).toMatch(/not a known field/);
      expect(problemAt(err, 'sentAt')).toMatch(/must be a finite number, got a string/);
    });

    it('names a missing field as required', async () => {
      const res = await send(
        beacon(2, (b, s) => {
          delete s[1]!['viewerTime'];
          delete b['events'];
        }),
      );
      const err = refusal(res, 400, 'QOE_ERR_VALIDATION');
      expect(problemAt(err, 'samples[1].viewerTime')).toBe('is required');
      expect(problemAt(err, 'events')).toBe('is required');
    });

    it('names an unknown field', async () => {
      const res = await send(
        beacon(2, (b, s) => {
          s[1]!['videoBitrate'] = 1;
          b['extra'] = true;
        }),
      );
      const err = refusal(res, 400, 'QOE_ERR_VALIDATION');
      expect(problemAt(err, 'samples[1].videoBitrate')).toBe('is not a known field');
      expect(problemAt(err, 'extra')).toBe('is not a known field');
    });

    it('names a bad enum value and lists the allowed ones', async () => {
      const res = await send(
        beacon(1, (_b, s) => {
          s[0]!['state'] = 'dancing';
        }),
      );
      const err = refusal(res, 400, 'QOE_ERR_VALIDATION');
      const problem = problemAt(err, 'samples[0].state');
      expect(problem).toContain('"dancing"');
      expect(problem).toContain('"playing"');
      expect(problem).toContain('"rebuffering"');
    });

    it('names a value out of range', async () => {
      const res = await send(
        beacon(1, (_b, s) => {
          s[0]!['durationMs'] = -1;
          s[0]!['viewerTime'] = Date.now() * 1000; // µs instead of ms
        }),
      );
      const err = refusal(res, 400, 'QOE_ERR_VALIDATION');
      expect(problemAt(err, 'samples[0].durationMs')).toMatch(/must be ≥ 0, got -1/);
      expect(problemAt(err, 'samples[0].viewerTime')).toMatch(/must be ≤ /);
    });

    it('refuses another schemaVersion with its own code', async () => {
      const res = await send(
        beacon(2, (b) => {
          b['schemaVersion'] = 2;
        }),
      );
      const err = refusal(res, 400, 'QOE_ERR_UNSUPPORTED_SCHEMA_VERSION');
      expect(problemAt(err, 'schemaVersion')).toMatch(/must be 1, got 2/);
    });

    it('names `samples` when a batch holds more samples than allowed, even gzipped under the size limit', async () => {
      const json = beacon(2500, () => {});
      const gz = gzipSync(json);
      // The size limits must not be what refuses it: this is about the item count.
      expect(gz.length).toBeLessThan(MiB);
      expect(Buffer.byteLength(json)).toBeLessThan(4 * MiB);
      const res = await send(gz, TEXT); // detected by its magic bytes, as sendBeacon sends it
      const err = refusal(res, 400, 'QOE_ERR_VALIDATION');
      expect(problemAt(err, 'samples')).toMatch(/at most 1000 items, got 2500/);
      // One line for the array, not thousands.
      expect(err.fields.length).toBeLessThanOrEqual(50);
    });

    it('names a huge string inside the size limit by its path', async () => {
      const json = beacon(1, (_b, s) => {
        s[0]!['videoTitle'] = 't'.repeat(1_000_000);
      });
      expect(Buffer.byteLength(json)).toBeLessThan(MiB);
      const err = refusal(await send(json), 400, 'QOE_ERR_VALIDATION');
      expect(problemAt(err, 'samples[0].videoTitle')).toMatch(/at most 1024 characters, got 1000000/);
    });
  });

  describe('environment key', () => {
    it('refuses an unknown environment key with 401', async () => {
      const res = await send(
        beacon(1, (b) => {
          b['envKey'] = 'no-such-key';
        }),
      );
      const err = refusal(res, 401, 'QOE_ERR_UNKNOWN_ENV_KEY');
      expect(err.messages.join(' ')).toContain('no-such-key');
    });

    it('refuses a beacon without an environment key with 401', async () => {
      const res = await send(
        beacon(1, (b) => {
          delete b['envKey'];
        }),
      );
      const err = refusal(res, 401, 'QOE_ERR_MISSING_ENV_KEY');
      expect(err.messages.join(' ')).toMatch(/env_key/);
    });

    it('accepts the key as ?env_key= (sendBeacon cannot set headers)', async () => {
      const body = JSON.stringify(makeBeacon({ samples: samplesOf('good-query-key', 2) }));
      const res = await send(body, TEXT, `?env_key=${envKey}`);
      expect(res.status).toBe(202);
      expect(res.json).toEqual({ samples: 2, events: 0 });
    });

    it('refuses an unknown ?env_key= with 401', async () => {
      const body = JSON.stringify(makeBeacon({ samples: samplesOf(badView(), 1) }));
      refusal(await send(body, TEXT, '?env_key=nope'), 401, 'QOE_ERR_UNKNOWN_ENV_KEY');
    });
  });

  describe('size', () => {
    it('refuses a body over intake.maxBodyBytes with 413', async () => {
      refusal(await send('x'.repeat(2 * MiB)), 413, 'QOE_ERR_PAYLOAD_TOO_LARGE');
    });

    it('refuses a beacon over the limit because of one huge string with 413', async () => {
      const json = beacon(1, (_b, s) => {
        s[0]!['videoTitle'] = 't'.repeat(1_100_000);
      });
      expect(Buffer.byteLength(json)).toBeGreaterThan(MiB);
      refusal(await send(json), 413, 'QOE_ERR_PAYLOAD_TOO_LARGE');
    });

    it('refuses a gzip bomb (50 MB of zeros) with 413 once decompressed, by header or by magic bytes', async () => {
      const bomb = gzipSync(Buffer.alloc(50_000_000));
      expect(bomb.length).toBeLessThan(MiB);
      const byHeader = refusal(await send(bomb, GZIP), 413, 'QOE_ERR_DECOMPRESSED_TOO_LARGE');
      expect(byHeader.messages.join(' ')).toMatch(/decompresses to more than 4194304 bytes/);
      refusal(await send(bomb, TEXT), 413, 'QOE_ERR_DECOMPRESSED_TOO_LARGE');
    });
  });

  describe('encoding and syntax', () => {
    it('refuses invalid gzip with 400', async () => {
      const valid = gzipSync(JSON.stringify(makeBeacon({ envKey, samples: samplesOf(badView(), 1) })));
      const cut = valid.subarray(0, valid.length - 12);
      const truncated = refusal(await send(cut, GZIP), 400, 'QOE_ERR_INVALID_ENCODING');
      expect(truncated.messages.join(' ')).toMatch(/not valid gzip/);
      // Content-Encoding: gzip on a body that is not gzip at all.
      refusal(await send('{"hello": 1}', GZIP), 400, 'QOE_ERR_INVALID_ENCODING');
      // Gzip magic bytes followed by garbage.
      refusal(await send(Buffer.from([0x1f, 0x8b, 1, 2, 3, 4, 5, 6])), 400, 'QOE_ERR_INVALID_ENCODING');
    });

    it('refuses a body that is not UTF-8 with 400, plain or inside gzip', async () => {
      const latin1 = Buffer.from(`{"envKey":"${envKey}","x":"caf\xe9"}`, 'latin1');
      const plain = refusal(await send(latin1), 400, 'QOE_ERR_INVALID_ENCODING');
      expect(plain.messages.join(' ')).toMatch(/UTF-8/);
      refusal(await send(gzipSync(latin1), GZIP), 400, 'QOE_ERR_INVALID_ENCODING');
    });

    it('refuses a text body whose 8 KB cut for rejected_payloads falls inside a character', async () => {
      // Checked in the store below: it is kept as text, not as base64.
      const prefix = `{"envKey":"${envKey}","note":"`;
      const pad = (((8192 - Buffer.byteLength(prefix) - 1) % 3) + 3) % 3;
      const body = `${prefix}${'a'.repeat(pad)}${'€'.repeat(4000)}"}`;
      expect((8192 - Buffer.byteLength(prefix) - pad) % 3).toBe(1);
      const err = refusal(await send(body), 400, 'QOE_ERR_VALIDATION');
      expect(problemAt(err, 'note')).toBe('is not a known field');
    });

    it('refuses a body that is not JSON with 400 and the parser’s reason', async () => {
      const err = refusal(await send('hello, world'), 400, 'QOE_ERR_INVALID_JSON');
      expect(err.messages.join(' ')).toMatch(/not valid JSON/);
      refusal(await send(`{"envKey":"${envKey}","samples":[`), 400, 'QOE_ERR_INVALID_JSON');
    });

    it('refuses an empty body with 400', async () => {
      const err = refusal(await send(''), 400, 'QOE_ERR_INVALID_JSON');
      expect(err.messages.join(' ')).toMatch(/empty/);
      refusal(await send('   \n'), 400, 'QOE_ERR_INVALID_JSON');
    });

    it('refuses JSON that is not an object with 400, not 500', async () => {
      for (const body of ['null', '42', '"beacon"', 'true', '[]']) {
        const err = refusal(await send(body, TEXT, `?env_key=${envKey}`), 400, 'QOE_ERR_VALIDATION');
        expect(problemAt(err, '(body)')).toMatch(/must be an object/);
      }
    });

    it('survives deep nesting: 100 000 unclosed arrays → 400 invalid JSON', async () => {
      refusal(await send('['.repeat(100_000)), 400, 'QOE_ERR_INVALID_JSON');
      refusal(
        await send(`{"envKey":"${envKey}","samples":${'['.repeat(100_000)}`),
        400,
        'QOE_ERR_INVALID_JSON',
      );
    });

    it('survives deep nesting: 100 000 closed arrays → 400 naming where', async () => {
      const deep = '['.repeat(100_000) + ']'.repeat(100_000);
      const atRoot = refusal(await send(deep, TEXT, `?env_key=${envKey}`), 400, 'QOE_ERR_VALIDATION');
      expect(problemAt(atRoot, '(body)')).toMatch(/must be an object, got an array/);

      const head = JSON.stringify(makeBeacon({ envKey, events: [] })).replace(/,"samples":\[\]/, '');
      const inSamples = refusal(
        await send(`${head.slice(0, -1)},"samples":${deep}}`),
        400,
        'QOE_ERR_VALIDATION',
      );
      expect(problemAt(inSamples, 'samples[0]')).toMatch(/must be an object, got an array/);

      const objects = `${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`;
      const inField = refusal(
        await send(
          beacon(1, (_b, s) => {
            s[0]!['videoTitle'] = '__DEEP__';
          }).replace('"__DEEP__"', objects),
        ),
        400,
        'QOE_ERR_VALIDATION',
      );
      expect(problemAt(inField, 'samples[0].videoTitle')).toMatch(/must be a string, got an object/);
    });

    it('refuses an unsupported content type or content encoding with 415', async () => {
      const body = JSON.stringify(makeBeacon({ envKey, samples: samplesOf(badView(), 1) }));
      const type = refusal(
        await send(body, { 'content-type': 'application/xml' }),
        415,
        'QOE_ERR_UNSUPPORTED_MEDIA_TYPE',
      );
      expect(type.messages.join(' ')).toContain('application/xml');
      refusal(
        await send(body, { 'content-type': 'multipart/form-data; boundary=x' }),
        415,
        'QOE_ERR_UNSUPPORTED_MEDIA_TYPE',
      );
      const encoding = refusal(
        await send(body, { 'content-type': 'text/plain', 'content-encoding': 'br' }),
        415,
        'QOE_ERR_UNSUPPORTED_MEDIA_TYPE',
      );
      expect(encoding.messages.join(' ')).toContain('br');
    });
  });

  describe('CORS', () => {
    it('answers a POST with access-control-allow-origin: *', async () => {
      const res = await fetch(`${server.url}/v1/beacon`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', origin: 'https://www.example.com' },
        body: JSON.stringify(makeBeacon({ envKey, samples: samplesOf('good-cors', 1) })),
      });
      expect(res.status).toBe(202);
      accepted.set('good-cors', 1);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      // A refusal carries it too, or the page could not read the reason.
      const bad = await fetch(`${server.url}/v1/beacon`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', origin: 'https://www.example.com' },
        body: '',
      });
      await bad.text();
      refused.push('QOE_ERR_INVALID_JSON');
      expect(bad.status).toBe(400);
      expect(bad.headers.get('access-control-allow-origin')).toBe('*');
    });

    it('answers an OPTIONS preflight with 204 and allow-origin', async () => {
      const res = await fetch(`${server.url}/v1/beacon`, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://www.example.com',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type, content-encoding',
        },
      });
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    });
  });

  describe('after all of it', () => {
    it('is still healthy, still accepts good beacons and never answered 500', async () => {
      expect(server.child.exitCode).toBeNull();
      expect(server.child.signalCode).toBeNull();
      const health = await fetch(`${server.url}/healthz`);
      expect(health.status).toBe(200);
      expect(((await health.json()) as { status: string }).status).toBe('ok');

      const res = await send(JSON.stringify(makeBeacon({ envKey, samples: samplesOf('good-after', 5) })));
      expect(res.status).toBe(202);

      const text = await metrics(server.url);
      expect(text).not.toMatch(/openqoe_http_requests_total\{[^}]*status="5\d\d"/);
      expect(server.output()).not.toMatch(/internal error/i);
    });

    it('writes every refused payload to rejected_payloads within a few seconds', async () => {
      await eventually(async () => {
        expect(metric(await metrics(server.url), 'openqoe_rejected_payloads_recorded_total')).toBe(
          refused.length,
        );
      });
      expect(metric(await metrics(server.url), 'openqoe_rejected_payloads_capped_total')).toBe(0);
    });

    it('after stopping: kept the refusals (truncated, with their environment) and only the good samples', async () => {
      expect(await server.kill()).toBe(0);

      const rows = await queryDataDir(
        server.dataDir,
        `SELECT code, env_id, route, truncated, body, body_bytes, strlen(body) AS stored_bytes,
                CAST(fields AS VARCHAR) AS fields, CAST(messages AS VARCHAR) AS messages
           FROM rejected_payloads`,
      );
      expect(rows.map((r) => r['code']).sort()).toEqual([...refused].sort());
      for (const r of rows) {
        expect(r['route']).toBe('/v1/beacon');
        expect(Number(r['stored_bytes'])).toBeLessThanOrEqual(8192);
        expect(JSON.parse(String(r['messages'])).length).toBeGreaterThan(0);
        // Whatever was known of the environment is kept; an unknown or missing key has none.
        if (r['code'] === 'QOE_ERR_UNKNOWN_ENV_KEY' || r['code'] === 'QOE_ERR_MISSING_ENV_KEY') {
          expect(r['env_id']).toBeNull();
        }
        if (r['code'] === 'QOE_ERR_VALIDATION' || r['code'] === 'QOE_ERR_UNSUPPORTED_SCHEMA_VERSION') {
          expect(r['env_id']).toBe(envId);
        }
        // Bodies larger than the stored 8 KB say so.
        if (Number(r['body_bytes']) > 8192) expect(r['truncated']).toBe(true);
      }
      const byCode = (code: string) => rows.filter((r) => r['code'] === code);
      expect(byCode('QOE_ERR_PAYLOAD_TOO_LARGE')).toHaveLength(2);
      for (const r of byCode('QOE_ERR_PAYLOAD_TOO_LARGE')) {
        expect(Number(r['body_bytes'])).toBeGreaterThan(MiB);
        expect(r['truncated']).toBe(true);
      }
      expect(byCode('QOE_ERR_DECOMPRESSED_TOO_LARGE')).toHaveLength(2);
      for (const r of byCode('QOE_ERR_DECOMPRESSED_TOO_LARGE')) {
        // Binary (gzip) is kept as base64, cut so the encoded form fits in 8 KB.
        expect(r['truncated']).toBe(true);
        expect(String(r['body'])).toMatch(/^base64:[A-Za-z0-9+/]+=*$/);
        expect(Number(r['stored_bytes'])).toBeGreaterThan(8000);
      }
      const euros = rows.find((r) => String(r['fields']).includes('"note"'));
      expect(euros?.['truncated']).toBe(true);
      expect(String(euros?.['body'])).toMatch(/^\{"envKey":"\w+","note":"a*€+$/);
      expect(Number(euros?.['stored_bytes'])).toBe(8191);
      const title = rows.find((r) => String(r['fields']).includes('samples[0].videoTitle'));
      expect(title?.['env_id']).toBe(envId);
      expect(title?.['truncated']).toBe(true);
      expect(Number(title?.['stored_bytes'])).toBeGreaterThan(8000);
      const typed = rows.find((r) => String(r['fields']).includes('samples[2].videoBitrateBps'));
      expect(typed?.['truncated']).toBe(false);
      expect(typed?.['env_id']).toBe(envId);

      const stored = await queryDataDir(
        server.dataDir,
        'SELECT view_id, sum(sample_count)::INTEGER AS n FROM beacons GROUP BY view_id ORDER BY view_id',
      );
      const expected = [...accepted.entries()]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([view_id, n]) => ({ view_id, n }));
      expect(stored).toEqual(expected);
      expect(stored.some((r) => String(r['view_id']).startsWith('bad-'))).toBe(false);
      expect(expected.reduce((n, r) => n + r.n, 0)).toBe(3 + 2 + 1 + 5);
    });
  });
});

describe('native intake: rate limit per IP', () => {
  let server: ServerProcess;

  beforeAll(async () => {
    server = await startServer({
      config: {
        logLevel: 'warn',
        // A slow refill (one beacon per 10 s) so a slow disk cannot refill the bucket before the 4th beacon.
        intake: { rateLimit: { perIpPerSecond: 0.1, perIpBurst: 3, perEnvKeyPerSecond: 0 } },
      },
    });
  });

  afterAll(async () => {
    await server?.kill();
    if (server) removeDir(server.dataDir);
  });

  it('answers the 4th quick beacon 429 with Retry-After, and does not keep it as bad input', async () => {
    const envKey = server.bootstrap().environment.key;
    const statuses: number[] = [];
    let last: Reply | undefined;
    for (let i = 0; i < 4; i++) {
      last = await postBeacon(
        server.url,
        JSON.stringify(makeBeacon({ envKey, samples: samplesOf(`rl-${i}`, 1) })),
      );
      statuses.push(last.status);
    }
    expect(statuses).toEqual([202, 202, 202, 429]);
    const err = refusal(last!, 429, 'QOE_ERR_RATE_LIMITED');
    expect(err.type).toBe('rate_limited');
    const retryAfter = Number(last!.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(10);

    expect(await server.kill()).toBe(0);
    const rows = await queryDataDir(server.dataDir, 'SELECT count(*)::INTEGER AS n FROM rejected_payloads');
    expect(rows).toEqual([{ n: 0 }]);
    const stored = await queryDataDir(
      server.dataDir,
      'SELECT coalesce(sum(sample_count), 0)::INTEGER AS n FROM beacons',
    );
    expect(stored).toEqual([{ n: 3 }]);
  });
});

describe('native intake: rejected payloads are capped per environment', () => {
  let server: ServerProcess;

  beforeAll(async () => {
    server = await startServer({
      config: {
        ...TEST_CONFIG,
        intake: { ...TEST_CONFIG.intake, rejected: { maxPerEnvironmentPerHour: 5 } },
      },
    });
  });

  afterAll(async () => {
    await server?.kill();
    if (server) removeDir(server.dataDir);
  });

  it('keeps 5 of 20 bad beacons and counts the other 15 in openqoe_rejected_payloads_capped_total', async () => {
    const { key, id } = server.bootstrap().environment;
    for (let i = 0; i < 20; i++) {
      const b = makeBeacon({
        envKey: key,
        samples: samplesOf(`capped-${i}`, 1, { state: 'bogus' as 'playing' }),
      });
      const res = await postBeacon(server.url, JSON.stringify(b));
      refusal(res, 400, 'QOE_ERR_VALIDATION');
    }
    await eventually(async () => {
      const text = await metrics(server.url);
      expect(metric(text, 'openqoe_rejected_payloads_recorded_total')).toBe(5);
      expect(metric(text, 'openqoe_rejected_payloads_capped_total')).toBe(15);
    });

    expect(await server.kill()).toBe(0);
    const rows = await queryDataDir(
      server.dataDir,
      'SELECT env_id, code, count(*)::INTEGER AS n FROM rejected_payloads GROUP BY ALL',
    );
    expect(rows).toEqual([{ env_id: id, code: 'QOE_ERR_VALIDATION', n: 5 }]);
  });
});
