/**
 * The Node under test: `npm test` runs the suites on Node 24 and again (the
 * set-up path) on the machine's Node. What a suite starts by name from a
 * shell must be that same Node, and the native modules the product and its
 * tests load (DuckDB, chDB, leveldown under kinesalite) must load and work
 * on it.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { ChdbConnection } from '../src/store/clickhouse/chdb-connection.js';
import { removeDir, tempDataDir } from './helpers/server-process.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) removeDir(d);
});

describe(`the Node under test (${process.version})`, () => {
  it('is the `node` a shell command finds, as the README suite runs it', () => {
    // The README's commands start `node …` by name; scripts/test.mjs puts the Node under test first on PATH.
    const fromShell = execFileSync('sh', ['-c', 'node -p process.version'], { encoding: 'utf8' }).trim();
    expect(fromShell).toBe(process.version);
  });

  it('loads DuckDB and runs a query', async () => {
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const rows = (await conn.runAndReadAll('SELECT 40 + 2 AS answer')).getRowObjectsJson();
    expect(rows).toEqual([{ answer: 42 }]);
    conn.closeSync();
    db.closeSync();
  });

  it('loads chDB (tools/chdb) and runs a query', async () => {
    const dir = tempDataDir();
    dirs.push(dir);
    const ch = await ChdbConnection.open(join(dir, 'clickhouse'));
    try {
      const r = await ch.query('SELECT {a:UInt8} + 2 AS answer', { a: 40 });
      expect(r.rows).toEqual([[42]]);
    } finally {
      await ch.close();
    }
  });

  it('loads leveldown (under kinesalite, tools/kinesalite) and reads back what it wrote', async () => {
    const dir = tempDataDir();
    dirs.push(dir);
    const kinesaliteDir = resolve(import.meta.dirname, '../../../tools/kinesalite');
    const leveldown = createRequire(join(kinesaliteDir, 'node_modules/kinesalite/package.json'))(
      'leveldown',
    ) as (path: string) => {
      open(cb: (err?: Error) => void): void;
      put(k: string, v: string, cb: (err?: Error) => void): void;
      get(k: string, opts: { asBuffer: boolean }, cb: (err: Error | undefined, v: string) => void): void;
      close(cb: (err?: Error) => void): void;
    };
    const db = leveldown(join(dir, 'level'));
    const call = <T>(f: (cb: (err: Error | undefined, v?: T) => void) => void) =>
      new Promise<T | undefined>((ok, fail) => f((err, v) => (err ? fail(err) : ok(v))));
    await call((cb) => db.open(cb));
    await call((cb) => db.put('answer', '42', cb));
    expect(await call<string>((cb) => db.get('answer', { asBuffer: false }, cb))).toBe('42');
    await call((cb) => db.close(cb));
  });
});
