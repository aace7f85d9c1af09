/**
 * The Mux-protocol listener's certificate. SDKs post to `https://` only, so
 * the listener always serves TLS: the configured pair in production, else a
 * self-signed pair generated once into the data dir for development.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generate } from 'selfsigned';

export interface TlsPair {
  cert: string;
  key: string;
  /** Where the pair was read from; `generated` when it was made for this data dir. */
  certPath: string;
  generated: boolean;
}

export async function loadTlsPair(certPath: string, keyPath: string, dataDir: string): Promise<TlsPair> {
  const read = async (certFile: string, keyFile: string): Promise<TlsPair> => {
    const [cert, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
    return { cert, key, certPath: certFile, generated: false };
  };
  if (certPath || keyPath) {
    if (!certPath || !keyPath) throw new Error('compat.mux: set both certPath and keyPath, or neither');
    return read(certPath, keyPath);
  }
  const dir = join(dataDir, 'compat-tls');
  const certFile = join(dir, 'self-signed-cert.pem');
  const keyFile = join(dir, 'self-signed-key.pem');
  if (existsSync(certFile) && existsSync(keyFile)) return read(certFile, keyFile);
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 825 * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  await mkdir(dir, { recursive: true });
  await writeFile(keyFile, pems.private, { mode: 0o600 });
  await writeFile(certFile, pems.cert);
  return { cert: pems.cert, key: pems.private, certPath: certFile, generated: true };
}
