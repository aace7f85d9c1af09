/**
 * The rejected-payload recorder against a real DuckDB store: refusals with
 * odd values (an address gone with its socket, no environment, a length
 * header that is no number, messages and fields that are not strings, nested
 * nulls and empty arrays in the body) are all written and read back; a row the
 * store still refuses does not cost the others theirs and is counted in
 * `openqoe_rejected_unrecorded_total`.
 */
import { join } from 'node:path';
import type { ErrorCode } from '@openqoe/schema';
import { afterAll, describe, expect, it } from 'vitest';
import { RejectedRecorder, type RejectionInput } from '../src/intake/kit/rejected-recorder.js';
import { createMetrics } from '../src/observability/metrics.js';
import { DuckDBStore } from '../src/store/duckdb/duckdb-store.js';
import type { RejectedPayload } from '../src/store/store.js';
import { removeDir, tempDataDir } from './helpers/server-process.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) removeDir(d);
});

const base: RejectionInput = {
  envId: 'env-1',
  ip: '127.0.0.1',
  userAgent: 'test',
  route: '/v1/beacon',
  code: 'QOE_ERR_VALIDATION',
  messages: ['The payload does not match the schema'],
  fields: [{ path: 'samples[0].viewId', problem: 'must be a string' }],
  body: Buffer.from('{}'),
  bodyBytes: 2,
};

/** What a refusal may carry at its worst, each as the recorder may be handed it. */
const ODD: Partial<Record<keyof RejectionInput, unknown>>[] = [
  { ip: undefined },
  { envId: undefined },
  { envId: null, userAgent: undefined },
  { bodyBytes: Number.NaN },
  { bodyBytes: 'abc' },
  { messages: [42, null, { nested: [null] }] },
  { messages: undefined, fields: undefined },
  { fields: [{ path: 3, problem: null }, null] },
  { body: Buffer.from('{"samples":[null,[],{"a":{"b":null}}],"events":[]}') },
  { body: Buffer.from('[[[[[[[[[[]]]]]]]]]]') },
  { body: undefined, bodyBytes: 5_000_000 },
  { code: undefined as unknown as ErrorCode, route: undefined },
];

async function openStore() {
  const dir = tempDataDir();
  dirs.push(dir);
  return DuckDBStore.open({
    path: join(dir, 'db.duckdb'),
    checkpointThreshold: '16MB',
    memoryLimit: '',
    threads: 1,
  });
}

describe('rejected-payload recorder', () => {
  it('records every odd refusal (read back from rejected_payloads)', async () => {
    const store = await openStore();
    const metrics = createMetrics();
    const errors: unknown[] = [];
    const recorder = new RejectedRecorder(store, metrics, 8192, 1000, (e) => errors.push(e));
    ODD.forEach((odd, i) => {
      recorder.record({ ...base, route: `/odd/${i}`, ...odd } as RejectionInput);
    });
    await recorder.close();
    expect(errors).toEqual([]);
    const rows = await store.select(
      'SELECT route, ip, env_id, body_bytes, CAST(messages AS VARCHAR) AS messages, CAST(fields AS VARCHAR) AS fields FROM rejected_payloads ORDER BY received_at',
      [],
    );
    expect(rows).toHaveLength(ODD.length);
    const byRoute = new Map(rows.map((r) => [String(r['route']), r]));
    expect(byRoute.get('/odd/0')?.['ip']).toBe('');
    expect(byRoute.get('/odd/1')?.['env_id']).toBeNull();
    expect(Number(byRoute.get('/odd/3')?.['body_bytes'])).toBe(2);
    expect(JSON.parse(String(byRoute.get('/odd/5')?.['messages']))).toEqual(['42', '', '{"nested":[null]}']);
    expect(JSON.parse(String(byRoute.get('/odd/7')?.['fields']))).toEqual([
      { path: '3', problem: '' },
      { path: '', problem: '' },
    ]);
    expect(Number(byRoute.get('/odd/10')?.['body_bytes'])).toBe(5_000_000);
    // The last one has no route: stored as "".
    expect(byRoute.has('')).toBe(true);
    expect(await metricValue(metrics, 'openqoe_rejected_payloads_recorded_total')).toBe(ODD.length);
    expect(await metricValue(metrics, 'openqoe_rejected_unrecorded_total')).toBe(0);
    await store.close();
  });

  it('a row the store still refuses costs the others nothing and is counted as unrecorded', async () => {
    const store = await openStore();
    const metrics = createMetrics();
    const insert = store.insertRejected.bind(store);
    // The store refuses any batch holding the poisoned row, as it would a value it cannot type.
    store.insertRejected = (rows: readonly RejectedPayload[]) =>
      rows.some((r) => r.route === '/poison')
        ? Promise.reject(new Error('Cannot create values of type ANY. Specify a specific type.'))
        : insert(rows);
    const errors: unknown[] = [];
    const recorder = new RejectedRecorder(store, metrics, 8192, 1000, (e) => errors.push(e));
    for (const route of ['/a', '/poison', '/b']) recorder.record({ ...base, route });
    await recorder.close();
    const rows = await store.select('SELECT route FROM rejected_payloads ORDER BY route', []);
    expect(rows.map((r) => r['route'])).toEqual(['/a', '/b']);
    expect(errors).toHaveLength(1);
    expect(await metricValue(metrics, 'openqoe_rejected_unrecorded_total')).toBe(1);
    expect(await metricValue(metrics, 'openqoe_rejected_payloads_recorded_total')).toBe(2);
    await store.close();
  });
});

async function metricValue(metrics: ReturnType<typeof createMetrics>, name: string): Promise<number> {
  const text = await metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? Number.NaN);
}
