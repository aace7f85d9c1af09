/**
 * The chDB engine behind the front: one session on one data dir, one
 * statement at a time, and the per-request state a ClickHouse server gives
 * every stateless HTTP request (its own settings, its own current database)
 * rebuilt on that single long-lived session before each statement.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { EngineError } from './clickhouse-errors.mjs';

/** The platform package chDB's own loader picks (chdb/dist/loader.js). */
function nativePackageName() {
  const key = `${process.platform}-${process.arch}`;
  const names = {
    'darwin-arm64': '@chdb/lib-darwin-arm64',
    'darwin-x64': '@chdb/lib-darwin-x64',
    'linux-x64': '@chdb/lib-linux-x64-gnu',
    'linux-arm64': '@chdb/lib-linux-arm64-gnu',
  };
  const name = names[key];
  if (!name) throw new Error(`chDB publishes no engine for ${key}`);
  return name;
}

/** Loads chdb from `chdbDir` (tools/chdb), as the store's chdb-connection.ts does. */
export function loadChdb(chdbDir) {
  if (!existsSync(join(chdbDir, 'node_modules', 'chdb'))) {
    throw new Error(`chdb is not installed in ${chdbDir}; run: npm install --prefix ${chdbDir}`);
  }
  const fromTools = createRequire(join(chdbDir, 'package.json'));
  const chdb = fromTools('chdb');
  // Resolved next to chdb itself, so a nested install still finds the engine chdb uses.
  const native = createRequire(fromTools.resolve('chdb/package.json'))(nativePackageName());
  for (const fn of ['QueryAsyncConnection', 'InsertRawAsyncConnection']) {
    if (typeof native[fn] !== 'function') {
      throw new Error(`this chdb build has no ${fn}; tools/chdb pins the version chdb-http was written for`);
    }
  }
  return { Session: chdb.Session, native };
}

/** A SQL string literal. */
const literal = (v) => `'${String(v).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
/** A quoted identifier. */
export const ident = (name) => `\`${String(name).replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;

export class ChdbEngine {
  /** Settings the session had when it opened (chDB changes a few from the server's defaults). */
  #baseline = new Map();
  /** Settings the last request set on the session, beyond the baseline. */
  #applied = new Map();
  /** A statement may have changed session settings we did not track: compare with the engine's. */
  #dirty = false;
  #last = Promise.resolve();
  #closed = false;

  constructor(session, native) {
    this.session = session;
    this.native = native;
  }

  static async open({ Session, native }, dataDir) {
    const engine = new ChdbEngine(new Session(dataDir), native);
    for (const [name, value] of await engine.#changedSettings()) engine.#baseline.set(name, value);
    engine.version = (await engine.#text('SELECT version()')).trim();
    engine.timezone = (await engine.#text('SELECT timezone()')).trim();
    return engine;
  }

  /**
   * Runs `fn` alone on the session after putting it in the request's state:
   * `database` current, exactly `settings` (name → text value) on top of the baseline.
   */
  run(state, fn) {
    const next = this.#last.then(async () => {
      if (this.#closed) throw new EngineError(210, 'NETWORK_ERROR', 'the server is shutting down');
      await this.#prepare(state);
      return fn(this);
    });
    this.#last = next.catch(() => undefined);
    return next;
  }

  /** A statement with `{name:Type}` parameters given as ClickHouse text (what HTTP's param_* carry). */
  async query(sql, params, format) {
    // Not chdb's queryBindAsync: it escapes string values itself, and these are already escaped.
    const r = await this.#call(() =>
      this.native.QueryAsyncConnection(this.session.connection, sql, format, params),
    );
    return {
      bytes: Buffer.from(r.bytes),
      readRows: r.rowsRead ?? 0,
      readBytes: r.bytesRead ?? 0,
      writtenRows: 0,
      writtenBytes: 0,
    };
  }

  /** `INSERT … FORMAT X` with its data as bytes, handed to the engine's parser unchanged. */
  async insert(prefix, data) {
    const r = await this.#call(() =>
      this.native.InsertRawAsyncConnection(this.session.connection, prefix, data, true),
    );
    return {
      bytes: Buffer.alloc(0),
      readRows: 0,
      readBytes: 0,
      writtenRows: r.rowsWritten ?? 0,
      writtenBytes: r.bytesWritten ?? 0,
    };
  }

  /** After a statement that may change the session itself (SET …), re-read its settings before the next one. */
  markDirty() {
    this.#dirty = true;
  }

  /** Waits for the statement under way, then closes the session. */
  async close() {
    const done = this.#last.then(() => {
      this.#closed = true;
      this.session.close();
    });
    this.#last = done;
    await done;
  }

  async #prepare({ database, settings }) {
    if (this.#dirty) {
      // Whatever the engine says differs from baseline + applied is reset below.
      this.#applied = new Map();
      for (const [name, value] of await this.#changedSettings()) {
        if (this.#baseline.get(name) !== value) this.#applied.set(name, value);
      }
      for (const name of this.#baseline.keys()) if (!this.#applied.has(name)) this.#applied.set(name, null);
      this.#dirty = false;
    }
    const changes = [];
    for (const name of this.#applied.keys()) {
      if (settings.has(name)) continue;
      const base = this.#baseline.get(name);
      changes.push(base === undefined ? `${name} = DEFAULT` : `${name} = ${literal(base)}`);
    }
    for (const [name, value] of settings) {
      if (this.#applied.get(name) !== value) changes.push(`${name} = ${literal(value)}`);
    }
    if (changes.length > 0) {
      try {
        await this.#text(`SET ${changes.join(', ')}`);
      } catch (err) {
        this.#dirty = true;
        throw err;
      }
      this.#applied = new Map(settings);
    }
    // Cheap (a fraction of a millisecond), and no statement of a request can leave the next one elsewhere.
    await this.#text(`USE ${ident(database)}`);
  }

  async #changedSettings() {
    const text = await this.#text('SELECT name, value FROM system.settings WHERE changed FORMAT JSONCompact');
    return JSON.parse(text).data;
  }

  async #text(sql) {
    const r = await this.#call(() =>
      this.native.QueryAsyncConnection(this.session.connection, sql, 'TabSeparated'),
    );
    return Buffer.from(r.bytes).toString('utf8');
  }

  async #call(start) {
    try {
      return await start();
    } catch (err) {
      throw EngineError.from(err, this.version);
    }
  }
}
