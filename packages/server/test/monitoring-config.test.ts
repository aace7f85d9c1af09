/**
 * The `monitoring` section of the config: defaults per sink kind, errors that
 * name the bad key, and the retry keys' old names (still taken, with a warning).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, configWarnings, loadConfig } from '../src/config/load-config.js';
import { removeDir, tempDataDir } from './helpers/server-process.js';

const dir = tempDataDir('openqoe-mon-config-');
afterAll(() => removeDir(dir));

function load(sinks: unknown[]) {
  const file = join(dir, 'c.json');
  writeFileSync(file, JSON.stringify({ monitoring: { sinks } }));
  return loadConfig({ file, env: {} });
}

function problems(sinks: unknown[]): string[] {
  try {
    load(sinks);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.map((f) => `${f.path}: ${f.problem}`);
  }
  throw new Error('the configuration was accepted');
}

describe('monitoring config', () => {
  it('defaults to the reference interval and lateness, no sinks, and fills each sink kind’s defaults', () => {
    expect(loadConfig({ env: {} }).monitoring).toMatchObject({
      intervalMs: 30_000,
      allowedLatenessMs: 15_000,
      ebvsDelayMs: 60_000,
      sinks: [],
    });
    const c = load([
      { type: 'kinesis', name: 'k', streamName: 's' },
      { type: 'file', name: 'f', directory: '/tmp/x', format: 'json' },
    ]);
    expect(c.monitoring.sinks[0]).toMatchObject({ format: 'protobuf', region: 'us-east-1', endpoint: '' });
    expect(c.monitoring.sinks[1]).toMatchObject({ format: 'json', maxFiles: 10, bufferMaxBytes: 1024 ** 3 });
  });

  it('names what is wrong with a sink', () => {
    expect(problems([{ type: 'kinesis', name: 'k' }])).toEqual([
      'monitoring.sinks[0]: streamName is required',
    ]);
    expect(problems([{ type: 'kafka', name: 'k' }])).toEqual([
      'monitoring.sinks[0]: type must be one of "kinesis", "nats", "http", "file"',
    ]);
    expect(problems([{ type: 'http', name: 'h', url: 'http://x', format: 'xml' }])).toEqual([
      'monitoring.sinks[0]: format must be one of "json", "protobuf", got "xml"',
    ]);
    expect(problems([{ type: 'file', name: 'f', directory: '/tmp/x', maxFiles: 0 }])).toEqual([
      'monitoring.sinks[0]: maxFiles must be ≥ 1, got 0',
    ]);
  });

  it('takes the retry keys by their old names, with a warning naming the new ones', () => {
    const c = load([
      { type: 'http', name: 'old', url: 'http://x', retryInitialDelayMs: 50, retryMaxDelayMs: 200 },
      { type: 'http', name: 'new', url: 'http://x' },
      { type: 'http', name: 'both', url: 'http://x', retryInitialDelayMs: 7, retryInitialBackoffMs: 9 },
    ]);
    expect(c.monitoring.sinks.map((s) => [s.retryInitialBackoffMs, s.retryMaxBackoffMs])).toEqual([
      [50, 200],
      [500, 30_000],
      [9, 30_000],
    ]);
    expect(c.monitoring.sinks[0]).not.toHaveProperty('retryInitialDelayMs');
    expect(configWarnings(c)).toEqual([
      'monitoring.sinks[0].retryInitialDelayMs is an old name: use retryInitialBackoffMs (the value was taken)',
      'monitoring.sinks[2].retryInitialDelayMs is ignored: monitoring.sinks[2].retryInitialBackoffMs is set (retryInitialDelayMs is its old name)',
      'monitoring.sinks[0].retryMaxDelayMs is an old name: use retryMaxBackoffMs (the value was taken)',
    ]);
    // The connectors' defaults are their own.
    const file = join(dir, 'connectors.json');
    writeFileSync(file, JSON.stringify({ connectors: [{ name: 'w', type: 'webhook', url: 'http://x' }] }));
    expect(loadConfig({ file, env: {} }).connectors[0]).toMatchObject({
      retryInitialBackoffMs: 500,
      retryMaxBackoffMs: 60_000,
      bufferMaxBytes: 256 * 1024 * 1024,
      whenFull: 'block',
    });
  });
});
