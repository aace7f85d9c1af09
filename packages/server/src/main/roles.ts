/** Which parts a server runs: `all` (the embedded default, or every role over NATS) or one scale-out role. */
import type { Config } from '../config/config-schema.js';

export interface Roles {
  ingest: boolean;
  pipeline: boolean;
  api: boolean;
}

export function rolesOf(config: Config): Roles {
  const role = config.cluster.role;
  return {
    ingest: role === 'ingest' || role === 'all',
    pipeline: role === 'pipeline' || role === 'all',
    api: role === 'api' || role === 'all',
  };
}
