/**
 * First start: on an empty data dir, create an environment and an admin
 * access token, print both once and keep them in `{dataDir}/bootstrap.json`
 * (mode 0600) for the CLI's admin commands.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PERMISSIONS } from '@openqoe/schema';
import type { Registry } from './registry.js';

export interface BootstrapFile {
  environment: { id: string; key: string };
  access_token: { id: string; secret: string };
}

export const BOOTSTRAP_FILE = 'bootstrap.json';

export async function bootstrapIfEmpty(
  registry: Registry,
  dataDir: string,
): Promise<BootstrapFile | undefined> {
  if (!registry.isEmpty) return undefined;
  const env = await registry.createEnvironment('default');
  const { record, secret } = await registry.createToken({
    name: 'admin',
    permissions: [...PERMISSIONS],
    environmentIds: [],
    allEnvironments: true,
  });
  const file: BootstrapFile = {
    environment: { id: env.id, key: env.key },
    access_token: { id: record.id, secret },
  };
  await writeFile(join(dataDir, BOOTSTRAP_FILE), `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  return file;
}
