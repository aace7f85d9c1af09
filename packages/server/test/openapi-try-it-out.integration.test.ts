/**
 * The API reference's "Try it out", checked the way a user uses it: every
 * operation of the OpenAPI document (/docs/json) is sent as the document
 * fills it in — each parameter's example, else a required one's first enum
 * value or default; each body's example — to a seeded server, and must answer
 * 2xx. Only what no document can know comes from the server: ids of things
 * that exist (a view, an environment, a token, a signing key, a live stream,
 * created by the document's own POST examples), the environment key and id
 * in the examples, and a stats token signed with a real signing key.
 *
 * Also checked: every enum lists all its values (no `anyOf` of one-value
 * enums, which Swagger UI offers as a dropdown of the first value only), and
 * no parameter with a default is required.
 */

import { execFile } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patience } from './helpers/patience.js';
import { track } from './helpers/processes.js';
import {
  CLI,
  readMetric,
  removeDir,
  type ServerProcess,
  startServer,
  TEST_CONFIG,
  waitFor,
} from './helpers/server-process.js';

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  example?: unknown;
  examples?: Record<string, { value: unknown }>;
  schema?: { enum?: unknown[]; default?: unknown; examples?: unknown[]; items?: { enum?: unknown[] } };
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: {
    content: Record<string, { example?: unknown; examples?: unknown; schema?: { examples?: unknown[] } }>;
  };
  responses?: Record<string, { content?: Record<string, { example?: unknown }> }>;
}
type Doc = { paths: Record<string, Record<string, Operation>> };

/** The ids and key of the document's own examples (api/openapi-examples.ts), standing for the seeded server's. */
const EXAMPLE_ENV_ID = 'k3q7x2m9p4ab';
const EXAMPLE_ENV_KEY = 'b6s2x7kq4mzp9t3vw5ry8ch2nd';
const VIEWS = 40;

function generate(server: ServerProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    track(
      execFile(
        process.execPath,
        [
          CLI,
          'generate',
          '--views',
          String(VIEWS),
          '--days',
          '1',
          '--seed',
          '3',
          '--data-dir',
          server.dataDir,
        ],
        { timeout: patience(120_000) },
        (err, _stdout, stderr) => (err ? reject(new Error(`generate failed: ${stderr}`)) : resolve()),
      ),
      'openqoe generate',
    );
  });
}

function exampleOf(p: Parameter): unknown {
  if (p.example !== undefined) return p.example;
  if (p.examples) return Object.values(p.examples)[0]?.value;
  if (p.schema?.examples?.length) return p.schema.examples[0];
  if (!p.required) return undefined;
  return p.schema?.enum?.[0] ?? p.schema?.default;
}

