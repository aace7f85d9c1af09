#!/usr/bin/env -S node --max-semi-space-size=64
import { PERMISSIONS, type Permission } from '@openqoe/schema';
/**
 * The `openqoe` command: `serve` runs the server; `environments`,
 * `tokens`, `live-streams` and `signing-keys` administer a running one over HTTP.
 *
 * Node runs it with a 64 MB young generation (the flag in the first line, and
 * in `npm start`): a beacon's parsed objects live until its fsync, and in
 * V8's default 16 MB most of them were still alive, and copied, at every
 * scavenge. docs/benchmarks.md ("Ingest") has the measurements.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { type AdminOptions, adminRequest, CliError } from './cli/admin-client.js';
import { registerGenerate } from './cli/generate.js';
import { registerImportCmcd } from './cli/import-cmcd.js';
import { registerLiveCommands } from './cli/live-commands.js';
import { removeServerFile, URL_ORDER_HELP, writeServerFile } from './cli/server-url.js';
import { ROLES } from './config/cluster-config.js';
import { ConfigError, loadConfig } from './config/load-config.js';
import { assemble } from './main/assemble.js';
import { VERSION } from './version.js';

const program = new Command('openqoe')
  .description('Self-hosted video Quality-of-Experience analytics')
  .version(VERSION)
  .showHelpAfterError();

const intArg = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be an integer`);
  return n;
};

program
  .command('serve')
  .description(
    'Run the server (intake, pipeline, store, APIs) on the embedded default, or one scale-out role (--role, --bus)',
  )
  .addOption(new Option('-p, --port <port>', 'HTTP port [8080] (OPENQOE_PORT)').argParser(intArg('port')))
  .addOption(new Option('-H, --host <host>', 'address to listen on [127.0.0.1] (OPENQOE_HOST)'))
  .addOption(new Option('-d, --data-dir <dir>', 'data directory [./data] (OPENQOE_DATA_DIR)'))
  .addOption(new Option('-c, --config <file>', 'config file, JSON or YAML (OPENQOE_CONFIG)'))
  .addOption(
    new Option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (OPENQOE_LOG_LEVEL)'),
  )
  // Scale-out roles (docs/deploy.md).
  .addOption(
    new Option('--role <role>', 'all|ingest|pipeline|api [all] (OPENQOE_CLUSTER__ROLE)').choices(ROLES),
  )
  .addOption(new Option('--bus <url>', 'nats://host:port: run over NATS JetStream (OPENQOE_CLUSTER__BUS)'))
  .addOption(
    new Option(
      '--partitions <list>',
      'pipeline role: partitions to own, e.g. 0-3 (OPENQOE_CLUSTER__OWN_PARTITIONS)',
    ),
  )
  .addOption(
    new Option(
      '--store <url>',
      'duckdb (embedded, default), clickhouse://user:pass@host:8123/db or chdb:///path (OPENQOE_CLICKHOUSE__URL)',
    ),
  )
  .action(
    async (opts: {
      port?: number;
      host?: string;
      dataDir?: string;
      config?: string;
      logLevel?: string;
      role?: string;
      bus?: string;
      partitions?: string;
      store?: string;
    }) => {
      const flags: Record<string, unknown> = {};
      if (opts.store !== undefined) flags['clickhouse'] = { url: opts.store === 'duckdb' ? '' : opts.store };
      if (opts.port !== undefined) flags['port'] = opts.port;
      if (opts.host !== undefined) flags['host'] = opts.host;
      if (opts.dataDir !== undefined) flags['dataDir'] = opts.dataDir;
      if (opts.logLevel !== undefined) flags['logLevel'] = opts.logLevel;
      const cluster: Record<string, unknown> = {};
      if (opts.role !== undefined) cluster['role'] = opts.role;
      if (opts.bus !== undefined) cluster['bus'] = opts.bus;
      if (opts.partitions !== undefined) cluster['ownPartitions'] = opts.partitions;
      if (Object.keys(cluster).length) flags['cluster'] = cluster;
      const config = loadConfig({ file: opts.config, flags });
      if (config.cluster.role !== 'all' && !config.cluster.bus)
        throw new CliError(`--role ${config.cluster.role} needs a NATS bus: add --bus nats://host:port`, 2);
      const server = await assemble(config);
      writeServerFile(config.dataDir, {
        url: server.url,
        rtmp_url: server.live.rtmpUrl ?? null,
        mux_url: server.muxIntake?.url ?? null,
      });
      const base = server.url.replace('127.0.0.1', 'localhost');
      const lines = [
        `openqoe ${VERSION} listening on ${base}`,
        ...(config.ui.enabled && config.cluster.role !== 'ingest' && config.cluster.role !== 'pipeline'
          ? [`  dashboard:  ${base}/ui/   (sign in with the access token)`]
          : []),
        `  API docs:   ${base}/docs`,
        ...(config.demo.enabled && config.cluster.role === 'all'
          ? [`  demo:       ${base}/demo/   (a test video sending to this server)`]
          : []),
        `  data dir:   ${config.dataDir}`,
        ...(config.cluster.bus ? [`  role:       ${config.cluster.role} on ${config.cluster.bus}`] : []),
        ...(server.store?.where ? [`  store:      ${server.store.where}`] : []),
      ];
      if (server.live.rtmpUrl)
        lines.push(`  RTMP ingest: ${server.live.rtmpUrl.replace('127.0.0.1', 'localhost')}/{stream_key}`);
      if (server.muxIntake)
        lines.push(`  Mux-protocol intake: ${server.muxIntake.url}   (beaconCollectionDomain)`);
      for (const off of [server.off.rtmp, server.off.mux]) if (off) lines.push(`  ${off}`);
      if (server.bootstrap) {
        lines.push(
          '',
          'First start: created an environment and an admin access token (kept in bootstrap.json in the data dir):',
          `  environment id:   ${server.bootstrap.environment.id}`,
          `  environment key:  ${server.bootstrap.environment.key}   (put this in your pages)`,
          `  token id:         ${server.bootstrap.access_token.id}`,
          `  token secret:     ${server.bootstrap.access_token.secret}`,
        );
      }
      process.stdout.write(`${lines.join('\n')}\n`);
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) {
          process.stderr.write(`${signal} again: exiting now\n`);
          process.exit(130);
        }
        stopping = true;
        process.stderr.write(`${signal}: stopping (again to force)\n`);
        server.close().then(
          () => {
            removeServerFile(config.dataDir);
            process.exit(0);
          },
          (err: unknown) => {
            process.stderr.write(`error while stopping: ${(err as Error).message}\n`);
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    },
  );

const adminOptions = (cmd: Command) =>
  cmd
    .addOption(new Option('--url <url>', 'server URL [see below]'))
    .addOption(new Option('--token-id <id>', 'access token id (OPENQOE_TOKEN_ID)'))
    .addOption(new Option('--token-secret <secret>', 'access token secret (OPENQOE_TOKEN_SECRET)'))
    .addOption(
      new Option(
        '-d, --data-dir <dir>',
        'the server’s data dir: its server.json gives the URL, its bootstrap.json the token [./data]',
      ),
    )
    .option('--json', 'print the raw JSON answer')
    .addHelpText('after', `\n${URL_ORDER_HELP}`);

type Listed<T> = { data: T[]; total_row_count: number };
interface EnvOut {
  id: string;
  name: string;
  key: string;
  created_at: number;
}
interface TokenOut {
  id: string;
  name: string;
  permissions: string[];
  environment_ids: string[];
  all_environments: boolean;
  created_at: number;
  secret?: string;
}

const print = (json: boolean, value: unknown, human: () => string) =>
  process.stdout.write(`${json ? JSON.stringify(value, null, 2) : human()}\n`);
const table = (rows: string[][]) => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
};

const environments = program.command('environments').description('Manage environments of a running server');
adminOptions(environments.command('list').description('List environments')).action(
  async (o: AdminOptions & { json?: boolean }) => {
    const r = await adminRequest<Listed<EnvOut>>(o, 'GET', '/system/v1/environments?limit=1000');
    print(!!o.json, r, () => table([['ID', 'NAME', 'KEY'], ...r!.data.map((e) => [e.id, e.name, e.key])]));
  },
);
adminOptions(
  environments.command('create').description('Create an environment').argument('<name>', 'a name for it'),
).action(async (name: string, o: AdminOptions & { json?: boolean }) => {
  const r = await adminRequest<{ data: EnvOut }>(o, 'POST', '/system/v1/environments', { name });
  print(!!o.json, r, () => `created environment ${r!.data.id} "${r!.data.name}"\n  key: ${r!.data.key}`);
});
adminOptions(
  environments
    .command('delete')
    .description('Delete an environment (its key stops working)')
    .argument('<id>'),
).action(async (id: string, o: AdminOptions & { json?: boolean }) => {
  await adminRequest(o, 'DELETE', `/system/v1/environments/${encodeURIComponent(id)}`);
  print(!!o.json, { deleted: id }, () => `deleted environment ${id}`);
});

const tokens = program.command('tokens').description('Manage access tokens of a running server');
adminOptions(tokens.command('list').description('List access tokens (never their secrets)')).action(
  async (o: AdminOptions & { json?: boolean }) => {
    const r = await adminRequest<Listed<TokenOut>>(o, 'GET', '/system/v1/access-tokens?limit=1000');
    print(!!o.json, r, () =>
      table([
        ['ID', 'NAME', 'PERMISSIONS', 'ENVIRONMENTS'],
        ...r!.data.map((t) => [
          t.id,
          t.name,
          t.permissions.join(','),
          t.all_environments ? '*' : t.environment_ids.join(','),
        ]),
      ]),
    );
  },
);
const permissionList = (v: string): Permission[] => {
  const list = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = list.filter((p) => !(PERMISSIONS as readonly string[]).includes(p));
  if (bad.length || list.length === 0) {
    throw new InvalidArgumentError(`permissions must be a comma-separated list of ${PERMISSIONS.join(', ')}`);
  }
  return list as Permission[];
};
adminOptions(
  tokens
    .command('create')
    .description('Create an access token; its secret is printed once')
    .requiredOption('--permissions <list>', `comma-separated: ${PERMISSIONS.join(', ')}`, permissionList)
    .option('-n, --name <name>', 'a name for it [its permissions, e.g. data:read,video]')
    .option('--environments <ids>', 'comma-separated environment ids it covers [all, present and future]')
    .option('--all-environments', 'cover every environment, present and future (the default)')
    .addHelpText(
      'after',
      '\nExample, a token for the dashboard:\n  openqoe tokens create --permissions data:read,video',
    ),
).action(
  async (
    o: AdminOptions & {
      json?: boolean;
      name?: string;
      permissions: Permission[];
      environments?: string;
      allEnvironments?: boolean;
    },
  ) => {
    if (o.environments && o.allEnvironments)
      throw new CliError('give --environments <ids> or --all-environments, not both', 2);
    const r = await adminRequest<{ data: TokenOut }>(o, 'POST', '/system/v1/access-tokens', {
      name: o.name ?? o.permissions.join(','),
      permissions: o.permissions,
      environment_ids: o.environments
        ? o.environments
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : [],
      all_environments: !o.environments,
    });
    print(
      !!o.json,
      r,
      () =>
        `created access token "${r!.data.name}"\n  id:     ${r!.data.id}\n  secret: ${r!.data.secret}   (shown once)\n  covers: ${r!.data.all_environments ? 'every environment (--environments to narrow)' : r!.data.environment_ids.join(', ')}`,
    );
  },
);
adminOptions(tokens.command('delete').description('Delete (revoke) an access token').argument('<id>')).action(
  async (id: string, o: AdminOptions & { json?: boolean }) => {
    await adminRequest(o, 'DELETE', `/system/v1/access-tokens/${encodeURIComponent(id)}`);
    print(!!o.json, { deleted: id }, () => `deleted access token ${id}`);
  },
);

registerGenerate(program);
registerLiveCommands(program, { adminOptions, print, table });
registerImportCmcd(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof CliError) {
    process.stderr.write(`openqoe: ${err.message}\n`);
    process.exit(err instanceof CliError ? err.exitCode : 2);
  }
  process.stderr.write(`openqoe: ${(err as Error).message}\n`);
  process.exit(1);
});
