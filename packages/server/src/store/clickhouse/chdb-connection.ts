/**
 * chDB: the ClickHouse engine embedded in this process, on a data dir of its
 * own (one process per data dir). Used to verify the store's SQL without a
 * ClickHouse server. chDB is large, so it is not a dependency of the server:
 * it lives in tools/chdb (installed by the test script, or by hand with
 * `npm install --prefix tools/chdb`) and is loaded from there on first use.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { Serial } from '../serial.js';
import { type ChConnection, type ChResult, compactRows, SESSION_SETTINGS } from './connection.js';

/** The part of chDB's Node API the store uses. */
interface ChdbSession {
  queryBindAsync(sql: string, params: object, opts: { format: string }): Promise<{ text(): string }>;
  insert(params: {
    table: string;
    values: string;
    format: 'JSONCompactEachRow';
    columns: readonly string[];
  }): Promise<unknown>;
  close(): void;
}

/** tools/chdb of this checkout, or OPENQOE_CHDB_DIR. */
export function chdbPackageDir(): string {
  return process.env['OPENQOE_CHDB_DIR'] ?? resolve(import.meta.dirname, '../../../../../tools/chdb');
}

function loadChdb(): { Session: new (path: string) => ChdbSession } {
  const dir = chdbPackageDir();
  if (!existsSync(join(dir, 'node_modules', 'chdb'))) {
    throw new Error(
      `the embedded ClickHouse engine (chdb) is not installed in ${dir}; run: npm install --prefix ${dir}`,
    );
  }
  return createRequire(join(dir, 'package.json'))('chdb') as { Session: new (path: string) => ChdbSession };
}

export class ChdbConnection implements ChConnection {
  /** One chDB session runs one statement at a time. */
  private readonly queue = new Serial();

  private constructor(
    private readonly session: ChdbSession,
    readonly where: string,
  ) {}

  static async open(path: string): Promise<ChdbConnection> {
    await mkdir(path, { recursive: true });
    const { Session } = loadChdb();
    let session: ChdbSession;
    try {
      session = new Session(path);
    } catch (err) {
      throw new Error(
        `cannot open the embedded ClickHouse data dir ${path} (one process per data dir): ${(err as Error).message}`,
      );
    }
    const conn = new ChdbConnection(session, `chdb://${path}`);
    for (const [k, v] of Object.entries(SESSION_SETTINGS)) await conn.command(`SET ${k} = ${v}`);
    return conn;
  }

  command(sql: string, params: Record<string, unknown> = {}): Promise<void> {
    return this.queue.run(async () => {
      await this.session.queryBindAsync(sql, params, { format: 'TabSeparated' });
    });
  }

  query(sql: string, params: Record<string, unknown>): Promise<ChResult> {
    return this.queue.run(async () => {
      const r = await this.session.queryBindAsync(sql, params, { format: 'JSONCompact' });
      const text = r.text();
      if (!text.trim()) return { names: [], types: [], rows: [] };
      const body = JSON.parse(text) as { meta: { name: string; type: string }[]; data: unknown[][] };
      return { names: body.meta.map((m) => m.name), types: body.meta.map((m) => m.type), rows: body.data };
    });
  }

  insert(table: string, columns: readonly string[], rows: readonly (readonly unknown[])[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    return this.queue.run(async () => {
      await this.session.insert({ table, columns, values: compactRows(rows), format: 'JSONCompactEachRow' });
    });
  }

  close(): Promise<void> {
    return this.queue.run(async () => {
      this.session.close();
    });
  }
}
