/**
 * The browser test kit: real media (ffmpeg, cached), a media server that can
 * hold / fail / throttle requests, Debian Chromium, the real openqoe server
 * and the page-side ground truth. See README.md in this folder.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FRAME_PROBE_SCRIPT } from './frames.js';
import type { MediaServer } from './media-server.js';

export * from './browser.js';
export * from './frames.js';
export * from './media.js';
export * from './media-server.js';
export * from './openqoe.js';

export const COLLECTOR_DIR = resolve(import.meta.dirname, '../../..');
/** Players are dev dependencies, hoisted to the repository's node_modules. */
const pkgDir = (name: string) => join(COLLECTOR_DIR, '../../node_modules', name);

/** Player libraries as the page loads them: URL path → file. */
export const PLAYER_LIBRARIES: Record<string, () => string> = {
  '/lib/hls.js': () => join(pkgDir('hls.js'), 'dist/hls.min.js'),
  '/lib/dash.js': () => join(pkgDir('dashjs'), 'dist/modern/umd/dash.all.min.js'),
  '/lib/shaka.js': () => join(pkgDir('shaka-player'), 'dist/shaka-player.compiled.js'),
  '/lib/video.js': () => join(pkgDir('video.js'), 'dist/video.min.js'),
};

/**
 * Builds the collector (esbuild, a second or less) so tests load the current
 * code. Test files run in parallel: each builds into its own temp dir and
 * renames the files into dist/, so a page never loads a half-written file.
 */
export function buildCollector(): void {
  const tmp = mkdtempSync(join(tmpdir(), 'openqoe-collector-'));
  try {
    execFileSync(process.execPath, [join(COLLECTOR_DIR, 'build.mjs'), '--no-types', '--outdir', tmp], {
      stdio: 'inherit',
    });
    const dist = join(COLLECTOR_DIR, 'dist');
    mkdirSync(dist, { recursive: true });
    for (const f of readdirSync(tmp)) renameSync(join(tmp, f), join(dist, f));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The collector files the pages load, and that the size budget measures. */
export const collectorFile = (name: string) => join(COLLECTOR_DIR, 'dist', name);

/** Serves the player libraries at /lib/… and the collector builds at /collector/…. */
export function serveLibraries(media: MediaServer): void {
  for (const [path, file] of Object.entries(PLAYER_LIBRARIES)) media.file(path, file());
  for (const name of ['openqoe.iife.js', 'hlsjs', 'dashjs', 'shaka', 'videojs', 'webrtc']) {
    const file = name.endsWith('.js') ? name : `openqoe-${name}.iife.js`;
    media.file(`/collector/${file}`, collectorFile(file));
  }
}

/** A test page: a 640×360 muted video, the frame probe, the given scripts, then `setup` (JS). */
export function playerPage(
  scripts: string[],
  setup: string,
  body = '<video id="v" muted playsinline width="640" height="360"></video>',
): string {
  return `<!doctype html><html><head><meta charset="utf-8"><script>${FRAME_PROBE_SCRIPT}</script>
${scripts.map((s) => `<script src="${s}"></script>`).join('\n')}
</head><body>${body}<script>
window.pageErrors = [];
addEventListener('error', (e) => window.pageErrors.push(String(e.message)));
${setup}
</script></body></html>`;
}