describe('the OpenAPI document in use', () => {
  let server: ServerProcess;
  let doc: Doc;
  let viewId: string;
  let envId: string;
  let envKey: string;
  let incidentId = '';

  beforeAll(async () => {
    server = await startServer({
      config: {
        ...TEST_CONFIG,
        views: { idleCompleteMs: 300, tickIntervalMs: 50 },
        // An incident for the incidents' examples to read and acknowledge: nobody watches now.
        alerts: {
          rules: [
            {
              id: 'nobody-watching',
              name: 'Nobody watching',
              metric: 'current_concurrent_viewers',
              condition: { type: 'threshold', operator: '<', value: 1, for_seconds: 0, min_audience: 0 },
            },
          ],
        },
      },
    });
    ({ id: envId, key: envKey } = server.bootstrap().environment);
    await generate(server);
    await waitFor(
      async () => (await readMetric(server, 'openqoe_pipeline_views_stored_total')) >= VIEWS,
      'the generated views to be stored',
      patience(60_000),
    );
    const views = (await (
      await fetch(`${server.url}/data/v1/video-views?timeframe[]=7:days`, {
        headers: { authorization: server.adminAuth() },
      })
    ).json()) as { data: { view_id: string }[] };
    viewId = views.data[0]!.view_id;
    doc = (await (await fetch(`${server.url}/docs/json`)).json()) as Doc;
    await waitFor(
      async () => {
        const res = await fetch(`${server.url}/data/v1/incidents`, {
          headers: { authorization: server.adminAuth() },
        });
        incidentId = ((await res.json()) as { data: { id: string }[] }).data[0]?.id ?? '';
        return incidentId !== '';
      },
      'the seeded incident',
      patience(60_000),
    );
  }, patience(180_000));

  afterAll(async () => {
    await server?.kill();
    if (server) removeDir(server.dataDir);
  });

  it('lists every value of every enum, and requires no parameter that has a default', () => {
    // A union of one-value enums is an enum (Swagger UI offers only the first member of an anyOf);
    // a union of object shapes (an alert rule's threshold or anomaly condition) stays an anyOf.
    const literalUnions: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (!node || typeof node !== 'object') return;
      const anyOf = (node as { anyOf?: { enum?: unknown[] }[] }).anyOf;
      if (anyOf?.some((m) => m.enum?.length === 1)) literalUnions.push(path);
      for (const [k, v] of Object.entries(node)) walk(v, `${path}/${k}`);
    };
    walk(doc, '');
    expect(literalUnions).toEqual([]);
    const measurement = doc.paths['/data/v1/metrics/{metric_id}/breakdown']!['get']!.parameters!.find(
      (p) => p.name === 'measurement',
    );
    expect(measurement?.schema?.enum).toEqual([
      'avg',
      'median',
      '75th',
      '90th',
      '95th',
      '99th',
      'sum',
      'count',
      'min',
      'max',
    ]);
    const metricIds = doc.paths['/data/v1/metrics/{metric_id}/overall']!['get']!.parameters!.find(
      (p) => p.name === 'metric_id',
    );
    expect(metricIds?.schema?.enum?.length).toBeGreaterThan(10);
    for (const [path, ops] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(ops))
        for (const p of op.parameters ?? [])
          if (p.schema?.default !== undefined) expect(p.required, `${method} ${path} ${p.name}`).toBeFalsy();
  });

  it('answers every example request 2xx', async () => {
    // Created by the POST examples, used by the GET ones, deleted by the DELETE ones (last).
    const created: Record<string, string> = { '/data/v1/incidents': incidentId };
    let statsToken = '';
    const failures: string[] = [];
    const answers: Record<string, string> = {};
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
    );
    // Creating an environment makes the admin token cover two, after which calls that name none are
    // refused (400, by design): the environments' own examples go last, as on a fresh server.
    // Channels before the rules that notify them, rules before their silences.
    const dependants = ['/system/v1/notification-channels', '/system/v1/alert-rules', '/system/v1/silences'];
    const rank = (path: string, m: string) =>
      (path.startsWith('/system/v1/environments') ? 3 : 0) +
      (m === 'POST' ? 0 : m === 'DELETE' ? 2 : 1) +
      Math.max(
        0,
        dependants.findIndex((d) => path.startsWith(d)),
      ) /
        10;
    // An id in one example standing for what another example's POST made: the made one's id.
    const madeIds = new Map<string, string>();
    operations.sort((a, b) => rank(a.path, a.method) - rank(b.path, b.method));

    for (const { path, method, op } of operations) {
      const collection = path.replace(/\/\{[^}]+\}.*$/, '');
      const query = new URLSearchParams();
      let url = path;
      let missing = '';
      for (const p of op.parameters ?? []) {
        let value = exampleOf(p);
        if (p.in === 'path') {
          if (p.name === 'view_id') value = viewId;
          else if (p.name === 'env_key') value = envKey;
          else if (p.name === 'id') value = created[collection];
          if (value === undefined) missing = p.name;
          url = url.replace(`{${p.name}}`, encodeURIComponent(String(value)));
        } else if (p.in === 'query') {
          if (p.name === 'token' && (path === '/live-stream-health' || path === '/counts'))
            value = statsToken;
          if (value === undefined) {
            if (p.required) missing = p.name;
            continue;
          }
          for (const v of Array.isArray(value) ? value : [value]) query.append(p.name, String(v));
        }
      }
      if (missing) {
        failures.push(`${method} ${path}: no example for ${missing}`);
        continue;
      }
      const json = op.requestBody?.content['application/json'];
      const bodyExample = json?.example ?? json?.schema?.examples?.[0];
      const body =
        bodyExample === undefined
          ? undefined
          : [...madeIds].reduce(
              (text, [example, made]) => text.replaceAll(example, made),
              JSON.stringify(bodyExample)
                .replaceAll(EXAMPLE_ENV_ID, envId)
                .replaceAll(EXAMPLE_ENV_KEY, envKey),
            );
      const target = `${url}${query.size ? `?${query}` : ''}`;
      const res = await fetch(`${server.url}${target}`, {
        method,
        headers: {
          authorization: server.adminAuth(),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body } : {}),
      });
      const text = await res.text();
      answers[`${method} ${path}`] = text;
      if (res.status >= 300) {
        failures.push(`${method} ${target}: ${res.status} ${text.slice(0, 300)}`);
        continue;
      }
      if (method === 'POST' && res.status === 201) {
        const id = (JSON.parse(text) as { data: { id: string } }).data.id;
        created[collection] = id;
        const example = op.responses?.['201']?.content?.['application/json']?.example as
          | { data?: { id?: string } }
          | undefined;
        if (example?.data?.id) madeIds.set(example.data.id, id);
        if (collection === '/system/v1/signing-keys') {
          const key = (JSON.parse(text) as { data: { private_key: string } }).data.private_key;
          created['key-pem'] = Buffer.from(key, 'base64').toString();
        }
      }
      if (!statsToken && created['/video/v1/live-streams'] && created['key-pem']) {
        statsToken = await new SignJWT({})
          .setProtectedHeader({ alg: 'RS256', kid: created['/system/v1/signing-keys']! })
          .setSubject(created['/video/v1/live-streams'])
          .setAudience('live_stream_id')
          .setExpirationTime(Math.floor(Date.now() / 1000) + 600)
          .sign(createPrivateKey(created['key-pem']));
      }
    }
    expect(failures).toEqual([]);
    expect(operations.length).toBeGreaterThan(30);
    // The pre-filled filters (country:DE, !cdn_provider:cdn-b) find the generated German views.
    const breakdown = JSON.parse(answers['GET /data/v1/metrics/{metric_id}/breakdown']!) as {
      data: { field: string; views: number }[];
    };
    expect(breakdown.data.map((r) => r.field)).toEqual(['DE']);
    expect(breakdown.data[0]!.views).toBeGreaterThan(0);
  });
});
