/**
 * Signing keys, live streams and the stats API's token checks, over real
 * sockets to the real server CLI. Tokens are minted by `jose` (kid in the
 * header) and by the reference's own node SDK (kid in the payload), and
 * every way a token can be wrong is refused with a JSON error.
 */
import { execFile } from 'node:child_process';
import { createPrivateKey, createPublicKey, createSign } from 'node:crypto';
import { promisify } from 'node:util';
import Mux from '@mux/mux-node';
import type { ErrorEnvelope } from '@openqoe/schema';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Answer,
  type CreatedKey,
  call,
  createLiveStream,
  createSigningKey,
  type LiveStreamOut,
} from './helpers/live.js';
import { CLI, removeDir, type ServerProcess, startServer } from './helpers/server-process.js';

const b64url = (v: string | Buffer) => Buffer.from(v).toString('base64url');
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

function mint(
  key: CreatedKey,
  claims: { sub?: string; aud?: string; exp?: number | null; kidIn?: 'header' | 'payload' },
): Promise<string> {
  const exp = claims.exp === undefined ? Math.floor(Date.now() / 1000) + 600 : claims.exp;
  const payload: Record<string, unknown> = {};
  if (claims.kidIn === 'payload') payload['kid'] = key.id;
  const jwt = new SignJWT(payload).setProtectedHeader(
    claims.kidIn === 'payload' ? { alg: 'RS256' } : { alg: 'RS256', kid: key.id },
  );
  if (claims.sub !== undefined) jwt.setSubject(claims.sub);
  if (claims.aud !== undefined) jwt.setAudience(claims.aud);
  if (exp !== null) jwt.setExpirationTime(exp);
  return jwt.sign(createPrivateKey(key.privateKeyPem));
}

async function stats(server: ServerProcess, path: string, token?: string): Promise<Answer> {
  const q = token === undefined ? '' : `?token=${encodeURIComponent(token)}`;
  return call(server, 'GET', `${path}${q}`, null);
}

/** A refusal: the status, the JSON envelope with a message, never a stack trace. */
function refused(res: Answer, status: number): string {
  expect(res.status, JSON.stringify(res.json)).toBe(status);
  const err = (res.json as ErrorEnvelope).error;
  expect(typeof err.type).toBe('string');
  expect(err.messages.length).toBeGreaterThan(0);
  expect(JSON.stringify(res.json)).not.toMatch(/\n\s+at |node_modules|\.js:\d+/);
  return err.messages.join(' ');
}

