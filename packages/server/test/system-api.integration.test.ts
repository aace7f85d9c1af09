/**
 * The system API (environments and access tokens) over real sockets to the
 * real CLI: authentication, permissions and environment scopes, paging, the
 * error envelope, the OpenAPI document, secrets at rest and persistence
 * across a restart.
 */
import { type ErrorEnvelope, makeBeacon, makeSample } from '@openqoe/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  postBeacon,
  queryDataDir,
  removeDir,
  type ServerProcess,
  startServer,
} from './helpers/server-process.js';

interface EnvOut {
  id: string;
  name: string;
  key: string;
  created_at: number;
}
interface TokenOut {
  id: string;
  name: string;
  permissions: string[];
  environment_ids: string[];
  all_environments: boolean;
  created_at: number;
  secret?: string;
}
interface Answer {
  status: number;
  json: unknown;
  headers: Headers;
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

/** The envelope of a refusal, after checking its shape and code. */
function refusal(res: Answer, status: number, code: string): ErrorEnvelope['error'] {
  expect(res.status, JSON.stringify(res.json).slice(0, 500)).toBe(status);
  const err = (res.json as ErrorEnvelope).error;
  expect(err).toBeDefined();
  expect(err.code).toBe(code);
  expect(err.messages.length).toBeGreaterThan(0);
  expect(Array.isArray(err.fields)).toBe(true);
  return err;
}

const beaconFor = (envKey: string, viewId: string) =>
  JSON.stringify(makeBeacon({ envKey, samples: [makeSample({ viewId })] }));

describe('system API', () => {
  let server: ServerProcess;
  let admin: string;
  /** Every secret the server handed out, to check none is stored in plain text. */
  const secrets: string[] = [];
  /** A data:read token for one environment, checked again after the restart. */
  let limited: { token: TokenOut; auth: string };

  const api = async (
    method: string,
    path: string,
    options: { auth?: string | undefined; body?: unknown } = {},
  ): Promise<Answer> => {
    const headers: Record<string, string> = {};
    if (options.auth !== undefined) headers['authorization'] = options.auth;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, json, headers: res.headers };
  };

  const createToken = async (
    auth: string,
    body: Record<string, unknown>,
  ): Promise<{ token: TokenOut; auth: string }> => {
    const res = await api('POST', '/system/v1/access-tokens', { auth, body });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    const token = (res.json as { data: TokenOut }).data;
    secrets.push(token.secret!);
    return { token, auth: basic(token.id, token.secret!) };
  };

  const createEnv = async (name: string): Promise<EnvOut> => {
    const res = await api('POST', '/system/v1/environments', { auth: admin, body: { name } });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    return (res.json as { data: EnvOut }).data;
  };

  beforeAll(async () => {
    server = await startServer();
    admin = server.adminAuth();
    secrets.push(server.bootstrap().access_token.secret);
  });

  afterAll(async () => {
    await server?.kill();
    if (server) removeDir(server.dataDir);
  });

  describe('authentication', () => {
    it('refuses a request without a token: 401 envelope with www-authenticate', async () => {
      const res = await api('GET', '/system/v1/environments');
      const err = refusal(res, 401, 'QOE_ERR_UNAUTHORIZED');
      expect(err.type).toBe('unauthorized');
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
    });

    it('refuses a wrong secret, an unknown token id and a malformed header with 401', async () => {
      const { id } = server.bootstrap().access_token;
      refusal(
        await api('GET', '/system/v1/environments', { auth: basic(id, 'wrong-secret') }),
        401,
        'QOE_ERR_UNAUTHORIZED',
      );
      const { secret } = server.bootstrap().access_token;
      refusal(
        await api('GET', '/system/v1/environments', { auth: basic('no-such-id', secret) }),
        401,
        'QOE_ERR_UNAUTHORIZED',
      );
      for (const auth of ['Bearer abc', 'Basic', 'Basic !!!', basic('', secret)]) {
        refusal(await api('GET', '/system/v1/access-tokens', { auth }), 401, 'QOE_ERR_UNAUTHORIZED');
      }
    });

    it('refuses a token without `system` with 403', async () => {
      const { auth } = await createToken(admin, {
        name: 'reader',
        permissions: ['data:read'],
        all_environments: true,
      });
      const err = refusal(await api('GET', '/system/v1/environments', { auth }), 403, 'QOE_ERR_FORBIDDEN');
      expect(err.messages.join(' ')).toContain('system');
      refusal(await api('GET', '/system/v1/access-tokens', { auth }), 403, 'QOE_ERR_FORBIDDEN');
    });
  });

  describe('environments', () => {
    it('creates an environment (201, with a key) whose key the intake accepts at once', async () => {
      const res = await api('POST', '/system/v1/environments', { auth: admin, body: { name: 'staging' } });
      expect(res.status).toBe(201);
      const env = (res.json as { data: EnvOut }).data;
      expect(env.name).toBe('staging');
      expect(env.key).toMatch(/^\w{16,}$/);
      expect(env.id).toMatch(/^\w+$/);
      expect(Math.abs(env.created_at - Date.now() / 1000)).toBeLessThan(60);
      const beacon = await postBeacon(server.url, beaconFor(env.key, 'staging-view'));
      expect(beacon.status).toBe(202);

      const got = await api('GET', `/system/v1/environments/${env.id}`, { auth: admin });
      expect(got.status).toBe(200);
      expect((got.json as { data: EnvOut }).data).toEqual(env);
    });

    it('names the field of an invalid environment', async () => {
      const empty = refusal(
        await api('POST', '/system/v1/environments', { auth: admin, body: { name: '' } }),
        400,
        'QOE_ERR_VALIDATION',
      );
      expect(empty.fields.map((f) => f.path)).toContain('name');
      const extra = refusal(
        await api('POST', '/system/v1/environments', { auth: admin, body: { name: 'x', colour: 'red' } }),
        400,
        'QOE_ERR_VALIDATION',
      );
      expect(extra.fields).toContainEqual({ path: 'colour', problem: 'is not a known field' });
      const missing = refusal(
        await api('POST', '/system/v1/environments', { auth: admin, body: {} }),
        400,
        'QOE_ERR_VALIDATION',
      );
      expect(missing.fields).toContainEqual({ path: 'name', problem: 'is required' });
    });

    it('lists with paging: limit, page and total_row_count', async () => {
      for (const name of ['page-a', 'page-b', 'page-c']) await createEnv(name);
      const all = await api('GET', '/system/v1/environments?limit=1000', { auth: admin });
      expect(all.status).toBe(200);
      const full = all.json as { data: EnvOut[]; total_row_count: number };
      // default + staging + three.
      expect(full.total_row_count).toBe(5);
      expect(full.data.map((e) => e.name)).toEqual(
        expect.arrayContaining(['default', 'staging', 'page-a', 'page-b', 'page-c']),
      );

      const seen: string[] = [];
      for (const page of [1, 2, 3]) {
        const res = await api('GET', `/system/v1/environments?limit=2&page=${page}`, { auth: admin });
        expect(res.status).toBe(200);
        const body = res.json as { data: EnvOut[]; total_row_count: number };
        expect(body.total_row_count).toBe(5);
        expect(body.data).toHaveLength(page < 3 ? 2 : 1);
        seen.push(...body.data.map((e) => e.id));
      }
      expect(seen).toEqual(full.data.map((e) => e.id));

      const beyond = await api('GET', '/system/v1/environments?limit=2&page=9', { auth: admin });
      expect(beyond.json).toMatchObject({ data: [], total_row_count: 5 });

      const bad = refusal(
        await api('GET', '/system/v1/environments?limit=0', { auth: admin }),
        400,
        'QOE_ERR_INVALID_PARAMETERS',
      );
      expect(bad.fields.map((f) => f.path).join(' ')).toMatch(/limit/);
      const notNumber = refusal(
        await api('GET', '/system/v1/environments?page=abc', { auth: admin }),
        400,
        'QOE_ERR_INVALID_PARAMETERS',
      );
      expect(notNumber.fields.map((f) => f.path).join(' ')).toMatch(/page/);
    });

    it('deleting an environment makes its key fail at the intake with 401', async () => {
      const env = await createEnv('short-lived');
      expect((await postBeacon(server.url, beaconFor(env.key, 'short-lived-1'))).status).toBe(202);
      const del = await api('DELETE', `/system/v1/environments/${env.id}`, { auth: admin });
      expect(del.status).toBe(204);
      refusal(
        await postBeacon(server.url, beaconFor(env.key, 'short-lived-2')),
        401,
        'QOE_ERR_UNKNOWN_ENV_KEY',
      );
      refusal(
        await api('GET', `/system/v1/environments/${env.id}`, { auth: admin }),
        404,
        'QOE_ERR_NOT_FOUND',
      );
      refusal(
        await api('DELETE', `/system/v1/environments/${env.id}`, { auth: admin }),
        404,
        'QOE_ERR_NOT_FOUND',
      );
    });
  });

  describe('access tokens', () => {
    let envA: EnvOut;
    let envB: EnvOut;
    let systemA: { token: TokenOut; auth: string };

    beforeAll(async () => {
      envA = await createEnv('env-a');
      envB = await createEnv('env-b');
    });

    it('creates a token for one environment with data:read: the secret is shown once', async () => {
      limited = await createToken(admin, {
        name: 'dashboard',
        permissions: ['data:read'],
        environment_ids: [envA.id],
      });
      expect(limited.token).toMatchObject({
        name: 'dashboard',
        permissions: ['data:read'],
        environment_ids: [envA.id],
        all_environments: false,
      });
      expect(limited.token.secret!.length).toBeGreaterThanOrEqual(32);

      const got = await api('GET', `/system/v1/access-tokens/${limited.token.id}`, { auth: admin });
      expect(got.status).toBe(200);
      const data = (got.json as { data: TokenOut }).data;
      expect(data).not.toHaveProperty('secret');
      expect(data).not.toHaveProperty('secret_hash');
      const { secret: _secret, ...withoutSecret } = limited.token;
      expect(data).toEqual(withoutSecret);

      const list = await api('GET', '/system/v1/access-tokens?limit=1000', { auth: admin });
      expect(list.status).toBe(200);
      const text = JSON.stringify(list.json);
      expect(text).toContain(limited.token.id);
      for (const s of secrets) expect(text).not.toContain(s);
      expect(text).not.toContain('secret');
    });

    it('a token without `system` cannot create tokens (403)', async () => {
      refusal(
        await api('POST', '/system/v1/access-tokens', {
          auth: limited.auth,
          body: { name: 'escalate', permissions: ['data:read'], environment_ids: [envA.id] },
        }),
        403,
        'QOE_ERR_FORBIDDEN',
      );
    });

    it('a system token limited to environment A cannot grant B, all environments, or a permission it lacks', async () => {
      systemA = await createToken(admin, {
        name: 'env-a-admin',
        permissions: ['system'],
        environment_ids: [envA.id],
      });
      const grant = (body: Record<string, unknown>) =>
        api('POST', '/system/v1/access-tokens', { auth: systemA.auth, body: { name: 'granted', ...body } });

      const toB = refusal(
        await grant({ permissions: ['system'], environment_ids: [envB.id] }),
        403,
        'QOE_ERR_FORBIDDEN',
      );
      expect(toB.messages.join(' ')).toMatch(/environment/);
      refusal(
        await grant({ permissions: ['system'], environment_ids: [envA.id, envB.id] }),
        403,
        'QOE_ERR_FORBIDDEN',
      );
      refusal(await grant({ permissions: ['system'], all_environments: true }), 403, 'QOE_ERR_FORBIDDEN');
      const lacks = refusal(
        await grant({ permissions: ['data:read'], environment_ids: [envA.id] }),
        403,
        'QOE_ERR_FORBIDDEN',
      );
      expect(lacks.messages.join(' ')).toContain('data:read');
      // Nor create environments, which would be outside what it covers.
      refusal(
        await api('POST', '/system/v1/environments', { auth: systemA.auth, body: { name: 'sneaky' } }),
        403,
        'QOE_ERR_FORBIDDEN',
      );

      // What it has, it can grant.
      const ok = await createToken(systemA.auth, {
        name: 'granted',
        permissions: ['system'],
        environment_ids: [envA.id],
      });
      expect(ok.token.environment_ids).toEqual([envA.id]);

      // It sees only environment A and the tokens within it.
      const envs = await api('GET', '/system/v1/environments', { auth: systemA.auth });
      expect((envs.json as { data: EnvOut[] }).data.map((e) => e.id)).toEqual([envA.id]);
      const toks = await api('GET', '/system/v1/access-tokens?limit=1000', { auth: systemA.auth });
      const ids = (toks.json as { data: TokenOut[] }).data.map((t) => t.id);
      expect(ids).toEqual(expect.arrayContaining([limited.token.id, systemA.token.id, ok.token.id]));
      expect(ids).not.toContain(server.bootstrap().access_token.id);
      refusal(
        await api('GET', `/system/v1/access-tokens/${server.bootstrap().access_token.id}`, {
          auth: systemA.auth,
        }),
        404,
        'QOE_ERR_NOT_FOUND',
      );
      refusal(
        await api('GET', `/system/v1/environments/${envB.id}`, { auth: systemA.auth }),
        404,
        'QOE_ERR_NOT_FOUND',
      );
    });

    it('names the fields of an invalid token request', async () => {
      const create = (body: unknown) => api('POST', '/system/v1/access-tokens', { auth: admin, body });

      const bogus = refusal(
        await create({ name: 'x', permissions: ['bogus'], all_environments: true }),
        400,
        'QOE_ERR_VALIDATION',
      );
      // One line naming the element and the choices, not one per choice.
      expect(bogus.fields).toEqual([
        { path: 'permissions[0]', problem: 'must be one of "data:read", "system", "video", "alerts"' },
      ]);

      const none = refusal(
        await create({ name: 'x', permissions: [], all_environments: true }),
        400,
        'QOE_ERR_VALIDATION',
      );
      expect(none.fields.map((f) => f.path)).toContain('permissions');

      const missing = refusal(
        await create({ permissions: ['system'], all_environments: true }),
        400,
        'QOE_ERR_VALIDATION',
      );
      expect(missing.fields).toContainEqual({ path: 'name', problem: 'is required' });

      const noScope = refusal(
        await create({ name: 'x', permissions: ['system'] }),
        400,
        'QOE_ERR_VALIDATION',
      );
      expect(noScope.fields.map((f) => f.path)).toContain('environment_ids');

      const both = refusal(
        await create({
          name: 'x',
          permissions: ['system'],
          all_environments: true,
          environment_ids: [envA.id],
        }),
        400,
        'QOE_ERR_VALIDATION',
      );
      expect(both.fields.map((f) => f.path)).toContain('environment_ids');

      const unknownEnv = refusal(
        await create({ name: 'x', permissions: ['system'], environment_ids: ['no-such-env'] }),
        400,
        'QOE_ERR_VALIDATION',
      );
      expect(unknownEnv.fields).toContainEqual({
        path: 'environment_ids',
        problem: 'no environment no-such-env',
      });

      const notJson = await fetch(`${server.url}/system/v1/access-tokens`, {
        method: 'POST',
        headers: { authorization: admin, 'content-type': 'application/json' },
        body: '{"name": ',
      });
      refusal(
        { status: notJson.status, json: await notJson.json(), headers: notJson.headers },
        400,
        'QOE_ERR_INVALID_JSON',
      );
    });

    it('a deleted token no longer authenticates (401)', async () => {
      const doomed = await createToken(admin, {
        name: 'doomed',
        permissions: ['system'],
        all_environments: true,
      });
      expect((await api('GET', '/system/v1/environments', { auth: doomed.auth })).status).toBe(200);
      const del = await api('DELETE', `/system/v1/access-tokens/${doomed.token.id}`, { auth: admin });
      expect(del.status).toBe(204);
      refusal(
        await api('GET', '/system/v1/environments', { auth: doomed.auth }),
        401,
        'QOE_ERR_UNAUTHORIZED',
      );
      refusal(
        await api('GET', `/system/v1/access-tokens/${doomed.token.id}`, { auth: admin }),
        404,
        'QOE_ERR_NOT_FOUND',
      );
    });

    it('refuses to delete the last token holding `system` (409)', async () => {
      const list = await api('GET', '/system/v1/access-tokens?limit=1000', { auth: admin });
      const adminId = server.bootstrap().access_token.id;
      const others = (list.json as { data: TokenOut[] }).data.filter(
        (t) => t.permissions.includes('system') && t.id !== adminId,
      );
      expect(others.length).toBeGreaterThan(0);
      for (const t of others) {
        expect((await api('DELETE', `/system/v1/access-tokens/${t.id}`, { auth: admin })).status).toBe(204);
      }
      const err = refusal(
        await api('DELETE', `/system/v1/access-tokens/${adminId}`, { auth: admin }),
        409,
        'QOE_ERR_CONFLICT',
      );
      expect(err.messages.join(' ')).toMatch(/last token with the system permission/);
      // And it still works.
      expect((await api('GET', '/system/v1/access-tokens', { auth: admin })).status).toBe(200);
    });
  });

  describe('routes and documentation', () => {
    it('answers an unknown route with a 404 envelope', async () => {
      const err = refusal(await api('GET', '/system/v1/nothing-here'), 404, 'QOE_ERR_NOT_FOUND');
      expect(err.type).toBe('not_found');
      expect(err.messages.join(' ')).toContain('/system/v1/nothing-here');
      refusal(await api('POST', '/no/such/route', { body: {} }), 404, 'QOE_ERR_NOT_FOUND');
    });

    it('serves an OpenAPI document at /docs/json listing the intake and the system API', async () => {
      const res = await fetch(`${server.url}/docs/json`);
      expect(res.status).toBe(200);
      const doc = (await res.json()) as {
        openapi: string;
        paths: Record<string, Record<string, unknown>>;
        components: { securitySchemes: Record<string, unknown> };
      };
      expect(doc.openapi).toMatch(/^3\./);
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining([
          '/v1/beacon',
          '/system/v1/access-tokens',
          '/system/v1/access-tokens/{id}',
          '/system/v1/environments',
          '/system/v1/environments/{id}',
        ]),
      );
      expect(doc.paths['/v1/beacon']).toHaveProperty('post');
      expect(Object.keys(doc.paths['/system/v1/access-tokens']!)).toEqual(
        expect.arrayContaining(['get', 'post']),
      );
      expect(doc.components.securitySchemes).toHaveProperty('basicAuth');
    });
  });

