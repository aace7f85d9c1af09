/**
 * The part of ClickHouse's HTTP interface that @clickhouse/client uses, on
 * the chDB engine: `GET /ping`; `POST /` with the statement in the body (or
 * in `query`, with an INSERT's data in the body); `database`, `query_id`,
 * `default_format`, `param_<name>` and settings as URL parameters; Basic or
 * X-ClickHouse-User/Key authentication; gzip/deflate/br request bodies and,
 * with `enable_http_compression=1`, compressed answers. Every request is
 * answered, errors in ClickHouse's own form; none stops the server.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { EngineError } from './clickhouse-errors.mjs';
import { firstKeyword, formatClause, secondStatementAt } from './sql-text.mjs';

/** URL parameters the HTTP handler reads itself; every other one is a setting. */
const HANDLER_PARAMS = new Set([
  'query',
  'database',
  'default_format',
  'query_id',
  'session_id',
  'session_timeout',
  'session_check',
  'user',
  'password',
  'quota_key',
  'compress',
  'decompress',
  'buffer_size',
  'wait_end_of_query',
  'role',
  'stacktrace',
]);
/** Statements a GET may run (a server treats GET as readonly). */
const READ_ONLY = new Set(['SELECT', 'WITH', 'SHOW', 'DESCRIBE', 'DESC', 'EXISTS', 'EXPLAIN']);

const decoders = {
  gzip: promisify(zlib.gunzip),
  'x-gzip': promisify(zlib.gunzip),
  deflate: promisify(zlib.inflate),
  br: promisify(zlib.brotliDecompress),
};
const encoders = {
  gzip: promisify(zlib.gzip),
  deflate: promisify(zlib.deflate),
  br: promisify(zlib.brotliCompress),
};

function contentType(format) {
  if (/^JSON.*EachRow/i.test(format)) return 'application/x-ndjson; charset=UTF-8';
  if (/^JSON/i.test(format)) return 'application/json; charset=UTF-8';
  if (/^(TabSeparated|TSV)/i.test(format)) return 'text/tab-separated-values; charset=UTF-8';
  if (/^CSV/i.test(format)) return 'text/csv; charset=UTF-8; header=absent';
  return 'text/plain; charset=UTF-8';
}

const sameSecret = (a, b) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** Who the request says it is: Basic auth, X-ClickHouse-User/Key, or user/password parameters. */
function credentials(req, url) {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Basic ')) {
    const text = Buffer.from(auth.slice(6), 'base64').toString('utf8');
    const colon = text.indexOf(':');
    return colon < 0
      ? { user: text, password: '' }
      : { user: text.slice(0, colon), password: text.slice(colon + 1) };
  }
  const user = req.headers['x-clickhouse-user'] ?? url.searchParams.get('user') ?? 'default';
  const password = req.headers['x-clickhouse-key'] ?? url.searchParams.get('password') ?? '';
  return { user: String(user), password: String(password) };
}

