/**
 * `openqoe generate`: sends synthetic views (@openqoe/generator) to a
 * running server through the real intake, `POST /v1/beacon` over HTTP, so
 * the data takes the path real traffic takes: parsing, validation, the log,
 * the pipeline and the view model.
 *
 * The split: the package draws the views (pure: beacons and their headers
 * from a seed, an index and a time window); this module owns everything
 * about sending them, which is the server CLI's business: the command and
 * its flags, the environment key and token from the data dir's
 * bootstrap.json, the intake's backfill and back-pressure protocol (gzip,
 * retries on 429/502–504), the tally, the progress line and the exit codes.
 *
 * Live mode (the default) sends each view as it would arrive now: it ends at
 * the time it is sent. `--days D` spreads view starts over the last D days;
 * that needs backfill (`?backfill=true`), hence an access token with the
 * `system` permission, because only a trusted sender may date its own data.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { type SyntheticView, syntheticView } from '@openqoe/generator';
import type { Command, CommanderError } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { BOOTSTRAP_FILE, type BootstrapFile } from '../auth/bootstrap.js';
import { type AdminOptions, CliError, resolveCredentials } from './admin-client.js';
import { serverUrl, URL_OPTION_HELP } from './server-url.js';

const gzip = promisify(gzipCallback);

/** Bodies above this are sent gzip: a two-hour view is ~1 MB of JSON, the intake's limit as sent. */
const GZIP_ABOVE_BYTES = 64 * 1024;
/** How long one view keeps being retried (back-pressure, restarts) before it counts as failed. */
const RETRY_BUDGET_MS = 5 * 60_000;
const DAY_MS = 86_400_000;

interface GenerateOptions extends AdminOptions {
  envKey?: string;
  views: number;
  days?: number;
  concurrency: number;
  seed?: number;
}

const positiveInt = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} must be a positive integer`);
  return n;
};
const positiveNumber = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${flag} must be a positive number`);
  return n;
};
const seedArg = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff)
    throw new InvalidArgumentError('--seed must be an integer from 0 to 4294967295');
  return n;
};

export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description('Send synthetic views (one beacon each) to a running server through its intake')
    .addOption(new Option('--url <url>', URL_OPTION_HELP))
    .addOption(new Option('--env-key <key>', 'environment key [the data dir’s bootstrap.json]'))
    .addOption(
      new Option('-d, --data-dir <dir>', 'data dir whose bootstrap.json gives the key and token [./data]'),
    )
    .addOption(new Option('--views <n>', 'views to send').default(1000).argParser(positiveInt('--views')))
    .addOption(
      new Option(
        '--days <d>',
        'spread view starts over the last D days (backfill: needs a system token)',
      ).argParser(positiveNumber('--days')),
    )
    .addOption(
      new Option('--concurrency <c>', 'requests in flight')
        .default(32)
        .argParser(positiveInt('--concurrency')),
    )
    .addOption(new Option('--seed <s>', 'the same seed sends the same views [random]').argParser(seedArg))
    .addOption(new Option('--token-id <id>', 'access token id, for --days (OPENQOE_TOKEN_ID)'))
    .addOption(
      new Option('--token-secret <secret>', 'access token secret, for --days (OPENQOE_TOKEN_SECRET)'),
    )
    .addHelpText(
      'after',
      '\nThe distribution of the views is stated in docs/generator.md. Examples:\n' +
        '  openqoe generate --views 5000                  live views, key from ./data/bootstrap.json\n' +
        '  openqoe generate --views 100000 --days 30      a month of history (admin token from bootstrap.json)',
    )
    // Bad arguments exit 2, as the other commands' usage errors do (commander's own default is 1).
    .exitOverride((err: CommanderError) => process.exit(err.exitCode === 0 ? 0 : 2))
    .action((o: GenerateOptions) => generate(o));
}

interface Tally {
  accepted: number;
  refused: number;
  failed: number;
  retries: number;
  firstProblem: string;
}

async function generate(o: GenerateOptions): Promise<void> {
  const { url } = serverUrl(o);
  const envKey = o.envKey ?? bootstrapEnvKey(o.dataDir);
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw new CliError(
      `--url must be an http(s) URL such as http://127.0.0.1:8080, got ${JSON.stringify(url)}`,
      2,
    );
  }
  let authorization: string | undefined;
  if (o.days !== undefined) {
    const c = resolveCredentials({ ...o, url });
    authorization = `Basic ${Buffer.from(`${c.id}:${c.secret}`).toString('base64')}`;
  }
  const seed = o.seed ?? Math.floor(Math.random() * 0x1_0000_0000);
  const endpoint = `${url}/v1/beacon${authorization ? '?backfill=true' : ''}`;
  const runStartMs = Date.now();
  const days = o.days;

  const tally: Tally = { accepted: 0, refused: 0, failed: 0, retries: 0, firstProblem: '' };
  const progress = new Progress(o.views, process.stderr);
  let next = 0;
  let stopReason = '';
  const onSigint = () => {
    stopReason = 'interrupted';
  };
  process.once('SIGINT', onSigint);

  const worker = async () => {
    while (!stopReason && next < o.views) {
      const index = next++;
      // Live views end now; backfilled ones start anywhere in the last D days (of when the run began).
      const toMs = days === undefined ? Date.now() : runStartMs;
      const fromMs = days === undefined ? toMs : runStartMs - days * DAY_MS;
      const view = syntheticView({ seed, index, envKey, fromMs, toMs });
      const r = await send(endpoint, view, authorization, tally);
      if (r.outcome === 'accepted') tally.accepted++;
      else {
        tally[r.outcome]++;
        tally.firstProblem ||= r.problem;
        // Wrong credentials, key or URL: every other view would be refused the same way.
        if (r.status === 401 || r.status === 403 || r.status === 404) stopReason = r.problem;
      }
      progress.done++;
    }
  };
  progress.start();
  await Promise.all(Array.from({ length: Math.min(o.concurrency, o.views) }, worker));
  progress.stop();
  process.off('SIGINT', onSigint);

  const seconds = (Date.now() - runStartMs) / 1000;
  const sent = tally.accepted + tally.refused + tally.failed;
  process.stdout.write(
    `openqoe generate: sent ${sent} views in ${seconds.toFixed(1)} s (${Math.round(sent / seconds)} views/s): ` +
      `${tally.accepted} accepted, ${tally.refused} refused, ${tally.failed} failed, ${tally.retries} retries; ` +
      `seed ${seed}${days === undefined ? ', live' : `, backfill over ${days} days`}\n`,
  );
  if (tally.firstProblem) process.stderr.write(`openqoe generate: first problem: ${tally.firstProblem}\n`);
  if (stopReason === 'interrupted') process.exit(130);
  if (tally.refused > 0 || tally.failed > 0 || sent < o.views) process.exitCode = 1;
}

