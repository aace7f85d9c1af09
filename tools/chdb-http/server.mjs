#!/usr/bin/env node
/**
 * chdb-http: a test harness that puts the chDB engine (tools/chdb) behind the
 * part of ClickHouse's HTTP interface that @clickhouse/client uses, so the
 * ClickHouse store's HTTP path runs where no ClickHouse server does. Not a
 * ClickHouse server, and not for production (README.md).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ChdbEngine, loadChdb } from './chdb-engine.mjs';
import { createFront } from './http-front.mjs';

const HELP = `Usage: node tools/chdb-http/server.mjs [options]

Serves the part of ClickHouse's HTTP interface that @clickhouse/client uses,
executing every statement on the embedded chDB engine. A test harness for
ClickHouse clients; not a ClickHouse server and not for production.

Options:
  --port N           port to listen on; 0 picks a free one (default 8123)
  --host ADDR        address to listen on (default 127.0.0.1)
  --data-dir DIR     chDB data directory (default: a temporary one, removed on exit)
  --user NAME        the one user accepted (default "default")
  --password TEXT    its password (default empty)
  --chdb-dir DIR     where chdb is installed (default tools/chdb, or OPENQOE_CHDB_DIR)
  --max-body-mb N    largest request body, compressed or not (default 256)
  --verbose          log one line per request to stderr
  -h, --help         show this help

Prints "chdb-http listening on http://HOST:PORT" once it serves.
SIGTERM or SIGINT closes the chDB session and exits 0.`;

function fail(message) {
  process.stderr.write(`chdb-http: ${message}\n`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      port: { type: 'string', default: '8123' },
      host: { type: 'string', default: '127.0.0.1' },
      'data-dir': { type: 'string' },
      user: { type: 'string', default: 'default' },
      password: { type: 'string', default: '' },
      'chdb-dir': { type: 'string' },
      'max-body-mb': { type: 'string', default: '256' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }).values;
} catch (err) {
  fail(`${err.message}\n\n${HELP}`);
}
if (args.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}
const port = Number(args.port);
if (!Number.isInteger(port) || port < 0 || port > 65535)
  fail(`--port must be an integer from 0 to 65535, got ${args.port}`);
const maxBodyMb = Number(args['max-body-mb']);
if (!(maxBodyMb > 0)) fail(`--max-body-mb must be a positive number, got ${args['max-body-mb']}`);
if (!args.user) fail('--user must not be empty');

const chdbDir = resolve(
  args['chdb-dir'] ?? process.env.OPENQOE_CHDB_DIR ?? join(import.meta.dirname, '..', 'chdb'),
);
const tempDir = args['data-dir'] ? undefined : mkdtempSync(join(tmpdir(), 'chdb-http-'));
const dataDir = resolve(args['data-dir'] ?? join(tempDir, 'data'));

let engine;
try {
  mkdirSync(dataDir, { recursive: true });
  engine = await ChdbEngine.open(loadChdb(chdbDir), dataDir);
} catch (err) {
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  fail(`cannot open chDB on ${dataDir}: ${err.message}`);
}

const log = args.verbose ? (line) => process.stderr.write(`chdb-http: ${line}\n`) : undefined;
const server = createFront({
  engine,
  user: args.user,
  password: args.password,
  maxBodyBytes: Math.floor(maxBodyMb * 1024 * 1024),
  log,
});
server.on('error', (err) => fail(`cannot listen on ${args.host}:${port}: ${err.message}`));
server.listen(port, args.host, () => {
  const { address, port: bound } = server.address();
  const host = address.includes(':') ? `[${address}]` : address;
  process.stdout.write(
    `chdb-http listening on http://${host}:${bound} (chDB ${engine.version}, data ${dataDir})\n`,
  );
});

let stopping = false;
async function stop(signal) {
  if (stopping) return;
  stopping = true;
  log?.(`${signal}: stopping`);
  // A statement that never ends must not keep the process alive forever.
  setTimeout(() => {
    process.stderr.write('chdb-http: a statement did not finish within 10 s of the stop signal\n');
    process.exit(1);
  }, 10_000).unref();
  server.close();
  server.closeIdleConnections();
  await engine.close();
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
