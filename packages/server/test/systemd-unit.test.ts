/**
 * The systemd unit (deploy/openqoe.service) is valid as systemd reads it, as
 * hardened as docs/deploy.md says, starts the command with flags `serve`
 * knows, and is the unit the docs show. `systemd-analyze verify` needs the
 * command to exist, so it checks a copy whose ExecStart names this
 * checkout's built CLI. Where systemd-analyze is not installed, those checks
 * are skipped (they say so); the others run everywhere.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI } from './helpers/server-process.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const UNIT = readFileSync(join(ROOT, 'deploy/openqoe.service'), 'utf8');
const INSTALLED_BIN = '/usr/local/bin/openqoe';
const hasSystemdAnalyze = spawnSync('systemd-analyze', ['--version'], { stdio: 'ignore' }).status === 0;

/** The unit's settings (comments and sections left out), key → values in order. */
function settings(unit: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of unit.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m) map.set(m[1]!, [...(map.get(m[1]!) ?? []), m[2]!]);
  }
  return map;
}

describe('the systemd unit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'openqoe-systemd-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const s = settings(UNIT);

  it('runs as its own user with the system read-only but its state directory, and no way to gain privileges', () => {
    expect(s.get('User')).toEqual(['openqoe']);
    expect(s.get('StateDirectory')).toEqual(['openqoe']);
    expect(s.get('ProtectSystem')).toEqual(['strict']);
    expect(s.get('ReadWritePaths')).toEqual(['/var/lib/openqoe']);
    expect(s.get('NoNewPrivileges')).toEqual(['yes']);
    for (const key of [
      'PrivateTmp',
      'ProtectHome',
      'PrivateDevices',
      'RestrictNamespaces',
      'RestrictSUIDSGID',
    ])
      expect(s.get(key), key).toEqual(['yes']);
    expect(s.get('RestrictAddressFamilies')).toEqual(['AF_INET AF_INET6 AF_UNIX AF_NETLINK']);
    expect(s.get('CapabilityBoundingSet')).toEqual(['']);
    // The data dir is the state directory, so the admin commands find server.json there.
    expect(s.get('ExecStart')?.[0]).toContain('--data-dir /var/lib/openqoe');
  });

  it('starts `openqoe serve` with flags it knows', () => {
    const [bin, command, ...args] = s.get('ExecStart')![0]!.split(' ');
    expect([bin, command]).toEqual([INSTALLED_BIN, 'serve']);
    const help = execFileSync(process.execPath, [CLI, 'serve', '--help'], { encoding: 'utf8' });
    for (const flag of args.filter((a) => a.startsWith('--'))) expect(help, flag).toContain(flag);
  });

  it('is the unit docs/deploy.md shows', () => {
    const docs = readFileSync(join(ROOT, 'docs/deploy.md'), 'utf8');
    expect(docs).toContain(`\`\`\`ini\n${UNIT}\`\`\``);
  });

  it.skipIf(!hasSystemdAnalyze)(
    'passes `systemd-analyze verify` without a warning, and `security` rates it OK (skipped without systemd-analyze)',
    () => {
      const unit = join(dir, 'openqoe.service');
      writeFileSync(unit, UNIT.replace(INSTALLED_BIN, CLI));
      const verify = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
      expect(verify.status, verify.stderr).toBe(0);
      expect(`${verify.stdout}${verify.stderr}`.trim()).toBe('');
      const security = spawnSync('systemd-analyze', ['security', '--offline=yes', unit], {
        encoding: 'utf8',
      });
      // --offline came with systemd 250; an older one cannot rate a unit file that is not loaded.
      if (security.status === 0 || /exposure level/.test(security.stdout)) {
        const level = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(security.stdout)?.[1]);
        expect(level, security.stdout).toBeLessThanOrEqual(2);
      }
    },
  );
});
