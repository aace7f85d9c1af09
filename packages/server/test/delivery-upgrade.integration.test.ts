/**
 * An upgrade onto the delivery core: the real server CLI starts on a data dir
 * whose queues the previous code wrote (fixtures/previous-queues, made with
 * its DiskQueue and DiskBuffer: partly acknowledged, several segment files,
 * a torn tail each), with a config that still uses the monitoring sinks' old
 * retry key names. Every record still queued must reach a real HTTP listener
 * exactly once and in order, none already acknowledged, the old files must
 * be gone, and the old key names must work with a warning naming the new ones.
 */
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HttpRecorder } from './helpers/http-recorder.js';
import {
  readMetric,
  removeDir,
  type ServerProcess,
  startServer,
  TEST_CONFIG,
  tempDataDir,
  waitFor,
} from './helpers/server-process.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'previous-queues');
const expected = JSON.parse(readFileSync(join(FIXTURE, 'expected.json'), 'utf8')) as {
  monitoring: { id: string; partitionKey: string; body: string }[];
  connectors: string[];
};

describe('delivery core: upgrading a data dir with queues of the previous version', () => {
  const dataDir = tempDataDir('openqoe-delivery-upgrade-');
  const listener = new HttpRecorder();
  let server: ServerProcess | undefined;
  afterAll(async () => {
    await server?.kill('SIGKILL');
    await listener.stop();
    removeDir(dataDir);
  });

  const config = () => ({
    ...TEST_CONFIG,
    monitoring: {
      sinks: [
        // The names of the previous version: retryInitialDelayMs / retryMaxDelayMs.
        {
          type: 'http',
          name: 'http',
          format: 'json',
          url: `${listener.url}/mon`,
          retryInitialDelayMs: 50,
          retryMaxDelayMs: 200,
        },
      ],
    },
    connectors: [
      { name: 'hook', type: 'webhook', url: `${listener.url}/hook`, batchMaxEvents: 7, batchMaxDelayMs: 50 },
    ],
  });
  const monitoringIds = () => listener.to('/mon').map((r) => String(r.headers['x-openqoe-message-id']));
  const connectorIds = () =>
    listener
      .to('/hook')
      .flatMap((r) => (JSON.parse(r.body.toString()) as { event_id: string }[]).map((e) => e.event_id));

  it('delivers every record the old queues held once, in order, and removes them', async () => {
    cpSync(join(FIXTURE, 'data'), dataDir, { recursive: true });
    await listener.start();
    server = await startServer({ dataDir, config: config() });
    await waitFor(
      async () =>
        monitoringIds().length >= expected.monitoring.length &&
        connectorIds().length >= expected.connectors.length,
      'the old queues to be delivered',
      30_000,
    );
    await waitFor(
      async () =>
        (await readMetric(server!, 'openqoe_monitoring_buffered_bytes{sink="http"}')) === 0 &&
        (await readMetric(server!, 'openqoe_connector_buffered_events{connector="hook"}')) === 0,
      'the new queues to drain',
    );

    // Each exactly once, in queue order, with the bytes and keys the old code queued.
    expect(monitoringIds()).toEqual(expected.monitoring.map((p) => p.id));
    for (const [i, r] of listener.to('/mon').entries()) {
      expect(r.body.toString()).toBe(expected.monitoring[i]!.body);
      expect(r.headers['x-openqoe-partition-key']).toBe(expected.monitoring[i]!.partitionKey);
    }
    expect(connectorIds()).toEqual(expected.connectors);
    expect(await readMetric(server, 'openqoe_monitoring_payloads_sent_total{sink="http"}')).toBe(
      expected.monitoring.length,
    );
    expect(await readMetric(server, 'openqoe_connector_events_sent_total{connector="hook"}')).toBe(
      expected.connectors.length,
    );
    // The old files are gone: a later start cannot move them in again.
    expect(existsSync(join(dataDir, 'monitoring', 'buffer'))).toBe(false);
    expect(existsSync(join(dataDir, 'connectors', 'hook', 'cursor'))).toBe(false);
    expect(existsSync(join(dataDir, 'connectors', 'hook', '00000000000000000000.seg'))).toBe(false);
    // The old key names worked, and the start-up log names the new ones.
    expect(server.output()).toMatch(
      /monitoring\.sinks\[0\]\.retryInitialDelayMs is an old name: use retryInitialBackoffMs/,
    );
    expect(server.output()).toMatch(
      /monitoring\.sinks\[0\]\.retryMaxDelayMs is an old name: use retryMaxBackoffMs/,
    );
  }, 60_000);

  it('sends nothing again after a restart', async () => {
    await server!.kill('SIGTERM');
    const before = listener.requests.length;
    server = await startServer({ dataDir, config: config() });
    // The queues open empty: nothing is waiting to be sent.
    expect(await readMetric(server, 'openqoe_monitoring_buffered_bytes{sink="http"}')).toBe(0);
    expect(await readMetric(server, 'openqoe_connector_buffered_events{connector="hook"}')).toBe(0);
    expect(listener.requests.length).toBe(before);
  }, 60_000);
});
