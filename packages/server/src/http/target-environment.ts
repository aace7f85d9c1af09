/**
 * Which environments a request covers: the ones it reads, and the one a
 * created resource (signing key, live stream) goes into.
 */
import { type AuthenticatedToken, type Registry, tokenCoversEnvironment } from '../auth/registry.js';
import { ApiError } from './api-error.js';

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

/**
 * The environments a request reads: the one it names (403 if the token does
 * not cover it), or every environment the token covers.
 */
export function coveredEnvironmentIds(
  registry: Registry,
  token: AuthenticatedToken,
  environmentId?: string,
): string[] {
  if (environmentId !== undefined) {
    if (!tokenCoversEnvironment(token, environmentId)) {
      throw new ApiError('QOE_ERR_FORBIDDEN', ['This access token does not cover that environment']);
    }
    return [environmentId];
  }
  return registry
    .environments()
    .map((e) => e.id)
    .filter((id) => tokenCoversEnvironment(token, id));
}

/** Lets a create call come without a body (curl -X POST): validation then sees `{}`. */
export async function bodyDefaultsToObject(request: { body: unknown }): Promise<void> {
  request.body ??= {};
}
