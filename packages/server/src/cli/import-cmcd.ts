/**
 * `openqoe import-cmcd <file>`: loads CMCD request-mode data from CDN logs
 * (or saved event-mode reports) into a running server through its CMCD
 * intake. Each line is read for a `CMCD=` query parameter (a logged request
 * URL) or, failing that, taken as a CMCD dictionary. v1 data has no sequence
 * numbers: lines of a session are numbered in file order, so importing the
 * same file twice does not count anything twice.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { ErrorEnvelope } from '@openqoe/schema';
import { CMCD_EVENT_MODE, type Cmcd, decodeCmcd, encodeCmcd, fromCmcdQuery } from '@svta/cml-cmcd';
import { type Command, InvalidArgumentError } from 'commander';
import { CliError } from './admin-client.js';
import { serverUrl, URL_ORDER_HELP } from './server-url.js';

interface ImportOptions {
  url?: string;
  dataDir?: string;
  envKey: string;
  batch: number;
  quiet?: boolean;
}

const CMCD_PARAM = /[?&]CMCD=([^&\s"']*)/;

/** The CMCD dictionary a log line carries, or undefined. */
export function cmcdOfLine(line: string): Record<string, unknown> | undefined {
  const q = CMCD_PARAM.exec(line);
  try {
    if (q) return fromCmcdQuery(`CMCD=${q[1]}`) as Record<string, unknown>;
    const text = line.trim();
    if (!text.includes('sid=')) return undefined;
    return decodeCmcd(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function batchSize(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new InvalidArgumentError('must be 1 to 1000');
  return n;
}

export function registerImportCmcd(program: Command): void {
  program
    .command('import-cmcd')
    .description(
      'Import CMCD data from a CDN log or a file of CMCD reports (one per line; .gz read as gzip) into a running server',
    )
    .argument('<file>', 'log file: lines with a CMCD= query parameter, or CMCD dictionaries')
    .option('--url <url>', 'server URL [see below]')
    .option('-d, --data-dir <dir>', 'data dir of the server (its server.json gives the URL) [./data]')
    .addHelpText('after', `\n${URL_ORDER_HELP}`)
    .requiredOption('--env-key <key>', 'environment key the data belongs to (as in /v1/cmcd/{env_key})')
    .option('--batch <n>', 'reports per request', batchSize, 500)
    .option('-q, --quiet', 'no progress output')
    .action(async (file: string, o: ImportOptions) => {
      await importCmcd(file, o);
    });
}

export async function importCmcd(file: string, o: ImportOptions): Promise<void> {
  const size = await stat(file).then(
    (s) => s.size,
    (err: Error) => {
      throw new CliError(`cannot read ${file}: ${err.message}`, 2);
    },
  );
  const target = `${serverUrl(o).url}/v1/cmcd/${encodeURIComponent(o.envKey)}`;
  const raw = createReadStream(file);
  let readBytes = 0;
  raw.on('data', (c) => {
    readBytes += c.length;
  });
  const lines = createInterface({
    input: file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw,
    crlfDelay: Infinity,
  });
  const nextSn = new Map<string, number>();
  let batch: string[] = [];
  let lineNo = 0;
  let skipped = 0;
  let sent = 0;
  let lastProgress = 0;
  const progress = (final = false) => {
    if (o.quiet) return;
    const now = Date.now();
    if (!final && now - lastProgress < 1000) return;
    lastProgress = now;
    const pct = size > 0 ? Math.min(100, Math.round((100 * readBytes) / size)) : 100;
    process.stderr.write(
      `\r${pct}%  ${lineNo} lines, ${sent} reports imported, ${skipped} lines without CMCD${final ? '\n' : ''}`,
    );
  };
  const flush = async () => {
    if (batch.length === 0) return;
    const body = `${batch.join('\n')}\n`;
    let res: Response;
    try {
      res = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/cmcd' }, body });
    } catch (err) {
      throw new CliError(`cannot reach ${target}: ${(err as Error).message}`);
    }
    if (!res.ok) {
      const env = (await res.json().catch(() => undefined)) as ErrorEnvelope | undefined;
      const fields = env?.error.fields.map((f) => `${f.path} ${f.problem}`).join('; ') ?? '';
      throw new CliError(
        `the server refused reports ending at line ${lineNo} (${res.status} ${env?.error.code ?? ''}): ${env?.error.messages.join('; ') ?? ''} ${fields}`,
      );
    }
    sent += batch.length;
    batch = [];
    progress();
  };
  for await (const line of lines) {
    lineNo++;
    const report = cmcdOfLine(line);
    const sid = report?.['sid'];
    if (!report || typeof sid !== 'string') {
      skipped++;
      continue;
    }
    if (typeof report['sn'] !== 'number') {
      const sn = nextSn.get(sid) ?? 0;
      nextSn.set(sid, sn + 1);
      report['sn'] = sn;
    }
    // Encoded as an event-mode line: request-mode encoding would drop `ts`, which the intake needs.
    batch.push(encodeCmcd(report as Cmcd, { reportingMode: CMCD_EVENT_MODE }));
    if (batch.length >= o.batch) await flush();
  }
  await flush();
  progress(true);
  if (sent === 0) throw new CliError(`no CMCD data found in ${file} (${lineNo} lines)`, 1);
}
