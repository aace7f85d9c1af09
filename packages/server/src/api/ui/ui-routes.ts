/**
 * The web dashboard: the built single-page app (packages/dashboard/dist)
 * under /ui/, with index.html for every deep link (/ui/views/{id}) so the
 * app's own router takes over. Hashed assets are cached for a year,
 * index.html never; the build's precompressed .br/.gz files are sent when
 * the browser accepts them. Without a build the server still starts and
 * /ui/ says how to make one. /favicon.ico (asked for by browsers on any
 * page, /docs included) points at the app's SVG icon. The data itself comes from the APIs with the
 * access token the user signs in with, so these files are public.
 */
import { existsSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

export const DEFAULT_UI_DIR = resolve(import.meta.dirname, '../../../../dashboard/dist');

const NOT_BUILT = (
  dir: string,
) => `<!doctype html><html><head><meta charset="utf-8"><title>openqoe</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:3em auto">
<h1>The dashboard is not built</h1>
<p>No build was found in <code>${dir.replace(/[<>&]/g, '')}</code>. Run <code>npm run build</code>
(or <code>npm start</code>, which builds first) in the openqoe folder and reload this page.</p>
<p>The APIs work without it: see <a href="/docs">/docs</a>.</p></body></html>`;

export async function uiRoutes(app: FastifyInstance, options: { distDir: string }): Promise<void> {
  const dir = resolve(options.distDir || DEFAULT_UI_DIR);
  const hide = { schema: { hide: true } };

  app.get('/', hide, async (_req, reply) => reply.redirect('/ui/'));
  app.get('/ui', hide, async (_req, reply) => reply.redirect('/ui/'));

  if (!existsSync(join(dir, 'index.html'))) {
    app.log.warn(`dashboard not built (${dir}): /ui/ answers how to build it`);
    const page = NOT_BUILT(dir);
    app.get('/ui/*', hide, async (_req, reply) =>
      reply.code(503).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page),
    );
    return;
  }

  app.get('/favicon.ico', hide, async (_req, reply) => reply.redirect('/ui/favicon.svg'));
  const sendIndex = (reply: FastifyReply) =>
    reply.header('cache-control', 'no-cache').sendFile('index.html', dir, { cacheControl: false });

  await app.register(async (scope) => {
    await scope.register(fastifyStatic, {
      root: dir,
      prefix: '/ui/',
      // Files are listed once at start; the fallback below answers every other /ui/ path.
      wildcard: false,
      index: false,
      preCompressed: true,
      schemaHide: true,
      setHeaders: (reply, path) => {
        reply.header(
          'cache-control',
          path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
        );
      },
    });
    scope.get('/ui/', hide, async (_req, reply) => sendIndex(reply));
    // Deep links of the single-page app; a missing asset is a real 404, not the app.
    scope.get<{ Params: { '*': string } }>('/ui/*', hide, async (req, reply) => {
      const rel = req.params['*'];
      if (!rel.startsWith('assets/')) return sendIndex(reply);
      // An asset of a build made after the server started (the file list above is from the start).
      const file = resolve(dir, rel);
      if (file.startsWith(`${dir}${sep}`) && existsSync(file)) return reply.sendFile(rel, dir);
      return reply.callNotFound();
    });
  });
}