describe('signing keys, live streams and the stats API', () => {
  let server: ServerProcess;
  let key: CreatedKey;
  let stream: LiveStreamOut;
  let createdKeyBody: Record<string, unknown>;

  beforeAll(async () => {
    server = await startServer();
    const res = await call(server, 'POST', '/system/v1/signing-keys');
    expect(res.status).toBe(201);
    createdKeyBody = (res.json as { data: Record<string, unknown> }).data;
    key = {
      id: String(createdKeyBody['id']),
      privateKeyPem: Buffer.from(String(createdKeyBody['private_key']), 'base64').toString('utf8'),
    };
    stream = await createLiveStream(server);
  });

  afterAll(async () => {
    await server?.kill();
    if (server) removeDir(server.dataDir);
  });

  describe('signing keys API', () => {
    it('creates a 2048-bit RSA key and returns its private key once, as base64 of a PEM', async () => {
      expect(key.privateKeyPem).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
      const priv = createPrivateKey(key.privateKeyPem);
      expect(priv.asymmetricKeyType).toBe('rsa');
      expect(priv.asymmetricKeyDetails?.modulusLength).toBe(2048);
      expect(String(createdKeyBody['created_at'])).toMatch(/^\d{10}$/);
      expect(Math.abs(Number(createdKeyBody['created_at']) - Date.now() / 1000)).toBeLessThan(120);
      const got = await call(server, 'GET', `/system/v1/signing-keys/${key.id}`);
      expect(got.status).toBe(200);
      expect(got.json).toEqual({
        data: {
          id: key.id,
          environment_id: server.bootstrap().environment.id,
          created_at: createdKeyBody['created_at'],
        },
      });
      const list = await call(server, 'GET', '/system/v1/signing-keys');
      expect(JSON.stringify(list.json)).not.toContain('private_key');
      expect(JSON.stringify(list.json)).not.toContain(String(createdKeyBody['private_key']).slice(40, 80));
    });

    it('keeps only the public key at rest', async () => {
      const res = await call(server, 'POST', '/system/v1/signing-keys');
      const data = (res.json as { data: { id: string; private_key: string } }).data;
      const pem = Buffer.from(data.private_key, 'base64').toString('utf8');
      // The store holds the public half; the private half (or any part of it) is nowhere in the data dir.
      const { readdirSync, readFileSync } = await import('node:fs');
      const body = pem.split('\n')[5]!;
      for (const f of readdirSync(server.dataDir)) {
        if (!f.includes('.duckdb')) continue;
        expect(readFileSync(`${server.dataDir}/${f}`).includes(body)).toBe(false);
      }
      await call(server, 'DELETE', `/system/v1/signing-keys/${data.id}`);
    });

    it('needs an access token with the system permission', async () => {
      refused(await call(server, 'POST', '/system/v1/signing-keys', null), 401);
      const t = await call(server, 'POST', '/system/v1/access-tokens', server.adminAuth(), {
        name: 'video only',
        permissions: ['video'],
        environment_ids: [server.bootstrap().environment.id],
      });
      const tok = (t.json as { data: { id: string; secret: string } }).data;
      expect(
        refused(await call(server, 'GET', '/system/v1/signing-keys', basic(tok.id, tok.secret)), 403),
      ).toMatch(/system/);
      // …and the video permission is what the live streams API needs.
      expect((await call(server, 'GET', '/video/v1/live-streams', basic(tok.id, tok.secret))).status).toBe(
        200,
      );
    });

    it('refuses an environment the token does not know, naming the field', async () => {
      const res = await call(server, 'POST', '/system/v1/signing-keys', server.adminAuth(), {
        environment_id: 'nope',
      });
      refused(res, 400);
      expect((res.json as ErrorEnvelope).error.fields[0]).toEqual({
        path: 'environment_id',
        problem: 'no environment nope',
      });
    });
  });

  describe('live streams API', () => {
    it('creates, lists, gets and deletes streams with a secret key and a status', async () => {
      expect(stream.status).toBe('idle');
      expect(stream.stream_key).toMatch(/^[A-Za-z0-9_-]{32}$/);
      const other = await createLiveStream(server);
      expect(other.stream_key).not.toBe(stream.stream_key);
      const list = (await call(server, 'GET', '/video/v1/live-streams')).json as {
        data: LiveStreamOut[];
        total_row_count: number;
      };
      expect(list.data.map((s) => s.id)).toEqual(expect.arrayContaining([stream.id, other.id]));
      expect((await call(server, 'GET', `/video/v1/live-streams/${other.id}`)).json).toEqual({ data: other });
      expect((await call(server, 'DELETE', `/video/v1/live-streams/${other.id}`)).status).toBe(204);
      refused(await call(server, 'GET', `/video/v1/live-streams/${other.id}`), 404);
      refused(await call(server, 'POST', '/video/v1/live-streams', null), 401);
    });
  });

  it('the CLI creates, lists and deletes live streams and signing keys', async () => {
    const cli = async (...args: string[]) =>
      // The options go right after the command, so that `--` can end them.
      (
        await promisify(execFile)(process.execPath, [
          CLI,
          ...args.slice(0, 2),
          '--url',
          server.url,
          '--data-dir',
          server.dataDir,
          ...args.slice(2),
        ])
      ).stdout;
    const created = JSON.parse(await cli('live-streams', 'create', '--json')) as { data: LiveStreamOut };
    expect(created.data.status).toBe('idle');
    expect(await cli('live-streams', 'list')).toContain(created.data.id);
    expect(await cli('live-streams', 'delete', created.data.id)).toContain(
      `deleted live stream ${created.data.id}`,
    );
    expect(await cli('live-streams', 'list')).not.toContain(created.data.id);
    // An id that begins with "-" (none is made so now; older ones may) goes
    // after `--` and reaches the server, which says it does not know it.
    const dashed = await cli('live-streams', 'delete', '--', '-0ldStreamId0').catch(
      (e: { stderr: string }) => e,
    );
    expect(typeof dashed === 'string' ? dashed : dashed.stderr).toMatch(/-0ldStreamId0|not found/i);
    expect(typeof dashed === 'string' ? '' : dashed.stderr).not.toMatch(/unknown option/);
    const human = await cli('signing-keys', 'create');
    const id = /created signing key (\S+)/.exec(human)![1]!;
    const b64 = human.trim().split('\n').at(-1)!;
    expect(Buffer.from(b64, 'base64').toString()).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    expect(await cli('signing-keys', 'list')).toContain(id);
    await cli('signing-keys', 'delete', id);
    expect(await cli('signing-keys', 'list')).not.toContain(id);
  });

  describe('tokens', () => {
    const health = (token?: string) => stats(server, '/live-stream-health', token);
    const counts = (token?: string) => stats(server, '/counts', token);

    it('accepts a jose token with kid in the header, with the reference shape and open CORS', async () => {
      const res = await health(await mint(key, { sub: stream.id, aud: 'live_stream_id' }));
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      const data = (res.json as { data: { ingest_health: Record<string, unknown> }[] }).data;
      expect(data).toHaveLength(1);
      expect(Object.keys(data[0]!)).toEqual(['ingest_health']);
      const h = data[0]!.ingest_health;
      expect(Object.keys(h).sort()).toEqual(
        [
          'status',
          'stream_drift_deviation_from_rolling_avg',
          'stream_drift_session_avg',
          'updated_at',
        ].sort(),
      );
      expect(h['status']).toBe('unknown');
      expect(new Date(String(h['updated_at'])).toISOString()).toBe(h['updated_at']);
    });

    it('accepts kid in the payload and the older aud livestream_id', async () => {
      expect(
        (await health(await mint(key, { sub: stream.id, aud: 'live_stream_id', kidIn: 'payload' }))).status,
      ).toBe(200);
      expect((await health(await mint(key, { sub: stream.id, aud: 'livestream_id' }))).status).toBe(200);
      expect((await counts(await mint(key, { sub: stream.id, aud: 'livestream_id' }))).status).toBe(200);
    });

    it('accepts tokens minted by the reference node SDK (jwt.signViewerCounts)', async () => {
      const mux = new Mux({ tokenId: 'unused', tokenSecret: 'unused' });
      const keySecret = Buffer.from(key.privateKeyPem).toString('base64');
      for (const type of ['video', 'asset', 'playback', 'live_stream'] as const) {
        const t = await mux.jwt.signViewerCounts('some-id', {
          keyId: key.id,
          keySecret,
          type,
          expiration: '1h',
        });
        const res = await counts(t);
        expect(res.status, `${type}: ${JSON.stringify(res.json)}`).toBe(200);
        const d = (res.json as { data: { views: number; viewers: number; updated_at: string }[] }).data;
        expect(d).toEqual([{ views: 0, viewers: 0, updated_at: expect.any(String) }]);
      }
      const live = await mux.jwt.signViewerCounts(stream.id, {
        keyId: key.id,
        keySecret,
        type: 'live_stream',
      });
      expect((await health(live)).status).toBe(200);
    });

    it('refuses a missing, malformed, expired or exp-less token with 401', async () => {
      expect(refused(await health(), 401)).toMatch(/token/);
      refused(await health('not.a.jwt'), 401);
      refused(await counts('garbage'), 401);
      const expired = await mint(key, {
        sub: stream.id,
        aud: 'live_stream_id',
        exp: Math.floor(Date.now() / 1000) - 60,
      });
      expect(refused(await health(expired), 401)).toMatch(/expired/);
      const noExp = await mint(key, { sub: stream.id, aud: 'live_stream_id', exp: null });
      expect(refused(await health(noExp), 401)).toMatch(/exp/);
    });

    it('refuses an audience that does not fit the endpoint with 403', async () => {
      expect(refused(await health(await mint(key, { sub: stream.id, aud: 'video_id' })), 403)).toMatch(
        /audience/,
      );
      refused(await counts(await mint(key, { sub: 'v', aud: 'playlist_id' })), 403);
    });

    it('refuses an unknown kid and a deleted key at once', async () => {
      const stranger = { ...key, id: 'no-such-key' };
      expect(
        refused(await health(await mint(stranger, { sub: stream.id, aud: 'live_stream_id' })), 401),
      ).toMatch(/signing key/);
      const temp = await createSigningKey(server);
      const t = await mint(temp, { sub: stream.id, aud: 'live_stream_id' });
      expect((await health(t)).status).toBe(200);
      expect((await call(server, 'DELETE', `/system/v1/signing-keys/${temp.id}`)).status).toBe(204);
      refused(await health(t), 401);
      refused(await call(server, 'GET', `/system/v1/signing-keys/${temp.id}`), 404);
    });

    it('keeps several keys active for rotation', async () => {
      const second = await createSigningKey(server);
      expect((await health(await mint(second, { sub: stream.id, aud: 'live_stream_id' }))).status).toBe(200);
      expect((await health(await mint(key, { sub: stream.id, aud: 'live_stream_id' }))).status).toBe(200);
      const ids = (
        (await call(server, 'GET', '/system/v1/signing-keys')).json as { data: { id: string }[] }
      ).data.map((k) => k.id);
      expect(ids).toEqual(expect.arrayContaining([key.id, second.id]));
    });

    it('refuses alg none, HS256 signed with the public key, a wrong signature and a tampered payload', async () => {
      const claims = {
        sub: stream.id,
        aud: 'live_stream_id',
        exp: Math.floor(Date.now() / 1000) + 600,
        kid: key.id,
      };
      const none = `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT', kid: key.id }))}.${b64url(JSON.stringify(claims))}.`;
      expect(refused(await health(none), 401)).toMatch(/algorithm/);

      const publicPem = createPublicKey(createPrivateKey(key.privateKeyPem)).export({
        type: 'spki',
        format: 'pem',
      });
      const hs = await new SignJWT({ kid: key.id })
        .setProtectedHeader({ alg: 'HS256', kid: key.id })
        .setSubject(stream.id)
        .setAudience('live_stream_id')
        .setExpirationTime('10m')
        .sign(new TextEncoder().encode(String(publicPem)));
      expect(refused(await health(hs), 401)).toMatch(/algorithm/);

      const good = await mint(key, { sub: stream.id, aud: 'live_stream_id' });
      const [h, p, s] = good.split('.') as [string, string, string];
      const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
      const tampered = `${h}.${b64url(JSON.stringify({ ...payload, sub: 'another-stream' }))}.${s}`;
      expect(refused(await health(tampered), 401)).toMatch(/signature/);

      // RS256 by another key that claims our kid.
      const { generateKeyPairSync } = await import('node:crypto');
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const signer = createSign('RSA-SHA256');
      const input = `${h}.${p}`;
      signer.update(input);
      const forged = `${input}.${b64url(signer.sign(privateKey))}`;
      refused(await health(forged), 401);
    });

    it('answers 404 for a stream of another environment or none', async () => {
      const env = await call(server, 'POST', '/system/v1/environments', server.adminAuth(), {
        name: 'other',
      });
      const otherEnv = (env.json as { data: { id: string } }).data.id;
      const res = await call(server, 'POST', '/system/v1/signing-keys', server.adminAuth(), {
        environment_id: otherEnv,
      });
      const d = (res.json as { data: { id: string; private_key: string } }).data;
      const otherKey = { id: d.id, privateKeyPem: Buffer.from(d.private_key, 'base64').toString() };
      refused(await health(await mint(otherKey, { sub: stream.id, aud: 'live_stream_id' })), 404);
      refused(await health(await mint(key, { sub: 'no-such-stream', aud: 'live_stream_id' })), 404);
    });

    it('counts stats requests by endpoint and outcome in /metrics', async () => {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      const value = (endpoint: string, outcome: string) =>
        Number(
          new RegExp(
            `^openqoe_stats_requests_total\\{endpoint="${endpoint}",outcome="${outcome}"\\} (\\S+)$`,
            'm',
          ).exec(text)?.[1] ?? 0,
        );
      expect(value('/live-stream-health', 'ok')).toBeGreaterThan(0);
      expect(value('/live-stream-health', '401')).toBeGreaterThan(5);
      expect(value('/live-stream-health', '403')).toBe(1);
      expect(value('/counts', 'ok')).toBeGreaterThan(0);
    });
  });

  it('keeps signing keys and live streams across a restart; deleted ones stay deleted', async () => {
    const deleted = await createSigningKey(server, server.bootstrap().environment.id);
    await call(server, 'DELETE', `/system/v1/signing-keys/${deleted.id}`);
    const tokenOk = await mint(key, { sub: stream.id, aud: 'live_stream_id' });
    const tokenDeleted = await mint(deleted, { sub: stream.id, aud: 'live_stream_id' });
    expect(await server.kill()).toBe(0);
    server = await startServer({ dataDir: server.dataDir });
    expect((await stats(server, '/live-stream-health', tokenOk)).status).toBe(200);
    refused(await stats(server, '/live-stream-health', tokenDeleted), 401);
    expect(
      ((await call(server, 'GET', `/video/v1/live-streams/${stream.id}`)).json as { data: LiveStreamOut })
        .data,
    ).toEqual(stream);
  });
});
