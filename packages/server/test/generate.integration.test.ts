/**
 * `openqoe generate` as a user runs it, against a real server: live views
 * end now and each one becomes exactly one stored view; `--days` backfills
 * history spread over past days with the admin token; usage errors and
 * refusals give the documented exit codes.
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Deadline, patience } from './helpers/patience.js';
import { track } from './helpers/processes.js';
import { CLI, queryDataDir, removeDir, type ServerProcess, startServer } from './helpers/server-process.js';
import { slowTests } from './helpers/slow-tests.js';

slowTests(120_000);

const DAY_MS = 86_400_000;
const CONFIG = {
  logLevel: 'warn',
  intake: { rateLimit: { perIpPerSecond: 0, perEnvKeyPerSecond: 0 } },
  views: { idleCompleteMs: 500, tickIntervalMs: 50 },
};

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function generate(args: string[]): Promise<Run> {
  // Without the runner's OPENQOE_* variables, so only the flags count.
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OPENQOE_')) env[k] = v;
  return new Promise((resolve) => {
    track(
      execFile(
        process.execPath,
        [CLI, 'generate', ...args],
        { env, timeout: patience(60_000), killSignal: 'SIGKILL' },
        (err, stdout, stderr) => {
          const code = err ? ((err as { code?: unknown }).code as number | null) : 0;
          resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
        },
      ),
      'openqoe generate',
    );
  });
}

async function storedViews(server: ServerProcess): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return Number(/^openqoe_pipeline_views_stored_total (\S+)$/m.exec(text)?.[1] ?? 0);
}

async function untilStored(server: ServerProcess, n: number): Promise<void> {
  const deadline = new Deadline(60_000);
  while ((await storedViews(server)) < n) {
    if (deadline.expired()) throw new Error(`fewer than ${n} views stored after ${deadline.elapsedMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('openqoe generate', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer({ config: CONFIG });
  });
  afterAll(async () => {
    await server.kill();
    removeDir(server.dataDir);
  });

  it('prints its help', async () => {
    const r = await generate(['--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--views', '--days', '--concurrency', '--seed', '--env-key', '--url'])
      expect(r.stdout).toContain(flag);
  });

  it('exits 2 naming --views when it is not a number', async () => {
    const r = await generate(['--views', 'abc']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--views');
  });

  it('exits 2 when --days has no access token to backfill with', async () => {
    const r = await generate([
      '--url',
      server.url,
      '--env-key',
      'k',
      '--days',
      '3',
      '--data-dir',
      '/nonexistent',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--token-id');
  });

  it('exits 1 when the server refuses the views (unknown environment key)', async () => {
    const r = await generate([
      '--url',
      server.url,
      '--env-key',
      'no-such-key',
      '--views',
      '20',
      '--seed',
      '1',
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/0 accepted, [1-9]\d* refused/);
    expect(r.stderr).toContain('QOE_ERR_UNKNOWN_ENV_KEY');
  });

  it('stores one view per generated view: live ones end now, --days 3 ones on past days', async () => {
    // Live views go to the first environment; backfilled ones to a second, so the two runs can be told apart.
    const created = await fetch(`${server.url}/system/v1/environments`, {
      method: 'POST',
      headers: { authorization: server.adminAuth(), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'history' }),
    });
    const history = ((await created.json()) as { data: { id: string; key: string } }).data;
    const live = server.bootstrap().environment;

    const liveFrom = Date.now();
    const r = await generate([
      '--url',
      server.url,
      '--data-dir',
      server.dataDir,
      '--views',
      '200',
      '--seed',
      '7',
    ]);
    const liveTo = Date.now();
    expect(r.stderr).not.toContain('first problem');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('sent 200 views');
    expect(r.stdout).toContain('200 accepted, 0 refused, 0 failed');

    const backfillFrom = Date.now();
    const b = await generate([
      ...['--url', server.url, '--data-dir', server.dataDir, '--env-key', history.key],
      ...['--views', '100', '--seed', '8', '--days', '3'],
    ]);
    const backfillTo = Date.now();
    expect(b.code).toBe(0);
    expect(b.stdout).toContain('100 accepted');

    await untilStored(server, 300);
    await server.kill('SIGTERM');
    const rows = await queryDataDir(
      server.dataDir,
      `SELECT env_id, count(*)::INTEGER AS n,
              min(epoch_ms(view_start))::DOUBLE AS first_start, max(epoch_ms(view_end))::DOUBLE AS last_end,
              min(epoch_ms(view_end))::DOUBLE AS first_end,
              count(DISTINCT date_trunc('day', view_start))::INTEGER AS days
       FROM views GROUP BY env_id`,
    );
    const byEnv = new Map(rows.map((row) => [row['env_id'], row]));
    const liveRow = byEnv.get(live.id) as Record<string, number>;
    const historyRow = byEnv.get(history.id) as Record<string, number>;
    expect(liveRow['n']).toBe(200);
    expect(historyRow['n']).toBe(100);
    // Live: every view ends when it was sent.
    expect(liveRow['first_end']).toBeGreaterThanOrEqual(liveFrom - 1000);
    expect(liveRow['last_end']).toBeLessThanOrEqual(liveTo + 1000);
    // Backfill: starts within the last 3 days (of the run), over at least two days, ended by the run.
    expect(historyRow['first_start']).toBeGreaterThanOrEqual(backfillFrom - 3 * DAY_MS);
    expect(historyRow['last_end']).toBeLessThanOrEqual(backfillTo);
    expect(historyRow['days']).toBeGreaterThanOrEqual(2);
  });

  it('sends identical beacons for the same seed', async () => {
    // The beacons themselves are compared in packages/generator/test/synthetic-views.test.ts;
    // here the CLI path: same seed, same view ids.
    const again = await startServer({ config: CONFIG });
    try {
      const r = await generate([
        '--url',
        again.url,
        '--data-dir',
        again.dataDir,
        '--views',
        '20',
        '--seed',
        '7',
      ]);
      expect(r.code).toBe(0);
      const repeat = await generate([
        '--url',
        again.url,
        '--data-dir',
        again.dataDir,
        '--views',
        '20',
        '--seed',
        '7',
      ]);
      expect(repeat.code).toBe(0);
      // The second run repeats every (view, sequence number) of the first: all dropped as duplicates,
      // so the 20 views are stored once and never reopened.
      const counter = async (name: string) =>
        Number(
          new RegExp(`^${name} (\\S+)$`, 'm').exec(await (await fetch(`${again.url}/metrics`)).text())?.[1] ??
            0,
        );
      const items = async () =>
        (await counter('openqoe_pipeline_samples_stored_total')) +
        (await counter('openqoe_pipeline_events_stored_total'));
      const deadline = new Deadline(30_000);
      while ((await counter('openqoe_pipeline_duplicates_total')) < (await items()) && !deadline.expired())
        await new Promise((res) => setTimeout(res, 100));
      expect(await counter('openqoe_pipeline_duplicates_total')).toBe(await items());
      expect(await items()).toBeGreaterThan(20);
      await untilStored(again, 20);
      expect(await storedViews(again)).toBe(20);
    } finally {
      await again.kill();
      removeDir(again.dataDir);
    }
  });
});
