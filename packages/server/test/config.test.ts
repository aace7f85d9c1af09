import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, envVarName, loadConfig } from '../src/config/load-config.js';
import { removeDir, tempDataDir } from './helpers/server-process.js';

const dir = tempDataDir('openqoe-config-');
afterAll(() => removeDir(dir));

describe('config loader', () => {
  it('has working defaults', () => {
    const c = loadConfig({ env: {} });
    expect(c.port).toBe(8080);
    expect(c.host).toBe('127.0.0.1');
    expect(c.dataDir).toBe('./data');
    expect(c.intake.maxBodyBytes).toBe(1024 * 1024);
    expect(c.intake.maxDecompressedBytes).toBe(4 * 1024 * 1024);
  });

  it('merges file ← environment ← flags, in that order', () => {
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'port: 1000\nhost: 0.0.0.0\nintake:\n  rateLimit:\n    perIpPerSecond: 7\n');
    const c = loadConfig({
      file,
      env: { OPENQOE_PORT: '2000', OPENQOE_INTAKE__RATE_LIMIT__PER_IP_BURST: '9' },
      flags: { port: 3000 },
    });
    expect(c.port).toBe(3000);
    expect(c.host).toBe('0.0.0.0');
    expect(c.intake.rateLimit.perIpPerSecond).toBe(7);
    expect(c.intake.rateLimit.perIpBurst).toBe(9);
  });

  it('names an unknown key and a bad value', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ intake: { maxBodyByts: 5 }, port: 'x' }));
    let err: unknown;
    try {
      loadConfig({ file, env: {} });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.map((p) => p.path);
    expect(problems).toContain('intake.maxBodyByts');
    expect(problems).toContain('port');
    expect((err as Error).message).toMatch(/intake\.maxBodyByts: is not a known field/);
  });

  it('names a bad environment variable by its config key', () => {
    expect(() => loadConfig({ env: { OPENQOE_PORT: 'abc' } })).toThrow(
      /port: must be an integer|port: must be/,
    );
  });

  it('takes a list from a comma-separated environment variable, and names a bad entry', () => {
    const c = loadConfig({
      env: { OPENQOE_CONNECTIONS__TRUSTED_PROXIES: '10.0.0.1, 10.1.0.0/16,,fd00::/8' },
    });
    expect(c.connections.trustedProxies).toEqual(['10.0.0.1', '10.1.0.0/16', 'fd00::/8']);
    expect(() => loadConfig({ env: { OPENQOE_CONNECTIONS__TRUSTED_PROXIES: 'lb.example.com' } })).toThrow(
      /connections\.trustedProxies\[?\.?0\]?/,
    );
  });

  it('derives environment variable names from config paths', () => {
    expect(envVarName(['dataDir'])).toBe('OPENQOE_DATA_DIR');
    expect(envVarName(['intake', 'rateLimit', 'perIpPerSecond'])).toBe(
      'OPENQOE_INTAKE__RATE_LIMIT__PER_IP_PER_SECOND',
    );
  });

  it('reports an unreadable or malformed file', () => {
    expect(() => loadConfig({ file: join(dir, 'missing.json'), env: {} })).toThrow(/cannot read config file/);
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ nope');
    expect(() => loadConfig({ file, env: {} })).toThrow(/not valid JSON/);
  });
});
