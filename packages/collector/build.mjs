#!/usr/bin/env node
/**
 * Builds the collector with esbuild (minified) and its types with tsc:
 *   dist/index.js, dist/{hlsjs,dashjs,shaka,videojs,webrtc}.js   ESM
 *   dist/openqoe.iife.js                                        core + HTML5, global `openqoe`
 *   dist/openqoe-{adapter}.iife.js                              one adapter, registers itself with `openqoe.use`
 *   dist/types/                                                 declarations
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const here = import.meta.dirname;
export const ADAPTERS = ['hlsjs', 'dashjs', 'shaka', 'videojs', 'webrtc'];
const common = { bundle: true, minify: true, target: 'es2019', legalComments: 'none', logLevel: 'warning' };

/** `--outdir DIR` builds elsewhere (tests build into a temp dir and move the files in atomically). */
const outArg = process.argv.indexOf('--outdir');
const out = outArg > 0 ? process.argv[outArg + 1] : join(here, 'dist');
if (outArg < 0) rmSync(out, { recursive: true, force: true });
await build({
  ...common,
  format: 'esm',
  entryPoints: {
    index: join(here, 'src/index.ts'),
    ...Object.fromEntries(ADAPTERS.map((a) => [a, join(here, `src/adapters/${a}.ts`)])),
  },
  outdir: out,
});
await build({
  ...common,
  format: 'iife',
  globalName: 'openqoe',
  entryPoints: [join(here, 'src/index.ts')],
  outfile: join(out, 'openqoe.iife.js'),
});
for (const a of ADAPTERS) {
  await build({
    ...common,
    format: 'iife',
    stdin: {
      contents: `import { ${a} } from './src/adapters/${a}.ts'; globalThis.openqoe && globalThis.openqoe.use(${a});`,
      resolveDir: here,
      loader: 'ts',
    },
    outfile: join(out, `openqoe-${a}.iife.js`),
  });
}
if (!process.argv.includes('--no-types')) {
  execFileSync(
    process.execPath,
    [join(here, '../../node_modules/typescript/bin/tsc'), '-p', join(here, 'tsconfig.json')],
    {
      stdio: 'inherit',
    },
  );
}
