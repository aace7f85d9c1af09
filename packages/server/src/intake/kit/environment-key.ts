/**
 * Which environment a request belongs to, from the key it carries. Native
 * beacons carry an openqoe environment key; drop-in SDKs carry their own
 * (a Mux env_key, a CMCD path segment), which a configured mapping may
 * translate, so a site keeps its player configuration unchanged.
 */
import type { Registry } from '../../auth/registry.js';
import { ApiError } from '../../http/api-error.js';
import type { Environment } from '../../store/store.js';

/** The environment of an openqoe environment key; 400 when there is none, 401 when it is unknown. */
export function environmentOfKey(registry: Registry, key: string | undefined): Environment {
  if (!key) throw new ApiError('QOE_ERR_MISSING_ENV_KEY');
  const env = registry.environmentByKey(key);
  if (!env)
    throw new ApiError('QOE_ERR_UNKNOWN_ENV_KEY', [
      `Unknown environment key ${JSON.stringify(key.slice(0, 64))}`,
    ]);
  return env;
}

/**
 * The environment of a key an SDK sends: the configured mapping (`compat.*.envKeys`)
 * first, else the key itself when it is an openqoe environment key.
 */
export function environmentOfSdkKey(
  registry: Registry,
  envKeys: Record<string, string>,
  sentKey: string,
): Environment {
  const mapped = envKeys[sentKey];
  const env = registry.environmentByKey(mapped ?? sentKey);
  if (!env) {
    throw new ApiError('QOE_ERR_UNKNOWN_ENV_KEY', [
      mapped
        ? `env_key ${JSON.stringify(sentKey.slice(0, 64))} maps to an openqoe environment key that does not exist`
        : `Unknown env_key ${JSON.stringify(sentKey.slice(0, 64))}: add it to compat's envKeys or use an openqoe environment key`,
    ]);
  }
  return env;
}
