/** The `monitoring` section of the config: defaults per sink kind, and errors that name the bad key. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/load-config.js';
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
});
