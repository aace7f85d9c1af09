/**
 * `openqoe generate --live` against a real server with the intake's default
 * rate limits: after the ramp the monitoring API counts the viewers asked
 * for (within 10 %), the monitoring stream carries the start latency of the
 * generated views (the very startup times the generator drew for them),
 * nothing is refused or rate-limited, and Ctrl-C ends every view in
 * progress (the server's idle rule is set far out, so only the views' own
 * ends can empty the count). Against a server with a tight per-address
 * limit, the generator names the limit it hit, backs off and still delivers
 * every beacon.
 */
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { viewStartingAt } from '@openqoe/generator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordsOfJsonPayloads } from './helpers/monitoring-script.js';
import { settled, waitFor } from './helpers/patience.js';
import { spawnTracked, stopChild } from './helpers/processes.js';
import { CLI, removeDir, type ServerProcess, startServer, tempDataDir } from './helpers/server-process.js';
import { slowTests } from './helpers/slow-tests.js';

slowTests(90_000);

const VIEWERS = 60;
const SEED = 11;

interface Generator {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

function generate(args: string[]): Generator {
  // Without the runner's OPENQOE_* variables, so only the flags count.
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OPENQOE_')) env[k] = v;
  const child = spawnTracked(
    process.execPath,
    [CLI, 'generate', ...args],
    { env },
    'openqoe generate --live',
  );
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** `openqoe generate` run to its end (usage errors and the like). */
async function generateToEnd(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const g = generate(args);
  const code = await g.exited;
  return { code, stdout: g.stdout(), stderr: g.stderr() };
}

async function concurrentPoints(server: ServerProcess): Promise<{ atMs: number; value: number }[]> {
  const res = await fetch(`${server.url}/data/v1/monitoring/metrics/current_concurrent_viewers/timeseries`, {
    headers: { authorization: server.adminAuth() },
  });
  const body = (await res.json()) as { data: { date: string; value: number | null }[] };
  return body.data.map((p) => ({ atMs: Date.parse(p.date), value: p.value ?? 0 }));
}

/** START_LATENCY_MS of every record the file sink has written: view id → value. */
function startLatencies(dir: string): Map<string, number[]> {
  let files: string[] = [];
  try {
    files = readdirSync(dir);
  } catch {
    return new Map();
  }
  const lines = files.flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean));
  const out = new Map<string, number[]>();
  for (const r of recordsOfJsonPayloads(lines.map((l) => JSON.parse(l)))) {
    const v = r.metrics['START_LATENCY_MS'];
    if (v !== undefined) out.set(r.view_id, [...(out.get(r.view_id) ?? []), v]);
  }
  return out;
}