function bootstrapEnvKey(dataDir: string | undefined): string {
  const file = join(dataDir ?? process.env['OPENQOE_DATA_DIR'] ?? './data', BOOTSTRAP_FILE);
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as BootstrapFile).environment.key;
  } catch {
    throw new CliError(
      `no environment key: pass --env-key, or point --data-dir at a data dir with ${BOOTSTRAP_FILE} (tried ${file})`,
      2,
    );
  }
}

type SendResult =
  | { outcome: 'accepted' }
  | { outcome: 'refused' | 'failed'; status: number; problem: string };

/** One view's POST, retried on network errors, 429 (after its Retry-After) and 502–504, with backoff. */
async function send(
  endpoint: string,
  view: SyntheticView,
  authorization: string | undefined,
  tally: Tally,
): Promise<SendResult> {
  const json = Buffer.from(JSON.stringify(view.beacon));
  const compressed = json.length > GZIP_ABOVE_BYTES;
  const body = compressed ? await gzip(json, { level: 1 }) : json;
  const headers: Record<string, string> = {
    'content-type': 'text/plain',
    'user-agent': view.userAgent,
    'x-forwarded-for': view.forwardedFor,
    ...(compressed ? { 'content-encoding': 'gzip' } : {}),
    ...(authorization ? { authorization } : {}),
  };
  const deadline = Date.now() + RETRY_BUDGET_MS;
  for (let attempt = 0; ; attempt++) {
    let status = 0;
    let retryAfterMs = 0;
    let problem: string;
    try {
      const res = await fetch(endpoint, { method: 'POST', headers, body });
      status = res.status;
      const text = await res.text();
      if (status === 202) return { outcome: 'accepted' };
      retryAfterMs = Number(res.headers.get('retry-after') ?? 0) * 1000 || 0;
      problem = `HTTP ${status} ${describeError(text)}`;
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      problem = `cannot reach ${endpoint} (${cause})`;
    }
    const retryable = status === 0 || status === 429 || (status >= 502 && status <= 504);
    if (!retryable) return { outcome: 'refused', status, problem };
    if (Date.now() >= deadline) return { outcome: 'failed', status, problem };
    tally.retries++;
    // Exponential backoff with jitter, so retries after an outage do not arrive in one wave.
    const backoffMs = Math.min(10_000, 100 * 2 ** attempt) * (0.5 + Math.random() / 2);
    await new Promise((r) => setTimeout(r, Math.max(retryAfterMs, backoffMs)));
  }
}

function describeError(text: string): string {
  try {
    const e = (JSON.parse(text) as { error?: { code?: string; messages?: string[] } }).error;
    if (e) return `${e.code ?? ''}: ${(e.messages ?? []).join('; ')}`;
  } catch {
    // Not the error envelope: show the start of whatever answered.
  }
  return text.slice(0, 200);
}

/** Views sent, views/s and ETA on stderr: a redrawn bar on a terminal, a plain line per second otherwise. */
class Progress {
  done = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAtMs = Date.now();
  /** Recent (time, done) points, so the rate and ETA follow the current speed. */
  private readonly recent: [number, number][] = [];

  constructor(
    private readonly total: number,
    private readonly out: NodeJS.WriteStream,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.draw(), this.out.isTTY ? 250 : 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.draw();
    if (this.out.isTTY) this.out.write('\n');
  }

  private draw(): void {
    const now = Date.now();
    this.recent.push([now, this.done]);
    while (this.recent.length > 2 && now - this.recent[0]![0] > 5000) this.recent.shift();
    const [t0, d0] = this.recent[0]!;
    const rate = now > t0 ? ((this.done - d0) * 1000) / (now - t0) : 0;
    const avg = (this.done * 1000) / Math.max(1, now - this.startedAtMs);
    const speed = rate > 0 ? rate : avg;
    const eta = speed > 0 ? formatDuration(((this.total - this.done) / speed) * 1000) : '?';
    const pct = Math.floor((100 * this.done) / this.total);
    const text = `${this.done}/${this.total} views (${pct} %), ${Math.round(speed)} views/s, ETA ${eta}`;
    if (this.out.isTTY) {
      const width = 24;
      const filled = Math.round((width * this.done) / this.total);
      this.out.write(`\r\x1b[K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}`);
    } else {
      this.out.write(`generate: ${text}\n`);
    }
  }
}

function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}
