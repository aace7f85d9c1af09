/**
 * The demo page: `/demo/` plays a 20 s test video (made with ffmpeg into
 * `{data-dir}/demo/` on the first visit) with the browser collector attached,
 * sending to this server with the first environment's key, so a newcomer
 * sees views arrive in a minute. Public, like the beacon intake.
 */
import { execFile } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Registry } from '../../auth/registry.js';
import { ApiError } from '../../http/api-error.js';

/** The collector's script-tag build: from the installed package, else from the source tree. */
function collectorScript(): string {
  try {
    return createRequire(import.meta.url).resolve('@openqoe/collector/iife');
  } catch {
    return resolve(import.meta.dirname, '../../../../collector/dist/openqoe.iife.js');
  }
}

let making: Promise<string> | undefined;

/** Makes the demo video once (a test pattern with a clock and a tone); later calls share the result. */
function demoVideo(dataDir: string): Promise<string> {
  making ??= new Promise<string>((done, fail) => {
    const dir = join(dataDir, 'demo');
    const file = join(dir, 'demo.mp4');
    if (existsSync(file)) return done(file);
    mkdirSync(dir, { recursive: true });
    const tmp = join(dir, `demo.${process.pid}.mp4`);
    // Grouped as one would type them: inputs, video, audio (no argument holds a space).
    const args = [
      '-hide_banner -loglevel error -y',
      '-f lavfi -i testsrc2=size=640x360:rate=25:duration=20',
      '-f lavfi -i sine=frequency=440:sample_rate=48000:duration=20',
      '-c:v libx264 -preset veryfast -pix_fmt yuv420p -b:v 800k',
      '-c:a aac -b:a 64k -movflags +faststart',
    ].flatMap((group) => group.split(' '));
    execFile('ffmpeg', [...args, tmp], (err) => {
      if (err) {
        making = undefined;
        fail(
          new ApiError('QOE_ERR_UNAVAILABLE', [`the demo video needs ffmpeg, which failed: ${err.message}`]),
        );
      } else {
        renameSync(tmp, file);
        done(file);
      }
    });
  });
  return making;
}

const page = (envKey: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>openqoe demo</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:720px;margin:2em auto;padding:0 1em}video{width:100%;background:#000}code{background:#eee;padding:0 .3em}</style>
</head><body>
<h1>openqoe demo</h1>
<p>This video plays with the openqoe collector attached; it sends its beacons to this server.
Play, pause, seek, then close the tab: the view is stored at once.</p>
<video id="video" controls muted playsinline src="media/demo.mp4"></video>
<p>View id: <code id="view-id">–</code></p>
<p>Read it back with the admin token from <code>bootstrap.json</code>:<br><code id="curl"></code></p>
<script src="openqoe.js"></script>
<script>
  const handle = openqoe.monitor(document.getElementById('video'), {
    beaconUrl: location.origin + '/v1/beacon',
    envKey: ${JSON.stringify(envKey)},
    data: { videoId: 'openqoe-demo', videoTitle: 'openqoe demo video', playerName: 'demo page' },
  });
  document.getElementById('view-id').textContent = handle.viewId;
  document.getElementById('curl').textContent =
    "curl -u TOKEN_ID:TOKEN_SECRET '" + location.origin + "/data/v1/video-views?limit=5'";
</script>
</body></html>
`;

export function demoRoutes(app: FastifyInstance, deps: { registry: Registry; dataDir: string }): void {
  const hide = { schema: { hide: true } };
  app.get('/demo', hide, async (_req, reply) => reply.redirect('/demo/'));
  app.get('/demo/', hide, async (_req, reply) => {
    const env = deps.registry.environments()[0];
    if (!env) throw new ApiError('QOE_ERR_UNAVAILABLE', ['no environment exists yet; create one first']);
    return reply.type('text/html; charset=utf-8').send(page(env.key));
  });
  app.get('/demo/openqoe.js', hide, async (_req, reply) => {
    const file = collectorScript();
    if (!existsSync(file))
      throw new ApiError('QOE_ERR_NOT_FOUND', ['the collector is not built (npm run build)']);
    return reply.type('text/javascript').send(createReadStream(file));
  });
  app.get('/demo/media/demo.mp4', hide, async (req, reply) => {
    const file = await demoVideo(resolve(deps.dataDir));
    const size = statSync(file).size;
    reply.type('video/mp4').header('accept-ranges', 'bytes');
    const range = /bytes=(\d*)-(\d*)/.exec(req.headers.range ?? '');
    if (!range) return reply.header('content-length', size).send(createReadStream(file));
    const start = range[1] ? Number(range[1]) : Math.max(0, size - Number(range[2]));
    const end = range[1] && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
    return reply
      .code(206)
      .header('content-range', `bytes ${start}-${end}/${size}`)
      .header('content-length', end - start + 1)
      .send(createReadStream(file, { start, end }));
  });
}
