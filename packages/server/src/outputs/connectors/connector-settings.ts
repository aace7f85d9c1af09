/**
 * What every connector module reads from its config entry: required keys
 * (a missing one stops the start with a message naming it, e.g.
 * `connectors[0].url: is required for type "webhook"`), secrets from an
 * environment variable or a file (read once at start; messages name the key
 * and where it looked, never the value), and its records as text; and the
 * shape of a connector module.
 */
import { readFileSync } from 'node:fs';
import type { ConnectorConfig, SecretRef } from '../../config/connectors-config.js';
import { ConfigError } from '../../config/load-config.js';
import type { ActiveViews } from '../../pipeline/view-model/active-views.js';
import type { Destination, DestinationModule, QueueRecord } from '../delivery/destination.js';
import { httpDestination } from '../delivery/http-transport.js';

/** A connector destination: its module (payload and transport) as destinations/registry.ts lists it. */
export interface ConnectorModule extends DestinationModule<ConnectorConfig> {
  /**
   * A destination of aggregates rather than player events (datadog_metrics):
   * the records it wants at a time on the view timer, each with its environment.
   */
  series?(
    c: ConnectorConfig,
    views: ActiveViews,
  ): (nowMs: number) => { envId: string; record: QueueRecord }[];
}

/** A connector entry that cannot work; the server does not start (the message names the key). */
export class ConnectorConfigError extends ConfigError {}

export class SecretError extends ConfigError {}

export function readSecret(ref: SecretRef, key: string, env: NodeJS.ProcessEnv = process.env): string {
  if ((ref.env === undefined) === (ref.file === undefined))
    throw new SecretError(`${key}: give exactly one of "env" or "file"`);
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

/** `c[field]`, which this connector type needs. */
export function required<K extends keyof ConnectorConfig>(
  c: ConnectorConfig,
  field: K,
  key: string,
): NonNullable<ConnectorConfig[K]> {
  const value = c[field];
  if (value === undefined || value === '')
    throw new ConnectorConfigError(`${key}.${String(field)}: is required for type "${c.type}"`);
  return value as NonNullable<ConnectorConfig[K]>;
}

/** The secret `c[field]` names, which this connector type needs. */
export const secret = (c: ConnectorConfig, field: 'token' | 'apiKey', key: string, env: NodeJS.ProcessEnv) =>
  readSecret(required(c, field, key), `${key}.${field}`, env);

/** The envelope JSON texts of a batch. */
export const texts = (batch: readonly QueueRecord[]): string[] =>
  batch.map((r) => r.payload.toString('utf8'));

/**
 * A connector that POSTs each batch: the module gives where, with which
 * headers, and the body of a batch of envelope texts (its payload).
 */
export function postEach(
  c: ConnectorConfig,
  to: { url: string; headers: Record<string, string>; compression: 'gzip' | 'none' },
  body: (envelopes: string[]) => string,
): Destination {
  const headers = { ...to.headers, 'Content-Type': 'application/json' };
  return httpDestination((batch) => ({ url: to.url, headers, body: Buffer.from(body(texts(batch))) }), {
    compression: c.compression ?? to.compression,
    timeoutMs: c.requestTimeoutMs,
  });
}
