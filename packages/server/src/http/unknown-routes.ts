/**
 * The answer for a request no route takes: 405 with `Allow` when the path is
 * known under other methods, else 404, both in the error envelope. The
 * routes' paths are collected as they are added (every route of every
 * plugin, so call this before registering any).
 */
import type { FastifyInstance } from 'fastify';
import { ApiError, sendError } from './api-error.js';

/** '/data/v1/video-views/:id' → a pattern matching its paths; '*' matches the rest. */
function pathPattern(url: string): RegExp {
  const escaped = url.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped.replace(/:[A-Za-z0-9_]+/g, '[^/]+').replace(/\*/g, '.*')}/?$`);
}

export function answerUnknownRoutes(app: FastifyInstance): void {
  const routes: { pattern: RegExp; methods: string[] }[] = [];
  app.addHook('onRoute', (route) => {
    // Catch-alls (CORS preflight on '*') would make every path known.
    if (/^\/?\*$/.test(route.url)) return;
    const methods = [route.method].flat();
    if (methods.includes('GET') && !methods.includes('HEAD')) methods.push('HEAD');
    routes.push({ pattern: pathPattern(route.url), methods });
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const allowed = new Set(routes.filter((r) => r.pattern.test(path)).flatMap((r) => r.methods));
    // No route for the path, or one that takes this method and found nothing there (a file not
    // found under a wildcard route): 404. 405 only for a method the path's routes do not take.
    if (allowed.size === 0 || allowed.has(request.method))
      return sendError(reply, new ApiError('QOE_ERR_NOT_FOUND', [`No route ${request.method} ${path}`]));
    const allow = [...allowed].sort().join(', ');
    return sendError(
      reply,
      new ApiError(
        'QOE_ERR_METHOD_NOT_ALLOWED',
        [`${path} does not take ${request.method}; it takes ${allow}`],
        [],
        {
          Allow: allow,
        },
      ),
    );
  });
}