async function readBody(req, maxBytes) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > maxBytes)
      throw new EngineError(99, 'QUERY_IS_TOO_LARGE', `Request body is larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks);
  const encoding = String(req.headers['content-encoding'] ?? '')
    .trim()
    .toLowerCase();
  if (!encoding || encoding === 'identity') return body;
  const decode = decoders[encoding];
  if (!decode) throw new EngineError(48, 'NOT_IMPLEMENTED', `Unsupported Content-Encoding: ${encoding}`);
  try {
    return await decode(body, { maxOutputLength: maxBytes });
  } catch (err) {
    throw new EngineError(
      354,
      'CANNOT_DECOMPRESS',
      `Cannot decompress the request body (${encoding}): ${err.message}`,
    );
  }
}

/** The request as the engine runs it: state, statement, and how to answer. */
function parseRequest(req, url, body) {
  const p = url.searchParams;
  for (const name of ['session_id', 'compress', 'decompress']) {
    const v = p.get(name);
    if (v && v !== '0')
      throw new EngineError(
        48,
        'NOT_IMPLEMENTED',
        `chdb-http does not support the ${name} parameter (it keeps no HTTP sessions and speaks no native compression)`,
      );
  }
  const params = {};
  const settings = new Map();
  for (const [name, value] of p) {
    if (name.startsWith('param_')) params[name.slice(6)] = value;
    else if (!HANDLER_PARAMS.has(name)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
        throw new EngineError(115, 'UNKNOWN_SETTING', `Unknown setting '${name}'`);
      settings.set(name, value);
    }
  }
  const database = p.get('database') ?? req.headers['x-clickhouse-database'] ?? 'default';
  const defaultFormat = p.get('default_format') ?? req.headers['x-clickhouse-format'] ?? 'TabSeparated';
  const queryParam = p.get('query') ?? '';
  let sql;
  let insertData;
  if (queryParam && body.length > 0) {
    // The query names the statement and the body carries its data, as a server concatenates them.
    if (firstKeyword(queryParam) === 'INSERT' && /\bFORMAT\s+[A-Za-z0-9_]+\s*$/i.test(queryParam)) {
      sql = queryParam;
      insertData = body;
    } else sql = `${queryParam}\n${body.toString('utf8')}`;
  } else sql = queryParam || body.toString('utf8');
  if (!sql.trim()) throw new EngineError(62, 'SYNTAX_ERROR', 'Empty query');
  const keyword = firstKeyword(sql);
  if (req.method === 'GET' && !READ_ONLY.has(keyword))
    throw new EngineError(
      164,
      'READONLY',
      'Cannot execute query in readonly mode. For queries over HTTP, method GET implies readonly. You should use method POST for modifying queries',
    );
  const second = secondStatementAt(sql);
  if (second >= 0)
    throw new EngineError(
      62,
      'SYNTAX_ERROR',
      `Syntax error (Multi-statements are not allowed): failed at position ${second + 1}: ${sql.slice(second, second + 40)}`,
    );
  const format = keyword === 'INSERT' ? defaultFormat : (formatClause(sql) ?? defaultFormat);
  return { state: { database: String(database), settings }, sql, insertData, params, format, keyword };
}

/**
 * @param {{ engine: import('./chdb-engine.mjs').ChdbEngine, user: string, password: string,
 *           maxBodyBytes: number, log?: (line: string) => void }} options
 */
export function createFront({ engine, user, password, maxBodyBytes, log }) {
  async function answer(req, res, status, body, headers) {
    const accept = String(req.headers['accept-encoding'] ?? '');
    const url = new URL(req.url ?? '/', 'http://front');
    const wantsCompression = url.searchParams.get('enable_http_compression') === '1';
    const codec = wantsCompression ? ['gzip', 'br', 'deflate'].find((c) => accept.includes(c)) : undefined;
    let out = body;
    if (codec && body.length > 0) {
      out = await encoders[codec](body);
      headers['Content-Encoding'] = codec;
    }
    headers['Content-Length'] = String(out.length);
    res.writeHead(status, headers);
    res.end(req.method === 'HEAD' ? undefined : out);
  }

  async function handle(req, res) {
    const started = process.hrtime.bigint();
    const url = new URL(req.url ?? '/', 'http://front');
    const queryId = url.searchParams.get('query_id') || randomUUID();
    const common = {
      'X-ClickHouse-Server-Display-Name': 'chdb-http',
      'X-ClickHouse-Query-Id': queryId,
      'X-ClickHouse-Timezone': engine.timezone,
    };
    let status = 200;
    try {
      const isGet = req.method === 'GET' || req.method === 'HEAD';
      if (isGet && (url.pathname === '/ping' || (url.pathname === '/' && !url.searchParams.has('query')))) {
        req.resume();
        await answer(req, res, 200, Buffer.from('Ok.\n'), { 'Content-Type': 'text/html; charset=UTF-8' });
        return;
      }
      if (url.pathname !== '/') {
        req.resume();
        status = 404;
        await answer(
          req,
          res,
          404,
          Buffer.from(
            `There is no handle ${url.pathname}\n\nUse / or /ping for health checks.\nSend queries with POST / or GET /?query=...\n`,
          ),
          { 'Content-Type': 'text/plain; charset=UTF-8' },
        );
        return;
      }
      if (!isGet && req.method !== 'POST') {
        req.resume();
        throw new EngineError(
          1,
          'UNSUPPORTED_METHOD',
          `HTTP method ${req.method} is not supported; use GET or POST`,
        );
      }
      const who = credentials(req, url);
      if (who.user !== user || !sameSecret(who.password, password)) {
        req.resume();
        throw new EngineError(
          516,
          'AUTHENTICATION_FAILED',
          `${who.user}: Authentication failed: password is incorrect, or there is no user with such name`,
        );
      }
      const body = await readBody(req, maxBodyBytes);
      const r = parseRequest(req, url, body);
      const result = await engine.run(r.state, async (e) => {
        // A SET in the statement itself changes the engine's session: it must not outlive this request.
        if (r.keyword === 'SET') e.markDirty();
        return r.insertData ? e.insert(r.sql, r.insertData) : e.query(r.sql, r.params, r.format);
      });
      const elapsedNs = process.hrtime.bigint() - started;
      await answer(req, res, 200, result.bytes, {
        ...common,
        'Content-Type': contentType(r.format),
        'X-ClickHouse-Format': r.format,
        'X-ClickHouse-Summary': JSON.stringify({
          read_rows: String(result.readRows),
          read_bytes: String(result.readBytes),
          written_rows: String(result.writtenRows),
          written_bytes: String(result.writtenBytes),
          total_rows_to_read: '0',
          result_rows: String(result.readRows),
          result_bytes: String(result.bytes.length),
          elapsed_ns: String(elapsedNs),
        }),
      });
    } catch (err) {
      const e = EngineError.from(err, engine.version);
      status = e.httpStatus;
      if (!res.headersSent) {
        await answer(req, res, status, Buffer.from(e.body(engine.version)), {
          ...common,
          'Content-Type': 'text/plain; charset=UTF-8',
          'X-ClickHouse-Exception-Code': String(e.code),
        });
      } else res.destroy();
    } finally {
      log?.(`${req.method} ${url.pathname} ${status} ${Number(process.hrtime.bigint() - started) / 1e6} ms`);
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      // Only a failure to write the answer gets here (the client went away): drop that connection.
      log?.(`cannot answer: ${err.message}`);
      res.destroy();
    });
  });
  // Longer than the client's idle-socket TTL (2.5 s by default), as a server's 10 s keep-alive is.
  server.keepAliveTimeout = 10_000;
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  return server;
}
