/**
 * The README works as written: every shell command of its code blocks runs
 * against a started server, in order, in one directory laid out like a clone
 * after `npm start` (the repository's `packages`, the server's `data`), and
 * none fails or answers an error envelope. The one rewrite: `localhost:8080`
 * becomes the test server's address (it runs on a free port, beside other
 * servers); `openqoe` is `node packages/server/dist/cli.js`, as in a clone.
 * The admin commands find the server with no flag (its server.json).
 * Commands that cannot run here are in SKIPPED, each with its reason; every
 * entry must still match a README command.
 *
 * The sign-in page's hint is checked the same way: the command it shows
 * makes a token the dashboard (data and Live streams pages) accepts.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patience } from './helpers/patience.js';
import { track } from './helpers/processes.js';
import {
  readMetric,
  removeDir,
  type ServerProcess,
  startServer,
  TEST_CONFIG,
  tempDataDir,
  waitFor,
  waitForDrain,
} from './helpers/server-process.js';

const ROOT = resolve(import.meta.dirname, '../../..');

/** README commands the test does not run (a substring of the command, and why). */
const SKIPPED: { command: string; reason: string }[] = [
  { command: 'npm install && npm start', reason: 'builds and starts the server the test has started itself' },
  { command: 'npm install && npm test', reason: 'the whole test suite, this test included' },
  {
    command: 'npm run release:pack',
    reason: 'packs and installs the release: release.integration.test.ts does both, into an empty prefix',
  },
  { command: 'nats-server', reason: 'a NATS JetStream deployment' },
  { command: 'serve --role', reason: 'scale-out roles need the NATS deployment above' },
  { command: 'ch.example.internal', reason: 'an example ClickHouse host' },
  {
    command: 'generate --live',
    reason: 'two minutes of live viewers: generate-live.integration.test.ts runs the same mode for seconds',
  },
];

/** The commands of the markdown's sh/bash/shell code blocks, by block; a command's continuation lines kept. */
function shellBlocks(markdown: string): string[][] {
  const blocks: string[][] = [];
  for (const m of markdown.matchAll(/^```(?:sh|bash|shell)\n([\s\S]*?)^```/gm)) {
    const commands: string[] = [];
    let pending = '';
    for (const line of m[1]!.split('\n')) {
      if (!pending && (line.trim() === '' || line.trim().startsWith('#'))) continue;
      if (line.endsWith('\\')) pending += `${line}\n`;
      else {
        commands.push(pending + line);
        pending = '';
      }
    }
    blocks.push(commands);
  }
  return blocks;
}

interface Ran {
  command: string;
  rc: number;
  output: string;
}

/** Runs commands in one bash each block, variables carried from block to block as a reader's shell would. */
function runBlock(cwd: string, commands: string[], port: number): Promise<Ran[]> {
  const state = join(cwd, '.readme-state');
  const script = [
    'exec 2>&1',
    'set -a',
    `[ -f ${state} ] && . ${state}`,
    ...commands.flatMap((c, i) => [
      `printf '\\n@@start ${i}\\n'`,
      c
        .replaceAll('localhost:8080', `127.0.0.1:${port}`)
        .replace(/^openqoe /, 'node packages/server/dist/cli.js '),
      `printf '\\n@@rc ${i} %d\\n' $?`,
    ]),
    `export -p > ${state}`,
  ].join('\n');
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OPENQOE_')) env[k] = v;
  return new Promise((resolvePromise, reject) => {
    track(
      execFile(
        'bash',
        ['-c', script],
        { cwd, env, timeout: patience(300_000), maxBuffer: 64 * 1024 * 1024 },
        (err, stdout) => {
          if (err && (err as { killed?: boolean }).killed) return reject(new Error(`timed out:\n${stdout}`));
          resolvePromise(
            commands.map((command, i) => {
              const start = stdout.indexOf(`\n@@start ${i}\n`);
              const end = stdout.indexOf(`\n@@rc ${i} `, start);
              const rc = end === -1 ? -1 : Number(/^\n@@rc \d+ (\d+)/.exec(stdout.slice(end))?.[1] ?? -1);
              return { command, rc, output: stdout.slice(start + `\n@@start ${i}\n`.length, end) };
            }),
          );
        },
      ),
      'README block',
    );
  });
}

