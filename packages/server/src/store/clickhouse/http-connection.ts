/**
 * A ClickHouse server (or cluster endpoint) over HTTP with the official
 * client. `clickhouse://user:password@host:8123/db` (or `clickhouses://` for
 * TLS); the database is created when missing.
 */
import { type ClickHouseClient, ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { type ChConnection, type ChResult, SESSION_SETTINGS } from './connection.js';

export class HttpConnection implements ChConnection {
  private constructor(
    private readonly client: ClickHouseClient,
    readonly where: string,
    private readonly asyncInsert: boolean,
  ) {}

  /** `asyncInsert`: inserts buffered by the server and acknowledged once flushed (async_insert with wait). */
  static async open(options: {
    url: URL;
    asyncInsert: boolean;
    requestTimeoutMs: number;
  }): Promise<HttpConnection> {
    const u = options.url;
    const database = decodeURIComponent(u.pathname.replace(/^\/+/, '')) || 'openqoe';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database))
      throw new Error(`ClickHouse database name ${JSON.stringify(database)} must be letters, digits and _`);
    const base = `${u.protocol === 'clickhouses:' ? 'https' : 'http'}://${u.hostname}:${u.port || (u.protocol === 'clickhouses:' ? '8443' : '8123')}`;
    const common = {
      url: base,
      username: decodeURIComponent(u.username) || 'default',
      password: decodeURIComponent(u.password),
      request_timeout: options.requestTimeoutMs,
      clickhouse_settings: { ...SESSION_SETTINGS },
      // Failures reach the caller as errors with the store's own message; the client's log would repeat them.
      log: { level: ClickHouseLogLevel.OFF },
    };
    const where = `${base}/${database}`;
    // The database may not exist yet: create it on a client that does not name it.
    const bootstrap = createClient(common);
    try {
      await bootstrap.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
    } catch (err) {
      throw new Error(`cannot reach ClickHouse at ${where}: ${(err as Error).message}`);
    } finally {
      await bootstrap.close();
    }
    return new HttpConnection(createClient({ ...common, database }), where, options.asyncInsert);
  }

  async command(sql: string, params: Record<string, unknown> = {}): Promise<void> {
    await this.client.command({ query: sql, query_params: params });
  }

  async query(sql: string, params: Record<string, unknown>): Promise<ChResult> {
    const rs = await this.client.query({ query: sql, query_params: params, format: 'JSONCompact' });
    const body = (await rs.json()) as { meta: { name: string; type: string }[]; data: unknown[][] };
    return { names: body.meta.map((m) => m.name), types: body.meta.map((m) => m.type), rows: body.data };
  }

  async insert(
    table: string,
    columns: readonly string[],
    rows: readonly (readonly unknown[])[],
  ): Promise<void> {
    if (rows.length === 0) return;
    await this.client.insert({
      table,
      columns: columns as [string, ...string[]],
      values: rows as unknown[][],
      format: 'JSONCompactEachRow',
      // With async inserts the answer still waits until the server has flushed the rows.
      clickhouse_settings: this.asyncInsert ? { async_insert: 1, wait_for_async_insert: 1 } : {},
    });
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
