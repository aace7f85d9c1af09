/**
 * Signing keys of the stats API. A key pair is made here, the private half
 * is handed to the caller once (base64 of a PKCS#1 PEM, as the reference
 * and its SDKs expect) and forgotten; only the public half is kept, in
 * memory for verification and in the store. Deleting a key stops its
 * tokens at once.
 */
import { createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { LiveStore, SigningKeyRecord } from '../store/live-store.js';
import { recordId } from './record-id.js';

const generate = promisify(generateKeyPair);

export interface SigningKey extends SigningKeyRecord {
  publicKey: KeyObject;
}

export class SigningKeys {
  private readonly keys = new Map<string, SigningKey>();

  private constructor(private readonly store: LiveStore) {}

  static async load(store: LiveStore): Promise<SigningKeys> {
    const s = new SigningKeys(store);
    for (const r of await store.signingKeys())
      s.keys.set(r.id, { ...r, publicKey: createPublicKey(r.publicKeyPem) });
    return s;
  }

  get(id: string): SigningKey | undefined {
    return this.keys.get(id);
  }

  list(): SigningKey[] {
    return [...this.keys.values()];
  }

  async create(envId: string): Promise<{ key: SigningKey; privateKeyBase64: string }> {
    const { publicKey, privateKey } = await generate('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    });
    const record: SigningKeyRecord = {
      id: recordId(16),
      envId,
      publicKeyPem: publicKey,
      createdAtMs: Date.now(),
    };
    await this.store.insertSigningKey(record);
    const key = { ...record, publicKey: createPublicKey(publicKey) };
    this.keys.set(key.id, key);
    return { key, privateKeyBase64: Buffer.from(privateKey).toString('base64') };
  }

  async delete(id: string): Promise<boolean> {
    if (!this.keys.has(id)) return false;
    // The store first: if it fails, the key stays usable and a retry can delete it.
    await this.store.deleteSigningKey(id);
    this.keys.delete(id);
    return true;
  }
}
