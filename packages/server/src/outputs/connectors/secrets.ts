/**
 * Reads the secrets connectors need from an environment variable or a file,
 * once at start. Messages name the config key and where it looked, never
 * the value.
 */
import { readFileSync } from 'node:fs';
import type { SecretRef } from '../../config/connectors-config.js';
import { ConfigError } from '../../config/load-config.js';

export class SecretError extends ConfigError {}

export function readSecret(ref: SecretRef, key: string, env: NodeJS.ProcessEnv = process.env): string {
  if ((ref.env === undefined) === (ref.file === undefined)) {
    throw new SecretError(`${key}: give exactly one of "env" or "file"`);
  }
  let value: string | undefined;
  if (ref.env !== undefined) {
    value = env[ref.env];
    if (value === undefined || value.trim() === '')
      throw new SecretError(`${key}: environment variable ${ref.env} is not set`);
  } else {
    try {
      value = readFileSync(ref.file!, 'utf8');
    } catch (err) {
      throw new SecretError(
        `${key}: cannot read ${ref.file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
      );
    }
    if (value.trim() === '') throw new SecretError(`${key}: ${ref.file} is empty`);
  }
  return value.trim();
}
