/**
 * The server's node flags are given in two places: the openqoe command's
 * first line and `npm start`. They must not drift apart (the ingest
 * benchmark starts the server with the first line's).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');

describe('node flags of the server', () => {
  it('are the same in the command’s first line and in npm start', () => {
    const first = readFileSync(resolve(root, 'packages/server/src/cli.ts'), 'utf8').split('\n', 1)[0]!;
    const shebang = /^#!\/usr\/bin\/env -S node((?: --[\w-]+=\S+)*)$/.exec(first);
    expect(shebang, first).not.toBeNull();
    const flags = shebang![1]!.trim().split(' ');
    expect(flags).toContain('--max-semi-space-size=64');

    const start: string = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')).scripts.start;
    const launch = /node((?: --[\w-]+=\S+)*) packages\/server\/dist\/cli\.js serve/.exec(start);
    expect(launch, start).not.toBeNull();
    expect(launch![1]!.trim().split(' ')).toEqual(flags);
  });

  it('let the built openqoe command run as a program (executable, flags valid)', () => {
    const run = spawnSync(resolve(root, 'packages/server/dist/cli.js'), ['--version'], { encoding: 'utf8' });
    expect(run.error).toBeUndefined();
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
