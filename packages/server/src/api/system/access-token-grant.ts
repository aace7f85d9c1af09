/**
 * What a new access token may be given: environments that exist, either a
 * list or all of them, and nothing its creator lacks (permissions and
 * environments). Problems with the request are refused before the
 * creator's rights are looked at.
 */
import { type AuthenticatedToken, type Registry, tokenCoversEnvironment } from '../../auth/registry.js';
import { ApiError } from '../../http/api-error.js';
import type { CreateTokenBody } from './system-schemas.js';

export function checkGrant(
  registry: Registry,
  caller: AuthenticatedToken,
  body: CreateTokenBody,
): { environmentIds: string[]; allEnvironments: boolean } {
  const all = body.all_environments ?? false;
  const envIds = body.environment_ids ?? [];
  const invalid = (...problems: string[]) =>
    new ApiError(
      'QOE_ERR_VALIDATION',
      undefined,
      problems.map((problem) => ({ path: 'environment_ids', problem })),
    );
  if (!all && envIds.length === 0)
    throw invalid('must list at least one environment unless all_environments is true');
  if (all && envIds.length > 0) throw invalid('must be empty when all_environments is true');
  const missing = envIds.filter((id) => !registry.environment(id));
  if (missing.length) throw invalid(...missing.map((id) => `no environment ${id}`));
  const extraPerms = body.permissions.filter((p) => !caller.permissions.includes(p));
  if (extraPerms.length)
    throw new ApiError('QOE_ERR_FORBIDDEN', [`A token cannot grant ${extraPerms.join(', ')}: it lacks it`]);
  if ((all && !caller.allEnvironments) || envIds.some((id) => !tokenCoversEnvironment(caller, id)))
    throw new ApiError('QOE_ERR_FORBIDDEN', ['A token cannot grant environments it does not cover']);
  return { environmentIds: envIds, allEnvironments: all };
}
