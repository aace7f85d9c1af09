/**
 * Access-token authentication (HTTP Basic: token id as user, secret as
 * password) and permission checks, as a preHandler factory for routes.
 */
import type { Permission } from '@openqoe/schema';
import type { FastifyRequest } from 'fastify';
import type { AuthenticatedToken, Registry } from '../auth/registry.js';
import { ApiError } from './api-error.js';

declare module 'fastify' {
  interface FastifyRequest {
    token?: AuthenticatedToken;
  }
}

export function parseBasic(header: string | undefined): { id: string; secret: string } | undefined {
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

export function requirePermission(registry: Registry, permission: Permission) {
  return async (request: FastifyRequest): Promise<void> => {
    // Failures are limited per client address (auth-failures.ts): a limited address gets 429 first.
    const token = await request.server.authFailures.guard(request, () => {
      const creds = parseBasic(request.headers.authorization);
      const found = creds && registry.authenticate(creds.id, creds.secret);
      if (!found) {
        throw new ApiError('QOE_ERR_UNAUTHORIZED', undefined, [], {
          'www-authenticate': 'Basic realm="openqoe"',
        });
      }
      return found;
    });
    if (!token.permissions.includes(permission)) {
      throw new ApiError('QOE_ERR_FORBIDDEN', [`This access token lacks the ${permission} permission`]);
    }
    request.token = token;
  };
}