describe('the README, run as written', () => {
  const cwd = tempDataDir('openqoe-readme-');
  let server: ServerProcess;
  let port: number;
  const ran: Ran[] = [];

  beforeAll(async () => {
    symlinkSync(join(ROOT, 'packages'), join(cwd, 'packages'));
    mkdirSync(join(cwd, 'data'));
    // Views complete 300 ms after their last beacon instead of 60 s, so queries find them at once.
    server = await startServer({
      dataDir: join(cwd, 'data'),
      config: { ...TEST_CONFIG, views: { idleCompleteMs: 300, tickIntervalMs: 50 } },
    });
    port = Number(new URL(server.url).port);
  });

  afterAll(async () => {
    await server?.kill();
    removeDir(cwd);
  });

  it(
    'runs every command of its shell code blocks without an error',
    async () => {
      const blocks = shellBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));
      const all = blocks.flat();
      for (const s of SKIPPED)
        expect(
          all.some((c) => c.includes(s.command)),
          `skip entry ${s.command}`,
        ).toBe(true);
      let views = 0;
      for (const block of blocks) {
        const commands = block.filter((c) => !SKIPPED.some((s) => c.includes(s.command)));
        if (!commands.length) continue;
        ran.push(...(await runBlock(cwd, commands, port)));
        // What the block sent is stored before the next block queries it, as a reader who waits would see.
        for (const c of commands) {
          if (c.includes('/v1/beacon')) views += 1;
          const generated = /generate --views (\d+)/.exec(c);
          if (generated) views += Number(generated[1]);
        }
        await waitForDrain(server, patience(120_000));
        await waitFor(
          async () => (await readMetric(server, 'openqoe_pipeline_views_stored_total')) >= views,
          `${views} views to be stored`,
          patience(120_000),
        );
      }
      const failed = ran
        .filter((r) => r.rc !== 0 || /"error":\s*\{/.test(r.output))
        .map((r) => `${r.command}\n  exit ${r.rc}: ${r.output.slice(0, 500)}`);
      expect(failed).toEqual([]);
      expect(ran.length).toBeGreaterThan(10);
    },
    patience(900_000),
  );

  it('its examples answer what it says: the beacon is taken, the country filter finds the generated German views', () => {
    const beacon = ran.find((r) => r.command.includes('/v1/beacon'));
    expect(beacon?.output.trim()).toBe('{"samples":3,"events":0}');
    const country = ran.find((r) => r.command.includes('filters[]=country:DE'));
    const rows = (JSON.parse(country!.output) as { data: { views: number }[] }).data;
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.reduce((n, r) => n + r.views, 0)).toBeGreaterThan(0);
  });

  it('the sign-in page’s command makes a token the dashboard accepts, Live streams page included', async () => {
    const page = readFileSync(join(ROOT, 'packages/dashboard/src/pages/sign-in.tsx'), 'utf8');
    const hint = /data-testid="create-token-command">([^<]+)</.exec(page)?.[1];
    expect(hint).toMatch(/^openqoe tokens create /);
    const [r] = await runBlock(cwd, [hint!], port);
    expect(r!.rc, r!.output).toBe(0);
    const id = /id:\s+(\S+)/.exec(r!.output)?.[1];
    const secret = /secret:\s+(\S+)/.exec(r!.output)?.[1];
    const auth = `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
    for (const path of ['/data/v1/video-views', '/data/v1/monitoring/metrics', '/video/v1/live-streams'])
      expect((await fetch(`${server.url}${path}`, { headers: { authorization: auth } })).status, path).toBe(
        200,
      );
  });
});
