/**
 * Alerting in a scale-out deployment (real nats-server; api, ingest and two
 * pipeline workers): rules are evaluated once, on the api node, from the
 * workers' merged real-time numbers. Four views stall on one CDN host, two
 * on each worker (by the bus's own partition hash), and the rule needs an
 * audience of four: no worker alone has it, so only the merged numbers open
 * the incident, and only once. Workers serve no alerting routes.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { partitionOf } from '../src/bus/partitions.js';
import { type NatsServer, startNats, startRole } from './helpers/cluster.js';
import { HttpRecorder } from './helpers/http-recorder.js';
import { postViews, ViewScript } from './helpers/monitoring-script.js';
import { removeDir, type ServerProcess, TEST_CONFIG, waitFor } from './helpers/server-process.js';
import { slowTests } from './helpers/slow-tests.js';

slowTests(90_000);

const CONFIG = { ...TEST_CONFIG, realtime: { tickMs: 1000 } };
/** Worker A consumes partitions 0-3, worker B 4-7 (of the default 8). */
const onA = (id: string) => partitionOf(id, 8) < 4;
let nats: NatsServer;
let api: ServerProcess;
const nodes: ServerProcess[] = [];
const hook = new HttpRecorder();

/** The first ids of `prefix-N` with two on each worker. */
function idsSplitOverWorkers(prefix: string): string[] {
  const a: string[] = [];
  const b: string[] = [];
  for (let i = 0; a.length < 2 || b.length < 2; i++) {
    const id = `${prefix}-${i}`;
    const side = onA(id) ? a : b;
    if (side.length < 2) side.push(id);
  }
  return [...a, ...b];
}

// biome-ignore lint/suspicious/noExplicitAny: answers are JSON checked field by field
type Json = any;
async function call(
  node: ServerProcess,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${node.url}${path}`, {
    method,
    headers: {
      authorization: api.adminAuth(),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() };
}

beforeAll(async () => {
  await hook.start();
  nats = await startNats();
  api = await startRole('api', nats.url, { config: CONFIG });
  nodes.push(api);
  nodes.push(await startRole('ingest', nats.url, { config: CONFIG }));
  for (const p of ['0-3', '4-7'])
    nodes.push(await startRole('pipeline', nats.url, { config: CONFIG, extraArgs: ['--partitions', p] }));
});

afterAll(async () => {
  for (const n of nodes) {
    await n.kill('SIGKILL');
    removeDir(n.dataDir);
  }
  nats?.stop();
  if (nats) removeDir(nats.dir);
  await hook.stop();
});

/** The de-duplication keys of every notice the webhook received, in order. */
const hookKeys = () =>
  hook
    .to('/hook')
    .flatMap((r) =>
      (
        JSON.parse(r.body.toString('utf8')) as { batches: { notices: { dedup_key: string }[] }[] }
      ).batches.flatMap((b) => b.notices.map((n) => n.dedup_key)),
    );

it('opens one incident from the merged numbers, on the api node only, and notifies each transition once', async () => {
  const stalling = idsSplitOverWorkers('stall');
  const playing = idsSplitOverWorkers('ok');
  expect(stalling.filter(onA)).toHaveLength(2);
  const channel = await call(api, 'POST', '/system/v1/notification-channels', {
    name: 'hook',
    type: 'webhook',
    settings: { url: `${hook.url}/hook` },
  });
  expect(channel.status).toBe(201);
  const rule = await call(api, 'POST', '/system/v1/alert-rules', {
    name: 'Rebuffering per CDN host',
    metric: 'current_rebuffering_percentage',
    breakdown: 'cdn',
    condition: {
      type: 'threshold',
      operator: '>',
      value: 50,
      for_seconds: 0,
      min_audience: 4,
      resolve_for_seconds: 2,
    },
    channel_ids: [channel.body.data.id],
  });
  expect(rule.status).toBe(201);
  // The views stay in the state they last reported: the stalling ones rebuffer from now on.
  const T = Date.now();
  const views = [...stalling, ...playing].map((id) => {
    const s = new ViewScript(id, T - 20_000, {
      cdnHost: stalling.includes(id) ? 'stall.example' : 'ok.example',
    });
    s.ev('playrequest', 'startup')
      .seg('startup', 500)
      .seg('playing', T - 3000 - s.t);
    return stalling.includes(id) ? s.seg('rebuffering', 3000) : s.seg('playing', 3000);
  });
  await postViews(api, views, true, nodes[1]!.url);
  const incidents = async () =>
    (await call(api, 'GET', `/data/v1/incidents?rule_id=${rule.body.data.id}`)).body.data;
  await waitFor(async () => (await incidents()).length > 0, 'an incident on the api node', 60_000);
  // A few more merged ticks: still the one incident.
  const seen = Date.now();
  await waitFor(async () => Date.now() - seen > 3000, 'three more seconds of ticks', 30_000);
  const all = await incidents();
  expect(all).toHaveLength(1);
  expect(all[0]).toMatchObject({
    status: 'open',
    breakdown_value: 'stall.example',
    audience: 4,
  });
  // All four stalling viewers rebuffer the whole tick (a ratio of summed milliseconds: within rounding).
  expect(all[0].open_value).toBeCloseTo(100, 6);
  // Example views come from the views of a tick: a merged tick carries none.
  expect(all[0].example_view_ids).toEqual([]);
  for (const worker of nodes.slice(2))
    expect((await call(worker, 'GET', '/system/v1/alert-rules')).status).toBe(404);

  const id = all[0].id as string;
  await waitFor(async () => hookKeys().length > 0, 'the trigger at the webhook');
  // The stalling views play again: the merged numbers resolve the incident.
  const now = Date.now();
  for (const v of views) {
    v.samples = [];
    v.events = [];
    v.seg('playing', now - v.t);
  }
  await postViews(api, views, true, nodes[1]!.url);
  await waitFor(
    async () => (await call(api, 'GET', `/data/v1/incidents/${id}`)).body.data.status === 'resolved',
    'the incident resolved',
    60_000,
  );
  await waitFor(async () => hookKeys().length > 1, 'the resolve at the webhook');
  // One notification per transition, whichever worker's numbers were merged: distinct keys, none twice.
  expect(hookKeys()).toEqual([`${id}:trigger`, `${id}:resolve`]);
  expect(hook.to('/hook')).toHaveLength(2);
});
