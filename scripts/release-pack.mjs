#!/usr/bin/env node
/**
 * `npm run release:pack [-- --out DIR]`: builds what changed, then lays out
 * the installable `openqoe` package in a temporary folder and packs it into
 * DIR/openqoe-X.Y.Z.tgz (DIR: the repository root by default; X.Y.Z: the
 * server's version, the one `openqoe --version` prints).
 *
 * The folder keeps the repository's layout (packages/server/dist,
 * packages/dashboard/dist), so every file the server finds relative to its
 * own code is found the same way once installed. The workspace packages
 * (schema, generator, collector) are not published: their built files go in
 * node_modules/@openqoe and are listed in `bundleDependencies`, so npm ships
 * them inside the tarball. Every other dependency stays a normal, pinned npm
 * dependency, installed from the registry with the package (DuckDB's native
 * binary among them). docs/deploy.md ("Install a release") says why.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

if (process.argv.includes('--help')) {
  console.log(`usage: npm run release:pack -- [--out DIR] [--no-build]
  builds what changed, then packs the installable release into openqoe-X.Y.Z.tgz
  --out DIR    where the tarball goes (default: the repository root)
  --no-build   pack the build as it is (fails when a part is not built)`);
  process.exit(0);
}

const root = join(import.meta.dirname, '..');
const readJson = (path) => JSON.parse(readFileSync(join(root, path), 'utf8'));
const outArg = process.argv.indexOf('--out');
const outDir = resolve(outArg > 0 ? process.argv[outArg + 1] : root);
const BUNDLED = ['schema', 'generator', 'collector'];

if (!process.argv.includes('--no-build')) {
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], { stdio: 'inherit' });
}

/** What the release is made of: a missing one means nothing was built (`--no-build` packs what is there). */
const BUILT = [
  'packages/server/dist/cli.js',
  'packages/schema/dist/index.js',
  'packages/generator/dist/index.js',
  'packages/collector/dist/openqoe.iife.js',
  'packages/dashboard/dist/index.html',
];
const missing = BUILT.filter((file) => !existsSync(join(root, file)));
if (missing.length) {
  console.error(`release: not built: ${missing.join(', ')} (run npm run build)`);
  process.exit(1);
}

const rootPkg = readJson('package.json');
const server = readJson('packages/server/package.json');
const libs = Object.fromEntries(BUNDLED.map((name) => [name, readJson(`packages/${name}/package.json`)]));

/**
 * The release's dependencies: the server's and the bundled packages' own,
 * pinned as the workspace pins them. Two pins of one package would install
 * one of them untested, so they stop the pack.
 */
function dependencies() {
  const deps = {};
  for (const pkg of [server, ...Object.values(libs)]) {
    for (const [name, version] of Object.entries(pkg.dependencies ?? {})) {
      if (name.startsWith('@openqoe/')) continue;
      if (deps[name] && deps[name] !== version) {
        throw new Error(`release: ${name} is pinned twice (${deps[name]}, ${version}): pin one version`);
      }
      deps[name] = version;
    }
  }
  for (const name of BUNDLED) deps[`@openqoe/${name}`] = libs[name].version;
  return Object.fromEntries(Object.entries(deps).sort(([a], [b]) => a.localeCompare(b)));
}

/** Where Node finds `name` from the package in folder `from`: its own node_modules, then each enclosing one. */
function lookup(from, name) {
  for (let dir = from; ; ) {
    const at = `${dir}/node_modules/${name}`;
    if (existsSync(join(root, at, 'package.json'))) return at;
    const up = dir.lastIndexOf('/node_modules/');
    if (up < 0) break;
    dir = dir.slice(0, up);
  }
  const top = `node_modules/${name}`;
  return existsSync(join(root, top, 'package.json')) ? top : undefined;
}

/**
 * Every package the bundled packages need, directly or through each other,
 * as [folder in the workspace, folder in the release].
 */
function bundledClosure() {
  const found = new Map();
  const visit = (from, deps) => {
    for (const name of Object.keys(deps ?? {})) {
      if (name.startsWith('@openqoe/')) continue;
      const at = lookup(from, name);
      if (!at) throw new Error(`release: ${name} (needed by ${from}) is not installed: run npm install`);
      if (found.has(at)) continue;
      // A workspace package's own node_modules moves with it into node_modules/@openqoe.
      found.set(at, at.replace(/^packages\/([^/]+)\//, 'node_modules/@openqoe/$1/'));
      visit(at, readJson(`${at}/package.json`).dependencies);
    }
  };
  for (const name of BUNDLED) visit(`packages/${name}`, libs[name].dependencies);
  return [...found];
}

/** Copies a build, leaving out what only compiling against it needs (declarations, maps, build info). */
function copyBuild(from, to, keepTypes = false) {
  cpSync(join(root, from), to, {
    recursive: true,
    filter: (src) => !/\.tsbuildinfo$|\.map$/.test(src) && (keepTypes || !/\.d\.ts$/.test(src)),
  });
}

const stage = mkdtempSync(join(tmpdir(), 'openqoe-release-'));
try {
  const pkg = join(stage, 'openqoe');
  // The server: its build, and a package.json that makes its files ES modules and gives its version.
  copyBuild('packages/server/dist', join(pkg, 'packages/server/dist'));
  writeFileSync(
    join(pkg, 'packages/server/package.json'),
    `${JSON.stringify({ name: server.name, version: server.version, private: true, type: 'module' }, null, 2)}\n`,
  );
  copyBuild('packages/dashboard/dist', join(pkg, 'packages/dashboard/dist'));
  for (const name of BUNDLED) {
    const lib = libs[name];
    const dir = join(pkg, 'node_modules/@openqoe', name);
    // With their declarations: the collector is also the library a page's bundler imports, and its types need the schema's.
    copyBuild(`packages/${name}/dist`, join(dir, 'dist'), true);
    const { scripts: _s, devDependencies: _d, ...kept } = lib;
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify(kept, null, 2)}\n`);
  }
  // npm takes the dependencies of bundled packages for part of the bundle (it does not fetch them):
  // they ship too, as the workspace has them installed.
  for (const [from, to] of bundledClosure()) cpSync(join(root, from), join(pkg, to), { recursive: true });
  cpSync(join(root, 'README.md'), join(pkg, 'README.md'));
  // The systemd unit, so a machine with only the release can install it (docs/deploy.md).
  cpSync(join(root, 'deploy/openqoe.service'), join(pkg, 'deploy/openqoe.service'));

  const manifest = {
    name: 'openqoe',
    version: server.version,
    description: rootPkg.description,
    license: rootPkg.license,
    type: 'module',
    bin: { openqoe: 'packages/server/dist/cli.js' },
    engines: rootPkg.engines,
    files: ['packages/server', 'packages/dashboard/dist', 'deploy', 'README.md'],
    dependencies: dependencies(),
    bundleDependencies: BUNDLED.map((name) => `@openqoe/${name}`),
  };
  writeFileSync(join(pkg, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);

  mkdirSync(outDir, { recursive: true });
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', outDir], {
      cwd: pkg,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  )[0];
  const mb = (n) => (n / 1024 / 1024).toFixed(1);
  console.log(
    `release: ${join(outDir, packed.filename)} (${mb(packed.size)} MB packed, ${mb(packed.unpackedSize)} MB unpacked, ${packed.entryCount} files)`,
  );
} finally {
  rmSync(stage, { recursive: true, force: true });
}