describe('openqoe generate --live', () => {
  it('documents its flags and refuses bad ones, naming them', async () => {
    const help = await generateToEnd(['--help']);
    expect(help.code).toBe(0);
    for (const flag of ['--live', '--viewers', '--duration', '--ramp', '--concurrency'])
      expect(help.stdout).toContain(flag);
    const badDuration = await generateToEnd(['--live', '--duration', '5x', '--env-key', 'k']);
    expect(badDuration.code).toBe(2);
    expect(badDuration.stderr).toContain('--duration');
    const notLive = await generateToEnd(['--viewers', '10', '--env-key', 'k']);
    expect(notLive.code).toBe(2);
    expect(notLive.stderr).toContain('--viewers needs --live');
  });

  describe('with the default rate limits', () => {
    let server: ServerProcess;
    const dataDir = tempDataDir();
    const streamDir = join(dataDir, 'stream-json');
    beforeAll(async () => {
      server = await startServer({
        dataDir,
        config: {
          logLevel: 'warn',
          live: { rtmp: { port: 0 } },
          // Only a view's own end takes it out of the counts before the test is over.
          views: { idleCompleteMs: 600_000 },
          realtime: { tickMs: 1000 },
          monitoring: {
            intervalMs: 5000,
            allowedLatenessMs: 12_000,
            sinks: [{ type: 'file', name: 'json', format: 'json', directory: streamDir }],
          },
        },
      });
    });
    afterAll(async () => {
      await server.kill();
      removeDir(dataDir);
    });

    it('holds the viewers asked for, streams their start latency, and ends them on Ctrl-C', async () => {
      const g = generate([
        ...['--live', '--viewers', String(VIEWERS), '--duration', '5m', '--ramp', '5s'],
        ...['--seed', String(SEED), '--url', server.url, '--data-dir', dataDir],
      ]);
      try {
        // The ramp is over when the generator says every viewer is in progress and the ramp is done.
        await waitFor(
          async () => new RegExp(`${VIEWERS}/${VIEWERS} viewers in progress, `).test(g.stderr()),
          'the end of the ramp',
        );
        const rampDoneMs = Date.now();
        // Ticks from 2 s on (the flush that carries the last starts), five of them.
        const after = await settled(
          async () => (await concurrentPoints(server)).filter((p) => p.atMs >= rampDoneMs + 2000),
          (ps) => ps.length >= 5,
        );
        expect(after.length).toBeGreaterThanOrEqual(5);
        for (const p of after) {
          expect(p.value).toBeGreaterThanOrEqual(VIEWERS * 0.9);
          expect(p.value).toBeLessThanOrEqual(VIEWERS * 1.1);
        }

        // The stream's start latency records are the generated views' startup times, as drawn.
        const drawn = new Map<string, number>();
        for (let i = 0; i < 3 * VIEWERS; i++) {
          const v = viewStartingAt({ seed: SEED, index: i, envKey: 'k', startMs: 0 });
          const startup = v.beacon.samples.find((s) => s.videoStartupTimeMs > 0)?.videoStartupTimeMs;
          if (startup !== undefined) drawn.set(v.beacon.events[0]!.viewId, startup);
        }
        const records = await settled(
          async () => startLatencies(streamDir),
          (m) => m.size >= VIEWERS / 2,
          40_000,
        );
        expect(records.size).toBeGreaterThanOrEqual(VIEWERS / 2);
        for (const [viewId, values] of records) {
          expect(drawn.has(viewId), viewId).toBe(true);
          expect(values).toEqual([drawn.get(viewId)]);
        }
      } finally {
        g.child.kill('SIGINT');
      }
      const code = await g.exited;
      expect(code).toBe(130);
      const summary = g.stdout();
      expect(summary).toMatch(new RegExp(`at ${VIEWERS} viewers \\(ramp 0:05\\)`));
      expect(summary).toMatch(new RegExp(`, ${VIEWERS} ended at the stop\\)`));
      expect(summary).toMatch(/: (\d+) accepted, 0 refused, 0 failed, 0 retries, 0 rate-limited \(429\)/);
      const beacons = Number(/in (\d+) beacons/.exec(summary)?.[1]);
      expect(summary).toContain(`: ${beacons} accepted`);
      // Every view ended by its viewend: the count empties although the idle rule is 10 minutes away.
      const last = await settled(
        async () => (await concurrentPoints(server)).at(-1)?.value,
        (v) => v === 0,
      );
      expect(last).toBe(0);
    });
  });

  describe('against a tight per-address rate limit', () => {
    let server: ServerProcess;
    beforeAll(async () => {
      server = await startServer({
        config: {
          logLevel: 'warn',
          live: { rtmp: { port: 0 } },
          intake: { rateLimit: { perIpPerSecond: 5, perIpBurst: 5 } },
        },
      });
    });
    afterAll(async () => {
      await server.kill();
      removeDir(server.dataDir);
    });

    it('names the limit it hit, backs off, and delivers every beacon', async () => {
      const g = generate([
        ...['--live', '--viewers', '40', '--duration', '6s', '--ramp', '1s', '--seed', '3'],
        ...['--url', server.url, '--data-dir', server.dataDir],
      ]);
      try {
        expect(await g.exited).toBe(0);
      } finally {
        await stopChild(g.child);
      }
      expect(g.stderr()).toContain('HTTP 429 QOE_ERR_RATE_LIMITED');
      expect(g.stderr()).toContain('intake.rateLimit.perIpPerSecond');
      const m =
        /in (\d+) beacons .*: (\d+) accepted, 0 refused, 0 failed, (\d+) retries, (\d+) rate-limited/.exec(
          g.stdout(),
        );
      expect(m, g.stdout()).not.toBeNull();
      expect(m![2]).toBe(m![1]);
      expect(Number(m![4])).toBeGreaterThan(0);
    });
  });
});
