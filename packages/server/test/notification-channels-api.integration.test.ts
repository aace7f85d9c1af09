/**
 * /system/v1/notification-channels over real sockets to the real CLI, on
 * each store: create, list, get, update, delete, the test send against a
 * real listener (answering what it said), secrets never answered nor
 * logged, 400s naming the field, the `alerts` permission, environment
 * isolation, and channels (with their secrets) kept across a restart.
 */
import { createHmac } from 'node:crypto';
import type { ErrorEnvelope, NotificationChannelInfo } from '@openqoe/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpRecorder } from './helpers/http-recorder.js';
import { removeDir, type ServerProcess, startServer, TEST_CONFIG } from './helpers/server-process.js';
import { runnableStores } from './helpers/stores.js';

const PATH = '/system/v1/notification-channels';
const SECRETS = [
  'whsec-api-0123',
  'https://hooks.slack.test/services/T0/B0/s3cr3t',
  'PDROUTINGKEY-API',
  'smtp-pass-api',
];
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

interface Answer {
  status: number;
  json: unknown;
  text: string;
}

describe.each(runnableStores('notification channels API'))('notification channels API on $name', (store) => {
  let server: ServerProcess;
  let admin: string;
  const hooks = new HttpRecorder();

  const api = async (method: string, path: string, body?: unknown, auth = admin): Promise<Answer> => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined, text };
  };
  const data = (a: Answer) => (a.json as { data: NotificationChannelInfo }).data;
  const said = (a: Answer) => (a.json as { data: { delivered: boolean; receiver_said: string } }).data;
  const fieldsOf = (a: Answer) => {
    expect(a.status, a.text).toBe(400);
    const err = (a.json as ErrorEnvelope).error;
    expect(err.code).toBe('QOE_ERR_VALIDATION');
    return err.fields.map((f) => f.path).sort();
  };
  /** The webhook's last request, after checking its signature by the documented algorithm. */
  const lastSignedWith = (secret: string) => {
    const req = hooks.to('/hook').at(-1)!;
    const ts = String(req.headers['x-openqoe-timestamp']);
    const mac = createHmac('sha256', secret)
      .update(`${ts}.${req.raw.toString('utf8')}`)
      .digest('hex');
    expect(req.headers['x-openqoe-signature']).toBe(`v1=${mac}`);
    return req;
  };
  const start = (dataDir?: string) =>
    startServer({ args: store.args, config: TEST_CONFIG, ...(dataDir ? { dataDir } : {}) });

  let envA = '';
  let envB = '';
  let webhookId = '';
  let tokenB = '';
  const ids: string[] = [];

  beforeAll(async () => {
    await hooks.start();
    hooks.respond = (r) =>
      r.path === '/broken' ? { status: 500, body: 'broken' } : { status: 200, body: 'ok' };
    server = await start();
    admin = server.adminAuth();
    envA = server.bootstrap().environment.id;
    const b = await api('POST', '/system/v1/environments', { name: 'second' });
    envB = (b.json as { data: { id: string } }).data.id;
    const t = await api('POST', '/system/v1/access-tokens', {
      name: 'alerts-b',
      permissions: ['alerts'],
      environment_ids: [envB],
    });
    const token = (t.json as { data: { id: string; secret: string } }).data;
    tokenB = basic(token.id, token.secret);
  });

  afterAll(async () => {
    await server?.kill();
    if (server) removeDir(server.dataDir);
    await hooks.stop();
  });

  it('creates each type; answers its settings without the secret, saying has_secret', async () => {
    const bodies = [
      { name: 'hook', type: 'webhook', settings: { url: `${hooks.url}/hook`, signing_secret: SECRETS[0] } },
      { name: 'chat', type: 'slack', settings: { webhook_url: SECRETS[1] } },
      { name: 'pager', type: 'pagerduty', settings: { routing_key: SECRETS[2], rate_limit_per_minute: 2 } },
      {
        name: 'mail',
        type: 'email',
        settings: {
          smtp_host: 'smtp.example.com',
          smtp_user: 'alerts',
          smtp_password: SECRETS[3],
          from: 'alerts@example.com',
          to: ['oncall@example.com'],
        },
      },
      { name: 'am', type: 'alertmanager', settings: { url: 'http://127.0.0.1:9093' } },
    ];
    for (const body of bodies) {
      const res = await api('POST', PATH, { ...body, environment_id: envA });
      expect(res.status, res.text).toBe(201);
      for (const s of SECRETS) expect(res.text).not.toContain(s);
      const c = data(res);
      expect(c).toMatchObject({ name: body.name, type: body.type, environment_id: envA });
      expect(c.has_secret).toBe(body.type !== 'alertmanager');
      ids.push(c.id);
    }
    webhookId = ids[0]!;
    expect(data(await api('GET', `${PATH}/${ids[2]}`)).settings).toEqual({ rate_limit_per_minute: 2 });
    expect(data(await api('GET', `${PATH}/${ids[3]}`)).settings).toEqual({
      smtp_host: 'smtp.example.com',
      smtp_user: 'alerts',
      from: 'alerts@example.com',
      to: ['oncall@example.com'],
    });
    const list = await api('GET', PATH);
    expect((list.json as { total_row_count: number }).total_row_count).toBe(5);
    for (const s of SECRETS) expect(list.text).not.toContain(s);
  });

  it('refuses bad input with 400 naming each field, creating nothing', async () => {
    const before = (await api('GET', PATH)).text;
    const post = (body: unknown) => api('POST', PATH, { environment_id: envA, ...(body as object) });
    expect(
      fieldsOf(await post({ name: 'x', type: 'webhook', settings: { url: 'ftp://example.com/x' } })),
    ).toEqual(['settings.url']);
    expect(fieldsOf(await post({ name: 'x', type: 'alertmanager', settings: { url: 'not a url' } }))).toEqual(
      ['settings.url'],
    );
    expect(fieldsOf(await post({ name: 'x', type: 'pagerduty', settings: {} }))).toEqual([
      'settings.routing_key',
    ]);
    expect(
      fieldsOf(
        await post({
          name: 'x',
          type: 'email',
          settings: { smtp_host: 'h', from: 'not-an-address', to: ['a@example.com', 'b@'] },
        }),
      ),
    ).toEqual(['settings.from', 'settings.to[1]']);
    expect(
      fieldsOf(
        await post({ name: 'x', type: 'slack', settings: { webhook_url: 'https://x.test', colour: 1 } }),
      ),
    ).toEqual(['settings.colour']);
    expect(fieldsOf(await post({ name: 'x', type: 'sms', settings: {} }))).toEqual(['type']);
    expect(fieldsOf(await post({ type: 'webhook', settings: { url: 'https://x.test' } }))).toEqual(['name']);
    expect(
      fieldsOf(await api('PATCH', `${PATH}/${webhookId}`, { settings: { url: 'file:///etc/passwd' } })),
    ).toEqual(['settings.url']);
    expect((await api('GET', PATH)).text).toBe(before);
  });

  it('updates the name and settings, keeping a secret not given again', async () => {
    const res = await api('PATCH', `${PATH}/${webhookId}`, {
      name: 'hook 2',
      settings: { rate_limit_per_minute: 3 },
    });
    expect(res.status, res.text).toBe(200);
    expect(data(res)).toMatchObject({
      name: 'hook 2',
      has_secret: true,
      settings: { url: `${hooks.url}/hook`, rate_limit_per_minute: 3 },
    });
    expect(Date.parse(data(res).updated_at)).toBeGreaterThanOrEqual(Date.parse(data(res).created_at));
  });

  it('test-sends through the channel and answers what the receiver said (signed with the kept secret)', async () => {
    const res = await api('POST', `${PATH}/${webhookId}/test`);
    expect(res.status, res.text).toBe(200);
    expect(said(res)).toEqual({ delivered: true, receiver_said: 'HTTP 200: ok' });
    const req = lastSignedWith(SECRETS[0]!);
    expect(JSON.parse(req.raw.toString()).test).toBe(true);

    const broken = await api('POST', PATH, {
      environment_id: envA,
      name: 'b',
      type: 'webhook',
      settings: { url: `${hooks.url}/broken` },
    });
    const answer = await api('POST', `${PATH}/${data(broken).id}/test`);
    expect(answer.status).toBe(200);
    expect(said(answer)).toEqual({ delivered: false, receiver_said: 'HTTP 500: broken' });
    expect((await api('DELETE', `${PATH}/${data(broken).id}`)).status).toBe(204);
  });

  it('needs the alerts permission and shows a token only its environments', async () => {
    const t = await api('POST', '/system/v1/access-tokens', {
      name: 'reader',
      permissions: ['data:read'],
      all_environments: true,
    });
    const reader = (t.json as { data: { id: string; secret: string } }).data;
    expect((await api('GET', PATH, undefined, basic(reader.id, reader.secret))).status).toBe(403);

    expect((await api('GET', PATH, undefined, tokenB)).json).toEqual({ data: [], total_row_count: 0 });
    expect((await api('GET', `${PATH}/${webhookId}`, undefined, tokenB)).status).toBe(404);
    expect((await api('PATCH', `${PATH}/${webhookId}`, { name: 'stolen' }, tokenB)).status).toBe(404);
    expect((await api('POST', `${PATH}/${webhookId}/test`, undefined, tokenB)).status).toBe(404);
    expect((await api('DELETE', `${PATH}/${webhookId}`, undefined, tokenB)).status).toBe(404);
    expect(
      (
        await api(
          'POST',
          PATH,
          { name: 'x', type: 'webhook', environment_id: envA, settings: { url: 'https://x.test' } },
          tokenB,
        )
      ).status,
    ).toBe(403);
    // Its own environment is the default target.
    const own = await api(
      'POST',
      PATH,
      { name: 'b-hook', type: 'webhook', settings: { url: 'https://b.test/hook' } },
      tokenB,
    );
    expect(own.status, own.text).toBe(201);
    expect(data(own).environment_id).toBe(envB);
    expect((await api('GET', PATH, undefined, tokenB)).json).toMatchObject({ total_row_count: 1 });
    // Listed for one environment, as the other lists are.
    const onlyB = await api('GET', `${PATH}?environment_id=${envB}`);
    expect(onlyB.status, onlyB.text).toBe(200);
    expect((onlyB.json as { data: { name: string }[] }).data.map((c) => c.name)).toEqual(['b-hook']);
    expect(
      (await api('GET', `${PATH}?environment_id=${envA}`, undefined, tokenB)).status,
    ).toBeGreaterThanOrEqual(400);
  });

  it('keeps channels and their secrets across a restart; delete removes one; no secret is ever logged', async () => {
    const dataDir = server.dataDir;
    await server.kill('SIGTERM');
    const before = server.output();
    server = await start(dataDir);
    const list = await api('GET', `${PATH}?limit=100`);
    expect((list.json as { total_row_count: number }).total_row_count).toBe(6);
    const hook = data(await api('GET', `${PATH}/${webhookId}`));
    expect(hook).toMatchObject({ name: 'hook 2', has_secret: true, settings: { rate_limit_per_minute: 3 } });
    // The secret came back from the store: the test send is signed with it.
    expect(said(await api('POST', `${PATH}/${webhookId}/test`))).toMatchObject({ delivered: true });
    lastSignedWith(SECRETS[0]!);
    expect((await api('DELETE', `${PATH}/${ids[1]}`)).status).toBe(204);
    expect((await api('GET', `${PATH}/${ids[1]}`)).status).toBe(404);
    for (const s of SECRETS) {
      expect(before).not.toContain(s);
      expect(server.output()).not.toContain(s);
    }
  });
});
