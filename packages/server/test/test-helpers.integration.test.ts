/**
 * The test helpers' own promises: a server start that fails or times out
 * leaves no process behind, what a test leaves running is stopped after it,
 * and waits stretch with the machine but still fail on a wrong value.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Deadline, patience, settled, slowdown, waitFor } from './helpers/patience.js';
import { running, spawnTracked, stopLeftovers } from './helpers/processes.js';
import { removeDir, startServer, tempDataDir } from './helpers/server-process.js';

/** Pids of live processes whose command line contains `text` (ground truth from /proc, not the helpers). */
function processesWith(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1];
      if (state !== 'Z' && cmdline.includes(text)) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

const linux = process.platform === 'linux';

describe('test helpers', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) removeDir(d);
  });

  it.skipIf(!linux)('a server start that times out kills the server it started', async () => {
    const dataDir = tempDataDir('openqoe-start-timeout-');
    dirs.push(dataDir);
    const err = await startServer({ dataDir, startDeadlineMs: 1 }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/^server did not start within 1 ms \(killed it\)/);
    // Killed and reaped before the start rejected: no process with its data dir is left.
    expect(processesWith(dataDir)).toEqual([]);
    expect(running()).toEqual([]);
  });

  it.skipIf(!linux)('a server that exits before listening leaves nothing running', async () => {
    const dataDir = tempDataDir('openqoe-start-fails-');
    dirs.push(dataDir);
    const err = await startServer({ dataDir, args: ['--store', 'no-such-store:'] }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/^server exited with \d+ before listening/);
    expect(processesWith(dataDir)).toEqual([]);
  });

  it.skipIf(!linux)('stops a child a test left running', async () => {
    const marker = `openqoe-left-running-${process.pid}-${Date.now()}`;
    const child = spawnTracked(process.execPath, ['-e', 'setInterval(() => {}, 1000)', marker], {
      stdio: 'ignore',
    });
    await waitFor(async () => processesWith(marker).length === 1, 'the child to run');
    expect(running()).toEqual([`${process.execPath} (pid ${child.pid})`]);
    expect(await stopLeftovers()).toEqual([`${process.execPath} (pid ${child.pid})`]);
    expect(child.signalCode).toBe('SIGKILL');
    expect(processesWith(marker)).toEqual([]);
  });

  it('scales waits by a factor of at least 1, and a settled read still returns a wrong value', async () => {
    expect(slowdown()).toBeGreaterThanOrEqual(1);
    expect(patience(1000)).toBeGreaterThanOrEqual(1000);
    expect(new Deadline(1000).ms).toBeGreaterThanOrEqual(1000);
    // A value that never reaches what the test expects comes back as it is, for the assertion to fail on.
    let reads = 0;
    const value = await settled(
      async () => ++reads,
      (n) => n < 0,
      50,
    );
    expect(value).toBe(reads);
    await expect(waitFor(async () => false, 'never', 50)).rejects.toThrow(/waiting for never/);
  });
});
