#!/usr/bin/env node
/**
 * `npm run build` (and so `npm start`): builds only what changed since the
 * last build. Each step has its inputs and a stamp file; a step runs when its
 * output is missing, it has no stamp, or an input is newer than the stamp.
 * The server and its libraries go through `tsc -b`, which is incremental by
 * itself. `--force` runs every step.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

if (process.argv.includes('--help')) {
  console.log(`usage: npm run build -- [--force]
  builds what changed since the last build: monitoring-stream code from the .proto files,
  the server and its libraries (tsc -b), the collector, the dashboard
  --force  build every step whatever changed`);
  process.exit(0);
}

const root = join(import.meta.dirname, '..');
const force = process.argv.includes('--force');
const stamps = join(root, 'node_modules', '.cache', 'openqoe-build');
const node = (args, cwd = root) => execFileSync(process.execPath, args, { cwd, stdio: 'inherit' });
const bin = (pkg, file) => join(root, 'node_modules', pkg, file);

/**
 * The newest modification time under these files and folders (0 when none exists). A folder's
 * own time counts too: it changes when a file in it is added, removed or renamed.
 */
function newest(paths) {
  let t = 0;
  const visit = (p) => {
    if (!existsSync(p)) return;
    const s = statSync(p);
    t = Math.max(t, s.mtimeMs);
    if (s.isDirectory()) for (const name of readdirSync(p)) visit(join(p, name));
  };
  for (const p of paths) visit(join(root, p));
  return t;
}

/**
 * Runs `run` unless `output` exists and no input changed since the stamp of
 * the last run. The stamp takes the time the step started, so an input edited
 * while it ran is built again next time.
 */
function step(name, { inputs, output, run }) {
  const stamp = join(stamps, name);
  const fresh =
    !force &&
    existsSync(join(root, output)) &&
    existsSync(stamp) &&
    newest(inputs) <= statSync(stamp).mtimeMs;
  if (fresh) {
    console.log(`build: ${name} is up to date`);
    return;
  }
  const started = new Date();
  run();
  mkdirSync(stamps, { recursive: true });
  writeFileSync(stamp, '');
  utimesSync(stamp, started, started);
}

// A dependency that changed (a new lock) can change any build's output.
const LOCK = 'package-lock.json';
const SCHEMA_SRC = 'packages/schema/src';

step('schema-proto', {
  inputs: ['packages/schema/proto', 'packages/schema/buf.gen.yaml', 'packages/schema/buf.yaml', LOCK],
  output: 'packages/schema/src/gen',
  run: () =>
    execFileSync('npm', ['run', 'gen:proto', '-w', '@openqoe/schema'], { cwd: root, stdio: 'inherit' }),
});

// Incremental by itself: a second run with nothing changed only compares the build info.
console.log('build: tsc -b packages/server');
node([bin('typescript', 'bin/tsc'), '-b', 'packages/server']);
node([join(root, 'scripts/bin-executable.mjs')]);

step('collector', {
  inputs: [
    'packages/collector/src',
    'packages/collector/build.mjs',
    'packages/collector/tsconfig.json',
    SCHEMA_SRC,
    LOCK,
  ],
  output: 'packages/collector/dist/openqoe.iife.js',
  run: () => node([join(root, 'packages/collector/build.mjs')]),
});

step('dashboard', {
  inputs: [
    'packages/dashboard/src',
    'packages/dashboard/public',
    'packages/dashboard/index.html',
    'packages/dashboard/vite.config.mjs',
    'packages/dashboard/compress.mjs',
    'packages/dashboard/tsconfig.json',
    SCHEMA_SRC,
    LOCK,
  ],
  output: 'packages/dashboard/dist/index.html',
  run: () => {
    node([bin('vite', 'bin/vite.js'), 'build', '--logLevel', 'warn'], join(root, 'packages/dashboard'));
    node([join(root, 'packages/dashboard/compress.mjs')]);
  },
});
