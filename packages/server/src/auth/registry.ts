/**
 * Environments and access tokens, held in memory for the hot path (every
 * beacon looks up its environment key, every API call its token) and written
 * through to the store.
 *
 * Token secrets are 256 random bits, so a SHA-256 digest is enough to keep
 * them unreadable at rest; a slow password hash would only slow every request.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Permission } from '@openqoe/schema';
import type { AccessTokenRecord, Environment, MetaStore } from '../store/store.js';

export interface AuthenticatedToken {
  id: string;
  name: string;
  permissions: readonly Permission[];
  allEnvironments: boolean;
  environmentIds: readonly string[];
}

const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('hex');
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

function randomId(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += ALPHABET[b & 31];
  return out;
}

export class Registry {
  private readonly envById = new Map<string, Environment>();
  private readonly envByKey = new Map<string, Environment>();
  private readonly tokens = new Map<string, AccessTokenRecord>();

  private constructor(private readonly store: MetaStore) {}

  static async load(store: MetaStore): Promise<Registry> {
    const r = new Registry(store);
    await r.reload();
    return r;
  }

  /** Reads environments and tokens again: how a node that does not own the store follows the one that does. */
  async reload(): Promise<void> {
    const envs = await this.store.listEnvironments();
    const tokens = await this.store.listAccessTokens();
    this.envById.clear();
    this.envByKey.clear();
    for (const env of envs) this.addEnv(env);
    this.tokens.clear();
    for (const t of tokens) this.tokens.set(t.id, t);
  }

  private addEnv(env: Environment): void {
    this.envById.set(env.id, env);
    this.envByKey.set(env.key, env);
  }

  get isEmpty(): boolean {
    return this.envById.size === 0 && this.tokens.size === 0;
  }

  environmentByKey(key: string): Environment | undefined {
    return this.envByKey.get(key);
  }

  environment(id: string): Environment | undefined {
    return this.envById.get(id);
  }

  environments(): Environment[] {
    return [...this.envById.values()];
  }

  async createEnvironment(name: string): Promise<Environment> {
    const env: Environment = { id: randomId(12), name, key: randomId(26), createdAtMs: Date.now() };
    await this.store.insertEnvironment(env);
    this.addEnv(env);
    return env;
  }

  async deleteEnvironment(id: string): Promise<boolean> {
    const env = this.envById.get(id);
    if (!env) return false;
    await this.store.deleteEnvironment(id);
    this.envById.delete(id);
    this.envByKey.delete(env.key);
    return true;
  }

  tokenRecords(): AccessTokenRecord[] {
    return [...this.tokens.values()];
  }

  token(id: string): AccessTokenRecord | undefined {
    return this.tokens.get(id);
  }

  async createToken(
    input: Omit<AccessTokenRecord, 'id' | 'secretHash' | 'createdAtMs'>,
  ): Promise<{ record: AccessTokenRecord; secret: string }> {
    const secret = randomBytes(32).toString('base64url');
    const record: AccessTokenRecord = {
      id: randomUUID(),
      name: input.name,
      secretHash: hashSecret(secret),
      permissions: [...new Set(input.permissions)],
      environmentIds: input.allEnvironments ? [] : [...new Set(input.environmentIds)],
      allEnvironments: input.allEnvironments,
      createdAtMs: Date.now(),
    };
    await this.store.insertAccessToken(record);
    this.tokens.set(record.id, record);
    return { record, secret };
  }

  async deleteToken(id: string): Promise<boolean> {
    if (!this.tokens.has(id)) return false;
    await this.store.deleteAccessToken(id);
    this.tokens.delete(id);
    return true;
  }

  /** Checks an id/secret pair; undefined when either is wrong (callers do not learn which). */
  authenticate(id: string, secret: string): AuthenticatedToken | undefined {
    const t = this.tokens.get(id);
    const given = Buffer.from(hashSecret(secret), 'hex');
    const expected = Buffer.from(t?.secretHash ?? '0'.repeat(64), 'hex');
    if (!timingSafeEqual(given, expected) || !t) return undefined;
    const { secretHash: _hash, createdAtMs: _created, ...token } = t;
    return token;
  }
}

export function tokenCoversEnvironment(token: AuthenticatedToken, envId: string): boolean {
  return token.allEnvironments || token.environmentIds.includes(envId);
}
