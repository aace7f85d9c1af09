/**
 * The CLI's admin commands talk to the running server over HTTP (the
 * embedded database allows one process). Credentials come from flags, the
 * OPENQOE_TOKEN_ID/OPENQOE_TOKEN_SECRET variables, or the data dir's
 * bootstrap.json, in that order; the server's URL as server-url.ts says.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ErrorEnvelope } from '@openqoe/schema';
import { BOOTSTRAP_FILE, type BootstrapFile } from '../auth/bootstrap.js';
import { DEFAULT_URL, dataDirOf, serverUrl } from './server-url.js';

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export interface AdminOptions {
  url?: string;
  tokenId?: string;
  tokenSecret?: string;
  dataDir?: string;
}

export function resolveCredentials(o: AdminOptions): {
  url: string;
  from: string;
  id: string;
  secret: string;
} {
  const { url, from } = serverUrl(o);
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw new CliError(
      `the server URL must be http(s), such as ${DEFAULT_URL}; ${from} gave ${JSON.stringify(url)}`,
      2,
    );
  }
  let id = o.tokenId ?? process.env['OPENQOE_TOKEN_ID'];
  let secret = o.tokenSecret ?? process.env['OPENQOE_TOKEN_SECRET'];
  if (!id || !secret) {
    const file = join(dataDirOf(o.dataDir), BOOTSTRAP_FILE);
    try {
      const b = JSON.parse(readFileSync(file, 'utf8')) as BootstrapFile;
      id ??= b.access_token.id;
      secret ??= b.access_token.secret;
    } catch {
      throw new CliError(
        `no access token: pass --token-id and --token-secret, set OPENQOE_TOKEN_ID/OPENQOE_TOKEN_SECRET, or point --data-dir at a data dir with ${BOOTSTRAP_FILE} (tried ${file})`,
        2,
      );
    }
  }
  return { url, from, id: id!, secret: secret! };
}

export async function adminRequest<T>(
  o: AdminOptions,
  method: string,
  path: string,
  body?: unknown,
): Promise<T | undefined> {
  const { url, from, id, secret } = resolveCredentials(o);
  let res: Response;
  try {
    res = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new CliError(
      `cannot reach the server at ${url} (${cause}; URL from ${from}); is \`openqoe serve\` running? (--url to change)`,
    );
  }
  if (res.status === 204) return undefined;
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CliError(`unexpected answer from ${url}${path} (HTTP ${res.status}): ${text.slice(0, 200)}`);
  }
  if (!res.ok) {
    const e = (json as ErrorEnvelope).error;
    const fields = (e?.fields ?? []).map((f) => `\n  - ${f.path}: ${f.problem}`).join('');
    throw new CliError(`HTTP ${res.status} ${e?.code ?? ''}: ${(e?.messages ?? []).join('; ')}${fields}`);
  }
  return json as T;
}
