/**
 * A connector buffer that fills up while its destination is down: in `drop`
 * mode new events are dropped and counted (the buffer stays within its
 * bound); in `block` mode the pipeline is held, the intake answers 429 once
 * the log's backlog limit is reached, and everything acknowledged arrives
 * after the destination comes back. Bad connector configs stop the start
 * with a message naming the key.
 */
import { makeBeacon, makeEvent } from '@openqoe/schema';
import { afterAll, describe, expect, it } from 'vitest';
import { HttpRecorder } from './helpers/http-recorder.js';
import {
  postBeacon,
  readMetric,
  removeDir,
  type ServerProcess,
  startServer,
  tempDataDir,
  waitFor,
} from './helpers/server-process.js';
import { slowTests } from './helpers/slow-tests.js';

slowTests(120_000);

const BUFFER_BYTES = 64 * 1024;

/** A beacon of `count` play events of one view, from sequence number `first`. */
function eventsBeacon(key: string, viewId: string, first: number, count: number, detail = ''): string {
  const events = Array.from({ length: count }, (_, i) =>
    makeEvent({
      viewId,
      sequenceNumber: first + i,
      type: 'play',
      viewerTime: Date.now() - 60_000 + i,
      detail,
    }),
  );
  return JSON.stringify(makeBeacon({ envKey: key, events }));
}

describe('connectors: a full buffer', () => {
  const dirs: string[] = [];
  const servers: ServerProcess[] = [];
  const listener = new HttpRecorder();
  afterAll(async () => {
    for (const s of servers) await s.kill('SIGKILL');
    await listener.stop();
    for (const d of dirs) removeDir(d);
  });

  async function serve(connector: Record<string, unknown>, extra: Record<string, unknown> = {}) {
    const dataDir = tempDataDir('openqoe-connectors-full-');
    dirs.push(dataDir);
    const server = await startServer({
      dataDir,
      config: {
        logLevel: 'warn',
        intake: { rateLimit: { perIpPerSecond: 0, perEnvKeyPerSecond: 0 } },
        connectors: [
          { batchMaxDelayMs: 100, retryInitialBackoffMs: 100, retryMaxBackoffMs: 300, ...connector },
        ],
        ...extra,
      },
    });
    servers.push(server);
    return server;
  }

  it('drop: keeps the buffer within its bound and counts what it dropped', async () => {
    // Nothing listens on this port: every delivery fails.
    await listener.start();
    const deadUrl = listener.url;
    await listener.stop();
    const server = await serve({
      name: 'dead',
      type: 'webhook',
      url: `${deadUrl}/hook`,
      bufferMaxBytes: BUFFER_BYTES,
      whenFull: 'drop',
    });
    const key = server.bootstrap().environment.key;
    // 200 events of ~2 kB envelopes: far more than 64 KiB.
    const res = await postBeacon(server.url, eventsBeacon(key, 'v-drop', 0, 200));
    expect(res.status).toBe(202);
    await waitFor(
      async () => (await readMetric(server, 'openqoe_pipeline_events_stored_total')) === 200,
      'the pipeline to store the events',
    );
    const buffered = await readMetric(server, 'openqoe_connector_buffered_events{connector="dead"}');
    const dropped = await readMetric(
      server,
      'openqoe_connector_events_dropped_total{connector="dead",reason="buffer_full"}',
    );
    expect(dropped).toBeGreaterThan(0);
    expect(buffered + dropped).toBe(200);
    expect(
      await readMetric(server, 'openqoe_connector_buffered_bytes{connector="dead"}'),
    ).toBeLessThanOrEqual(BUFFER_BYTES);
    expect(server.output()).toMatch(/connector dead: buffer full, dropped \d+ events/);
  });

  it('block: holds the pipeline, the intake answers 429, and everything acknowledged arrives later', async () => {
    let up = false;
    await listener.start();
    listener.respond = () => (up ? { status: 200, body: 'ok' } : { status: 503, body: 'down' });
    const server = await serve(
      {
        name: 'held',
        type: 'webhook',
        url: `${listener.url}/held`,
        bufferMaxBytes: BUFFER_BYTES,
        whenFull: 'block',
      },
      { bus: { maxBacklogBytes: 1024 * 1024 } },
    );
    const key = server.bootstrap().environment.key;
    // Beacons of 100 events with a 1 kB detail each (~130 kB): the 64 KiB buffer fills at once,
    // then the log's 1 MiB backlog fills and the intake refuses.
    const detail = 'd'.repeat(1000);
    let acknowledged = 0;
    let refused: { status: number; json: unknown; headers: Headers } | undefined;
    for (let b = 0; b < 40 && !refused; b++) {
      const res = await postBeacon(server.url, eventsBeacon(key, 'v-block', b * 100, 100, detail));
      if (res.status === 202) acknowledged += 100;
      else refused = res;
    }
    expect(refused?.status).toBe(429);
    expect(refused?.headers.get('retry-after')).not.toBeNull();
    expect(server.output()).toMatch(/connector held: buffer full .*holding the pipeline/);
    expect(
      await readMetric(
        server,
        'openqoe_connector_events_dropped_total{connector="held",reason="buffer_full"}',
      ),
    ).toBe(0);

    up = true;
    const received = () =>
      listener
        .to('/held')
        .filter((r) => r.status === 200)
        .flatMap((r) => JSON.parse(r.body.toString()) as { ops_metadata: { sequence_number: number } }[])
        .map((e) => e.ops_metadata.sequence_number);
    await waitFor(async () => new Set(received()).size === acknowledged, 'every acknowledged event', 60_000);
    expect([...new Set(received())].sort((a, b) => a - b)).toEqual(
      Array.from({ length: acknowledged }, (_, i) => i),
    );
  });

  it('refuses to start on a bad connector, naming the key', async () => {
    const dataDir = tempDataDir('openqoe-connectors-bad-');
    dirs.push(dataDir);
    const base = { logLevel: 'warn' };
    await expect(
      startServer({
        dataDir,
        config: { ...base, connectors: [{ name: 's', type: 'splunk_hec', url: 'http://127.0.0.1:1' }] },
      }),
    ).rejects.toThrow(/connectors\[0\]\.token: is required for type "splunk_hec"/);
    await expect(
      startServer({
        dataDir,
        config: {
          ...base,
          connectors: [
            {
              name: 's',
              type: 'splunk_hec',
              url: 'http://127.0.0.1:1',
              token: { env: 'OPENQOE_TEST_UNSET_TOKEN' },
            },
          ],
        },
      }),
    ).rejects.toThrow(/connectors\[0\]\.token: environment variable OPENQOE_TEST_UNSET_TOKEN is not set/);
    await expect(
      startServer({
        dataDir,
        config: {
          ...base,
          connectors: [{ name: 'w', type: 'webhook', url: 'http://x', eventTypes: ['buffering'] }],
        },
      }),
    ).rejects.toThrow(/connectors\[0\]\.eventTypes\[0\]: unknown event type "buffering"/);
    await expect(
      startServer({ dataDir, config: { ...base, connectors: [{ name: 'w', type: 'kafka' }] } }),
    ).rejects.toThrow(/connectors\.0\.type|connectors\[0\]\.type/);
  });
});
