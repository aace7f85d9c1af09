/**
 * `openqoe live-streams …` and `openqoe signing-keys …`: administer a
 * running server's live streams and stats API signing keys over HTTP, like
 * the `environments` and `tokens` commands.
 */
import type { LiveStream, RtmpIngestInfo } from '@openqoe/schema';
import type { Command } from 'commander';
import { type AdminOptions, adminRequest } from './admin-client.js';

type Opts = AdminOptions & { json?: boolean; environment?: string };
type Listed<T> = { data: T[]; total_row_count: number };
interface KeyOut {
  id: string;
  environment_id: string;
  created_at: string;
  private_key?: string;
}

/** What the `openqoe` command already has for its admin commands. */
export interface CliKit {
  adminOptions(cmd: Command): Command;
  print(json: boolean, value: unknown, human: () => string): void;
  table(rows: string[][]): string;
}

const envBody = (o: Opts) => (o.environment ? { environment_id: o.environment } : {});

export function registerLiveCommands(program: Command, kit: CliKit): void {
  const { adminOptions, print, table } = kit;
  /** `list`, `create` and `delete` of one kind of record the admin API keeps under `path`. */
  const commands = <T extends { id: string }>(
    group: Command,
    path: string,
    what: string,
    list: { description: string; head: string[]; row: (x: T) => string[] },
    create: { description: string; created: (x: T, answer: { rtmp?: RtmpIngestInfo }) => string },
    deleteDescription: string,
  ) => {
    adminOptions(group.command('list').description(list.description)).action(async (o: Opts) => {
      const r = await adminRequest<Listed<T>>(o, 'GET', `${path}?limit=1000`);
      print(!!o.json, r, () => table([list.head, ...r!.data.map(list.row)]));
    });
    adminOptions(
      group
        .command('create')
        .description(create.description)
        .option('-e, --environment <id>', 'environment (needed when the token covers several)'),
    ).action(async (o: Opts) => {
      const r = await adminRequest<{ data: T; rtmp?: RtmpIngestInfo }>(o, 'POST', path, envBody(o));
      print(!!o.json, r, () => create.created(r!.data, r!));
    });
    // Ids made before ids stopped beginning with `-` are reached with
    // `delete -- -abc…`; commander ends the options at `--`.
    adminOptions(
      group
        .command('delete')
        .description(deleteDescription)
        .argument('<id>', `the ${what}'s id (one that begins with "-" goes last, after --)`),
    ).action(async (id: string, o: Opts) => {
      await adminRequest(o, 'DELETE', `${path}/${encodeURIComponent(id)}`);
      print(!!o.json, { deleted: id }, () => `deleted ${what} ${id}`);
    });
  };

  commands<LiveStream>(
    program.command('live-streams').description('Manage live streams of a running server'),
    '/video/v1/live-streams',
    'live stream',
    {
      description: 'List live streams and whether an encoder is publishing',
      head: ['ID', 'STATUS', 'ENVIRONMENT'],
      row: (s) => [s.id, s.status, s.environment_id],
    },
    {
      description: 'Create a live stream; prints its id and secret stream key',
      // The server says where it listens for RTMP, or why it does not.
      created: (s, { rtmp }) =>
        `created live stream ${s.id}\n  stream key: ${s.stream_key}   (secret)\n  ${
          rtmp?.url ? `publish to: ${rtmp.url}/${s.stream_key}` : `cannot publish yet: ${rtmp?.off_reason}`
        }`,
    },
    'Delete a live stream (its key stops working)',
  );
  commands<KeyOut>(
    program.command('signing-keys').description('Manage the signing keys of stats API tokens'),
    '/system/v1/signing-keys',
    'signing key',
    {
      description: 'List signing keys (never private keys)',
      head: ['ID', 'ENVIRONMENT', 'CREATED'],
      row: (k) => [k.id, k.environment_id, new Date(Number(k.created_at) * 1000).toISOString()],
    },
    {
      description: 'Create a 2048-bit RSA signing key; its private key is printed once',
      created: (k) =>
        `created signing key ${k.id}\n  private key (base64 PEM, shown once):\n${k.private_key}`,
    },
    'Delete a signing key (its tokens stop working)',
  );
}
