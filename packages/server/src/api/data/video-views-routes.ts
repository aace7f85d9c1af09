/**
 * `/data/v1/video-views`: stored views, filtered, sorted and paged, and one
 * view with everything known about it and its timeline. The schemas are in
 * video-views-schemas.ts, the answers in video-views-answers.ts.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Registry } from '../../auth/registry.js';
import { requirePermission } from '../../http/auth-hook.js';
import { CSV_TOO } from '../../http/csv-answers.js';
import type { Store } from '../../store/store.js';
import { viewAnswer, viewListAnswer } from './video-views-answers.js';
import { VIEW_LIST_SCHEMA, VIEW_SCHEMA } from './video-views-schemas.js';

export function videoViewsRoutes(app: FastifyInstance, registry: Registry, store: Store): void {
  const preHandler = requirePermission(registry, 'data:read');
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get('/data/v1/video-views', { preHandler, schema: VIEW_LIST_SCHEMA, config: CSV_TOO }, (request) =>
    viewListAnswer(registry, store, request.token!, request.query),
  );
  r.get('/data/v1/video-views/:view_id', { preHandler, schema: VIEW_SCHEMA }, (request) =>
    viewAnswer(registry, store, request.token!, request.params.view_id, request.query.environment_id),
  );
}
