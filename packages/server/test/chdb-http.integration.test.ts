/**
 * tools/chdb-http over real HTTP with the real @clickhouse/client: the front
 * the "over HTTP" store suites run against when no ClickHouse server is
 * given. Ping, bound parameters of several types, inserts read back,
 * databases, compression, per-request settings, ClickHouse's errors (bad SQL,
 * a wrong password), and that it keeps serving after each of them.
 */
import type { ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { type ClickHouseClient, ClickHouseError, ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpConnection } from '../src/store/clickhouse/http-connection.js';
import { patience } from './helpers/patience.js';
import { spawnTracked } from './helpers/processes.js';
import { removeDir, tempDataDir } from './helpers/server-process.js';
import { chdbInstalled } from './helpers/stores.js';

const SERVER = resolve(import.meta.dirname, '../../../tools/chdb-http/server.mjs');
const PASSWORD = 'pa:ss w\u00f6rd';

/** The rejection of `p`, which must reject. */
async function failure(p: Promise<unknown>): Promise<ClickHouseError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ClickHouseError);
  return err as ClickHouseError;
}

describe.skipIf(!chdbInstalled)(
  chdbInstalled
    ? 'chdb-http'
    : 'chdb-http (skipped: chdb is not installed in tools/chdb; npm test installs it)',
  () => {
    const dir = tempDataDir('openqoe-chdb-http-');
    let front: ChildProcess;
    let base = '';
    const clients: ClickHouseClient[] = [];
    const client = (options: Parameters<typeof createClient>[0] = {}) => {
      const c = createClient({
        url: base,
        password: PASSWORD,
        log: { level: ClickHouseLogLevel.OFF },
        ...options,
      });
      clients.push(c);
      return c;
    };

    beforeAll(async () => {
      front = spawnTracked(
        process.execPath,
        [SERVER, '--port', '0', '--data-dir', join(dir, 'data'), '--user', 'default', '--password', PASSWORD],
        { stdio: ['ignore', 'pipe', 'inherit'] },
        'tools/chdb-http',
      );
      base = await new Promise<string>((done, fail) => {
        let out = '';
        front.stdout!.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (m) done(m[1]!);
        });
        front.once('exit', (code) => fail(new Error(`chdb-http exited (${code}) before listening`)));
      });
    });

    afterAll(async () => {
      for (const c of clients) await c.close();
      if (front && front.exitCode === null) {
        const code = new Promise((done) => front.once('exit', done));
        front.kill('SIGTERM');
        // SIGTERM closes the chDB session and ends cleanly.
        expect(await code).toBe(0);
      }
      removeDir(dir);
    });

    it('answers /ping with Ok., with and without the client', async () => {
      const r = await fetch(`${base}/ping`);
      expect(r.status).toBe(200);
      expect(await r.text()).toBe('Ok.\n');
      expect((await client().ping()).success).toBe(true);
    });

    it('binds query parameters of several types and answers JSONCompact with the query id', async () => {
      const text = "it's a \\ back\tslash\nand 'quotes'";
      const rs = await client().query({
        query:
          'SELECT {s:String} AS s, {i:Int64} AS i, {big:Int64} AS big, {f:Float64} AS f, ' +
          "{t:DateTime64(3, 'UTC')} AS t, {a:Array(String)} AS a, {n:Nullable(String)} AS n",
        query_params: {
          s: text,
          i: -42,
          big: '9007199254740993',
          f: 0.1 + 0.2,
          t: new Date(Date.UTC(2025, 10, 21, 9, 30, 15, 250)),
          a: ['x', "it's", 'back\\slash', 'new\nline'],
          n: null,
        },
        query_id: 'chdb-http-params-1',
        format: 'JSONCompact',
        // Quoted 64-bit integers keep 2^53 + 1 exact.
        clickhouse_settings: { output_format_json_quote_64bit_integers: 1 },
      });
      expect(rs.query_id).toBe('chdb-http-params-1');
      expect(rs.response_headers['x-clickhouse-query-id']).toBe('chdb-http-params-1');
      expect(rs.response_headers['x-clickhouse-format']).toBe('JSONCompact');
      const body = (await rs.json()) as { meta: { name: string; type: string }[]; data: unknown[][] };
      expect(body.meta.map((m) => m.type)).toEqual([
        'String',
        'Int64',
        'Int64',
        'Float64',
        "DateTime64(3, 'UTC')",
        'Array(String)',
        'Nullable(String)',
      ]);
      expect(body.data).toEqual([
        [
          text,
          '-42',
          '9007199254740993',
          0.30000000000000004,
          '2025-11-21 09:30:15.250',
          ['x', "it's", 'back\\slash', 'new\nline'],
          null,
        ],
      ]);
    });

    it('applies settings to their own request only', async () => {
      const c = client();
      const read = async (settings: Record<string, 0 | 1>) => {
        const rs = await c.query({
          query: 'SELECT toInt64(7) AS v',
          format: 'JSONCompact',
          clickhouse_settings: settings,
        });
        return ((await rs.json()) as { data: unknown[][] }).data[0]![0];
      };
      expect(await read({ output_format_json_quote_64bit_integers: 0 })).toBe(7);
      expect(await read({ output_format_json_quote_64bit_integers: 1 })).toBe('7');
      expect(await read({ output_format_json_quote_64bit_integers: 0 })).toBe(7);
      // A SET sent as a statement does not outlive its request either (there are no HTTP sessions).
      await c.command({ query: 'SET output_format_json_quote_64bit_integers = 0' });
      expect(await read({ output_format_json_quote_64bit_integers: 1 })).toBe('7');
      const rs = await c.query({ query: "SELECT getSetting('max_threads') AS m", format: 'JSONCompact' });
      const before = ((await rs.json()) as { data: unknown[][] }).data[0]![0];
      await c.command({ query: 'SET max_threads = 1' });
      const after = await c.query({ query: "SELECT getSetting('max_threads') AS m", format: 'JSONCompact' });
      expect(((await after.json()) as { data: unknown[][] }).data[0]![0]).toBe(before);
    });

    it('creates a database and selects it per request, and inserts rows that read back', async () => {
      await client().command({ query: 'CREATE DATABASE IF NOT EXISTS front_db' });
      const db = client({ database: 'front_db' });
      await db.command({
        query:
          "CREATE TABLE events (id UInt32, name String, at DateTime64(3, 'UTC'), tags Array(String)) ENGINE = MergeTree ORDER BY id",
      });
      const rows = [
        [1, 'first', '2025-11-21 00:00:00.001', ['a']],
        [2, 'it\'s "quoted"', '2025-11-21 00:00:00.002', []],
        [3, 'tab\there', '2025-11-21 00:00:00.003', ['b', 'c']],
      ];
      const ins = await db.insert({
        table: 'events',
        columns: ['id', 'name', 'at', 'tags'],
        values: rows.slice(0, 2),
        format: 'JSONCompactEachRow',
      });
      expect(ins.summary?.written_rows).toBe('2');
      // As the store sends them when configured for async inserts: answered once written.
      await db.insert({
        table: 'events',
        columns: ['id', 'name', 'at', 'tags'],
        values: rows.slice(2),
        format: 'JSONCompactEachRow',
        clickhouse_settings: { async_insert: 1, wait_for_async_insert: 1 },
      });
      const rs = await db.query({
        query: 'SELECT id, name, at, tags FROM events ORDER BY id',
        format: 'JSONCompact',
      });
      expect(((await rs.json()) as { data: unknown[][] }).data).toEqual(rows);
      // The same table from a client on the default database, by its full name only.
      const other = client();
      const current = await other.query({ query: 'SELECT currentDatabase()', format: 'JSONCompact' });
      expect(((await current.json()) as { data: unknown[][] }).data).toEqual([['default']]);
      const count = await other.query({
        query: 'SELECT count() FROM front_db.events',
        format: 'JSONCompact',
      });
      expect(((await count.json()) as { data: unknown[][] }).data).toEqual([[3]]);
      const missing = await failure(other.query({ query: 'SELECT count() FROM events' }));
      expect(missing.code).toBe('60');
      const unknownDb = await failure(client({ database: 'no_such_db' }).query({ query: 'SELECT 1' }));
      expect(unknownDb.code).toBe('81');
      expect(unknownDb.type).toBe('UNKNOWN_DATABASE');
    });

    it('takes gzip request bodies and gives gzip answers when the client asks', async () => {
      const gz = client({ compression: { request: true, response: true } });
      await gz.command({
        query:
          'CREATE TABLE IF NOT EXISTS default.zipped (k String, v Float64) ENGINE = MergeTree ORDER BY k',
      });
      const values = Array.from({ length: 500 }, (_, i) => [`k${String(i).padStart(3, '0')}`, i / 4]);
      await gz.insert({ table: 'zipped', values, format: 'JSONCompactEachRow' });
      const rs = await gz.query({
        query: 'SELECT count(), sum(v), max(k) FROM zipped',
        format: 'JSONCompact',
      });
      expect(rs.response_headers['content-encoding']).toBe('gzip');
      // sum of i/4 for i < 500 = 499·500/8
      expect(((await rs.json()) as { data: unknown[][] }).data).toEqual([[500, 31187.5, 'k499']]);
    });

    it('answers bad SQL with ClickHouse error text and code, which the client surfaces, and keeps serving', async () => {
      const c = client();
      const syntax = await failure(c.query({ query: 'SELEC 1' }));
      expect(syntax.code).toBe('62');
      expect(syntax.type).toBe('SYNTAX_ERROR');
      // The engine's own message: 'SELEC' reads as a name, so the parser stops at the 1 (position 7).
      expect(syntax.message).toMatch(/^Syntax error: failed at position 7/);
      const multi = await failure(c.command({ query: 'SELECT 1; SELECT 2' }));
      expect(multi.code).toBe('62');
      expect(multi.message).toContain('Multi-statements are not allowed');
      const param = await failure(c.query({ query: 'SELECT {x:Int64}', query_params: { x: 'abc' } }));
      expect(param.code).not.toBe('');
      const unknownSetting = await failure(
        c.query({ query: 'SELECT 1', clickhouse_settings: { no_such_setting_at_all: 1 } as never }),
      );
      expect(unknownSetting.type).toBe('UNKNOWN_SETTING');
      const badRows = await failure(
        c.insert({ table: 'default.zipped', values: [['k', 'not a number']], format: 'JSONCompactEachRow' }),
      );
      expect(badRows.type).toMatch(/^CANNOT_PARSE/);

      const raw = await fetch(`${base}/?query=SELEC%201`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`default:${PASSWORD}`).toString('base64')}` },
      });
      expect(raw.status).toBe(400);
      expect(raw.headers.get('x-clickhouse-exception-code')).toBe('62');
      expect(await raw.text()).toMatch(/^Code: 62\. DB::Exception: Syntax error.*\(SYNTAX_ERROR\)/s);

      const rs = await c.query({ query: 'SELECT 40 + 2 AS v', format: 'JSONCompact' });
      expect(((await rs.json()) as { data: unknown[][] }).data).toEqual([[42]]);
    });

    it('refuses a wrong password or user with AUTHENTICATION_FAILED, and keeps serving', async () => {
      const wrong = await failure(client({ password: 'wrong' }).query({ query: 'SELECT 1' }));
      expect(wrong.code).toBe('516');
      expect(wrong.type).toBe('AUTHENTICATION_FAILED');
      const stranger = await failure(client({ username: 'someone' }).command({ query: 'SELECT 1' }));
      expect(stranger.code).toBe('516');
      const raw = await fetch(`${base}/`, {
        method: 'POST',
        body: 'SELECT 1',
        headers: { 'X-ClickHouse-User': 'default', 'X-ClickHouse-Key': 'wrong' },
      });
      expect(raw.status).toBe(403);
      expect(raw.headers.get('x-clickhouse-exception-code')).toBe('516');
      const ok = await fetch(`${base}/`, {
        method: 'POST',
        body: 'SELECT 1',
        headers: { 'X-ClickHouse-User': 'default', 'X-ClickHouse-Key': PASSWORD },
      });
      expect(await ok.text()).toBe('1\n');
    });

    it("runs the store's HTTP connection with async inserts end to end", async () => {
      const u = new URL(base.replace('http:', 'clickhouse:'));
      u.username = 'default';
      u.password = encodeURIComponent(PASSWORD);
      u.pathname = '/store_conn';
      const conn = await HttpConnection.open({
        url: u,
        asyncInsert: true,
        requestTimeoutMs: patience(30_000),
      });
      try {
        await conn.command('CREATE TABLE t (k String, n Int64, ok Bool) ENGINE = MergeTree ORDER BY k');
        await conn.insert(
          't',
          ['k', 'n', 'ok'],
          [
            ['a', 1, true],
            ['b', 2, false],
          ],
        );
        const r = await conn.query('SELECT k, n, ok FROM t WHERE n >= {min:Int64} ORDER BY k', { min: 2 });
        expect(r).toEqual({
          names: ['k', 'n', 'ok'],
          types: ['String', 'Int64', 'Bool'],
          rows: [['b', 2, false]],
        });
      } finally {
        await conn.close();
      }
    });
  },
);