  describe('at rest and across a restart', () => {
    it('stores secrets only as hashes', async () => {
      expect(await server.kill()).toBe(0);
      const rows = await queryDataDir(server.dataDir, 'SELECT * FROM access_tokens');
      expect(rows.length).toBeGreaterThan(0);
      const dump = JSON.stringify(rows);
      expect(secrets.length).toBeGreaterThanOrEqual(5);
      for (const s of secrets) expect(dump).not.toContain(s);
      for (const r of rows) expect(String(r['secret_hash'])).toMatch(/^[0-9a-f]{64}$/);
    });

    it('keeps tokens and environments across a restart of the same data dir', async () => {
      const before = server.bootstrap();
      server = await startServer({ dataDir: server.dataDir });
      // Not a first start: nothing is created or printed again.
      expect(server.output()).not.toContain('First start');
      expect(server.output()).not.toContain(before.access_token.secret);
      expect(server.bootstrap()).toEqual(before);

      const envs = await api('GET', '/system/v1/environments?limit=1000', { auth: admin });
      expect(envs.status).toBe(200);
      const names = (envs.json as { data: EnvOut[] }).data.map((e) => e.name);
      expect(names).toEqual(expect.arrayContaining(['default', 'staging', 'env-a', 'env-b']));
      expect(names).not.toContain('short-lived');

      const reader = await api('GET', '/system/v1/access-tokens?limit=1000', { auth: admin });
      const tokens = (reader.json as { data: TokenOut[] }).data;
      expect(tokens.find((t) => t.name === 'dashboard')?.id).toBe(limited.token.id);
      // Its secret still authenticates (403: it lacks system, not 401).
      refusal(await api('GET', '/system/v1/environments', { auth: limited.auth }), 403, 'QOE_ERR_FORBIDDEN');
      expect(tokens.find((t) => t.name === 'doomed')).toBeUndefined();

      const staging = (envs.json as { data: EnvOut[] }).data.find((e) => e.name === 'staging')!;
      expect((await postBeacon(server.url, beaconFor(staging.key, 'staging-after-restart'))).status).toBe(
        202,
      );
    });
  });
});
