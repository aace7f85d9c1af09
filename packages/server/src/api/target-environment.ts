/**
 * The one environment a created resource (signing key, live stream) goes
 * into: the one the request names, or the only one the token covers.
 */
import type { AuthenticatedToken, Registry } from '../auth/registry.js';
import { ApiError } from './api-error.js';
import { coveredEnvironmentIds } from './data/query-scope.js';

export function targetEnvironment(registry: Registry, token: AuthenticatedToken, given?: string): string {
  if (given !== undefined && !registry.environment(given)) {
    throw new ApiError('QOE_ERR_VALIDATION', undefined, [
      { path: 'environment_id', problem: `no environment ${given}` },
    ]);
  }
  const ids = coveredEnvironmentIds(registry, token, given);
  if (ids.length !== 1) {
    throw new ApiError('QOE_ERR_VALIDATION', undefined, [
      {
        path: 'environment_id',
        problem: `is required: this access token covers ${ids.length} environments`,
      },
    ]);
  }
  return ids[0]!;
}

/** Lets a create call come without a body (curl -X POST): validation then sees `{}`. */
export async function bodyDefaultsToObject(request: { body: unknown }): Promise<void> {
  request.body ??= {};
}
