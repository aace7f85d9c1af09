/**
 * The server's dependency rules (.dependency-cruiser.cjs at the repo root)
 * catch what they are written for. dependency-cruiser runs, as `npm run
 * check` runs it, with the project's own config on small throw-away trees laid
 * out like packages/server/src, each breaking one rule on purpose: the run
 * must fail and name that rule and the import. The real tree must pass.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir, tempDataDir } from './helpers/server-process.js';

const root = resolve(import.meta.dirname, '../../..');
const CONFIG = join(root, '.dependency-cruiser.cjs');
const DEPCRUISE = join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
const SRC = 'packages/server/src/';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) removeDir(dir);
});

/** A throw-away tree: file paths relative to packages/server/src, with their text. */
function tree(files: Record<string, string>): string {
  const dir = tempDataDir('openqoe-deprules-');
  dirs.push(dir);
  for (const [path, text] of Object.entries(files)) {
    const file = join(dir, SRC, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  return dir;
}

interface Violation {
  rule: string;
  /** The line naming it, without the packages/server/src/ prefix: `from → to`, or a cycle's first step. */
  at: string;
}

/** Runs dependency-cruiser the way `npm run check` does, in `cwd`. */
function cruise(cwd: string, config = CONFIG) {
  const run = spawnSync(
    process.execPath,
    [DEPCRUISE, 'packages/server/src', '--config', config, '--output-type', 'err-long'],
    { cwd, encoding: 'utf8' },
  );
  const output = `${run.stdout}${run.stderr}`;
  const violations: Violation[] = [...output.matchAll(/^\s*error (\S+): (.*)$/gm)].map((m) => ({
    rule: m[1]!,
    at: m[2]!.replaceAll(SRC, '').trim(),
  }));
  return { status: run.status, output: output.replaceAll(SRC, ''), violations };
}

const rulesOf = (violations: Violation[]) => [...new Set(violations.map((v) => v.rule))].sort();

describe('dependency rules (.dependency-cruiser.cjs)', () => {
  it('refuse an import from a lower layer into a higher one, type-only imports included', () => {
    const dir = tree({
      'store/x.ts': "import { y } from '../api/y.js';\nexport const x = y;\n",
      'store/t.ts': "import type { Y } from '../api/y.js';\nexport const t: Y = 1;\n",
      'api/y.ts': 'export const y = 1;\nexport type Y = number;\n',
    });
    const r = cruise(dir);
    expect(r.status, r.output).not.toBe(0);
    expect(r.violations, r.output).toEqual(
      expect.arrayContaining([
        { rule: 'layer-store', at: 'store/x.ts → api/y.ts' },
        { rule: 'layer-store', at: 'store/t.ts → api/y.ts' },
      ]),
    );
    expect(rulesOf(r.violations), r.output).toEqual(['layer-store']);
    // The rule's comment says what the folder may import.
    expect(r.output).toContain('store (layer 0) imports nothing outside itself.');
  });

  it('refuse a cycle between two top-level folders made of different files', () => {
    // intake/ and live/ are siblings in one layer: neither may import the other.
    const dir = tree({
      'intake/x.ts': "import { y } from '../live/y.js';\nexport const x = y;\n",
      'live/y.ts': 'export const y = 1;\n',
      'live/z.ts': "import { w } from '../intake/w.js';\nexport const z = w;\n",
      'intake/w.ts': 'export const w = 2;\n',
    });
    const r = cruise(dir);
    expect(r.status, r.output).not.toBe(0);
    expect(r.violations, r.output).toEqual(
      expect.arrayContaining([
        { rule: 'layer-intake', at: 'intake/x.ts → live/y.ts' },
        { rule: 'layer-live', at: 'live/z.ts → intake/w.ts' },
      ]),
    );
    expect(rulesOf(r.violations), r.output).toEqual(['layer-intake', 'layer-live', 'no-folder-cycle']);
    // No file is in a cycle: the folders are.
    expect(r.output).not.toContain('no-circular');
  });

  it('refuse a top-level folder cycle whose files sit in sub-folders', () => {
    // dependency-cruiser's folder scope sees only the sub-folders here (pipeline/a → query/b,
    // query → pipeline/c): the layer rules are what refuse it.
    const dir = tree({
      'pipeline/a/x.ts': "import { y } from '../../query/b/y.js';\nexport const x = y;\n",
      'query/b/y.ts': 'export const y = 1;\n',
      'query/z.ts': "import { w } from '../pipeline/c/w.js';\nexport const z = w;\n",
      'pipeline/c/w.ts': 'export const w = 2;\n',
    });
    const r = cruise(dir);
    expect(r.status, r.output).not.toBe(0);
    expect(r.violations, r.output).toContainEqual({
      rule: 'layer-pipeline',
      at: 'pipeline/a/x.ts → query/b/y.ts',
    });
    expect(rulesOf(r.violations), r.output).toEqual(['layer-pipeline']);
  });

  it('refuse a cycle between sub-folders of one top-level folder', () => {
    // Allowed by the layers (all inside pipeline/): only the folder-cycle rule applies.
    const dir = tree({
      'pipeline/a/x.ts': "import { y } from '../b/y.js';\nexport const x = y;\n",
      'pipeline/b/y.ts': 'export const y = 1;\n',
      'pipeline/b/z.ts': "import { w } from '../a/w.js';\nexport const z = w;\n",
      'pipeline/a/w.ts': 'export const w = 2;\n',
    });
    const r = cruise(dir);
    expect(r.status, r.output).not.toBe(0);
    expect(rulesOf(r.violations), r.output).toEqual(['no-folder-cycle']);
    expect(r.output).toMatch(/pipeline\/a →\s+pipeline\/b →\s+pipeline\/a/);
  });

  it('refuse a cycle between files, even through a type-only import', () => {
    const dir = tree({
      'pipeline/view-model/p.ts': "import { q } from './q.js';\nexport const p = () => q;\n",
      'pipeline/view-model/q.ts':
        "import type { p } from './p.js';\nexport const q = 1;\nexport type P = typeof p;\n",
    });
    const r = cruise(dir);
    expect(r.status, r.output).not.toBe(0);
    expect(rulesOf(r.violations), r.output).toEqual(['no-circular']);
    expect(r.output).toMatch(
      /pipeline\/view-model\/p\.ts →\s+pipeline\/view-model\/q\.ts →\s+pipeline\/view-model\/p\.ts/,
    );
  });

  it('refuse a module in a folder that has no place in the layers, and imports of it', () => {
    const dir = tree({
      'newfolder/n.ts': "import { s } from '../store/s.js';\nexport const n = s;\n",
      'store/s.ts': 'export const s = 1;\n',
      'api/a.ts': "import { n } from '../newfolder/n.js';\nexport const a = n;\n",
    });
    const r = cruise(dir);
    expect(r.status, r.output).not.toBe(0);
    expect(r.violations, r.output).toEqual(
      expect.arrayContaining([
        { rule: 'unplaced-module', at: 'newfolder/n.ts → store/s.ts' },
        { rule: 'layer-api', at: 'api/a.ts → newfolder/n.ts' },
      ]),
    );
    expect(rulesOf(r.violations), r.output).toEqual(['layer-api', 'unplaced-module']);
  });

  it('let imports that follow the layers through', () => {
    const dir = tree({
      'pipeline/p.ts': "import { s } from '../store/s.js';\nexport const p = s;\n",
      'store/s.ts': "import { t } from './sub/t.js';\nexport const s = t;\n",
      'store/sub/t.ts': 'export const t = 1;\n',
      'main/m.ts': "import { p } from '../pipeline/p.js';\nexport const m = p;\n",
      'cli.ts': "import { m } from './main/m.js';\nexport const c = m;\n",
    });
    const r = cruise(dir);
    expect(r.output).toContain('no dependency violations found (5 modules, 4 dependencies cruised)');
    expect(r.status, r.output).toBe(0);
  });

  it('refuse to load when the allowed imports stop describing a layer order', () => {
    // Allowing store/ to import api/ would let the two folders need each other: the config says so.
    const text = readFileSync(CONFIG, 'utf8');
    const broken = text.replace(/^ {2}store: \[\],$/m, "  store: ['api'],");
    expect(broken).not.toBe(text);
    const dir = tree({ 'store/s.ts': 'export const s = 1;\n' });
    const config = join(dir, 'broken.dependency-cruiser.cjs');
    writeFileSync(config, broken);
    const r = cruise(dir, config);
    expect(r.status, r.output).not.toBe(0);
    expect(r.output).toContain('store (layer 0) may not import api (layer 5)');
  });

  it('hold on the server as it is, every module of it cruised', () => {
    const modules = readdirSync(join(root, SRC), { recursive: true, encoding: 'utf8' }).filter((f) =>
      f.endsWith('.ts'),
    ).length;
    const r = cruise(root);
    expect(r.violations, r.output).toEqual([]);
    expect(r.output).toContain(`no dependency violations found (${modules} modules,`);
    expect(r.status, r.output).toBe(0);
  });
});
