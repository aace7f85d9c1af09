/**
 * `openqoe live-streams …` and `openqoe signing-keys …`: administer a
 * running server's live streams and stats API signing keys over HTTP, like
 * the `environments` and `tokens` commands.
 */
import type { RtmpIngestInfo } from '@openqoe/schema';
import type { Command } from 'commander';
import { type AdminOptions, adminRequest } from './admin-client.js';

type Opts = AdminOptions & { json?: boolean; environment?: string };
type Listed<T> = { data: T[]; total_row_count: number };
interface StreamOut {
  id: string;
  environment_id: string;
  stream_key: string;
  status: string;
}
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

  const streams = program.command('live-streams').description('Manage live streams of a running server');
  adminOptions(
    streams.command('list').description('List live streams and whether an encoder is publishing'),
  ).action(async (o: Opts) => {
    const r = await adminRequest<Listed<StreamOut>>(o, 'GET', '/video/v1/live-streams?limit=1000');
    print(!!o.json, r, () =>
      table([['ID', 'STATUS', 'ENVIRONMENT'], ...r!.data.map((s) => [s.id, s.status, s.environment_id])]),
    );
  });
  adminOptions(
    streams
      .command('create')
      .description('Create a live stream; prints its id and secret stream key')
      .option('-e, --environment <id>', 'environment (needed when the token covers several)'),
  ).action(async (o: Opts) => {
    const r = await adminRequest<{ data: StreamOut; rtmp: RtmpIngestInfo }>(
      o,
      'POST',
      '/video/v1/live-streams',
      envBody(o),
    );
    // The server says where it listens for RTMP, or why it does not.
    const push = r!.rtmp.url
      ? `publish to: ${r!.rtmp.url}/${r!.data.stream_key}`
      : `cannot publish yet: ${r!.rtmp.off_reason}`;
    print(
      !!o.json,
      r,
      () => `created live stream ${r!.data.id}\n  stream key: ${r!.data.stream_key}   (secret)\n  ${push}`,
    );
  });
  adminOptions(
    streams.command('delete').description('Delete a live stream (its key stops working)').argument('<id>'),
  ).action(async (id: string, o: Opts) => {
    await adminRequest(o, 'DELETE', `/video/v1/live-streams/${encodeURIComponent(id)}`);
    print(!!o.json, { deleted: id }, () => `deleted live stream ${id}`);
  });

  const keys = program.command('signing-keys').description('Manage the signing keys of stats API tokens');
  adminOptions(keys.command('list').description('List signing keys (never private keys)')).action(
    async (o: Opts) => {
      const r = await adminRequest<Listed<KeyOut>>(o, 'GET', '/system/v1/signing-keys?limit=1000');
      print(!!o.json, r, () =>
        table([
          ['ID', 'ENVIRONMENT', 'CREATED'],
          ...r!.data.map((k) => [
            k.id,
            k.environment_id,
            new Date(Number(k.created_at) * 1000).toISOString(),
          ]),
        ]),
      );
    },
  );
  adminOptions(
    keys
      .command('create')
      .description('Create a 2048-bit RSA signing key; its private key is printed once')
      .option('-e, --environment <id>', 'environment (needed when the token covers several)'),
  ).action(async (o: Opts) => {
    const r = await adminRequest<{ data: KeyOut }>(o, 'POST', '/system/v1/signing-keys', envBody(o));
    print(
      !!o.json,
      r,
      () =>
        `created signing key ${r!.data.id}\n  private key (base64 PEM, shown once):\n${r!.data.private_key}`,
    );
  });
  adminOptions(
    keys.command('delete').description('Delete a signing key (its tokens stop working)').argument('<id>'),
  ).action(async (id: string, o: Opts) => {
    await adminRequest(o, 'DELETE', `/system/v1/signing-keys/${encodeURIComponent(id)}`);
    print(!!o.json, { deleted: id }, () => `deleted signing key ${id}`);
  });
}
