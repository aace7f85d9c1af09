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
 * By default each view is sent whole as it would arrive now: it ends at the
 * time it is sent. `--days D` spreads view starts over the last D days; that
 * needs backfill (`?backfill=true`), hence an access token with the `system`
 * permission, because only a trusted sender may date its own data. `--live`
 * plays views on the clock instead (the package's LiveRun schedules them;
 * this module sends what it hands out every LIVE.flushMs, holds all sending
 * while the intake answers 429, and names the limit that answered).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { LIVE, type LiveBeacon, LiveRun, syntheticView } from '@openqoe/generator';
import type { Beacon } from '@openqoe/schema';
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
  views?: number;
  days?: number;
  concurrency: number;
  seed?: number;
  live?: boolean;
  viewers?: number;
  duration?: number;
  ramp?: number;
}

const DEFAULT_VIEWS = 1000;
const LIVE_DEFAULTS = { viewers: 100, durationMs: 10 * 60_000 };

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
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
/** `90s`, `2m`, `1h`, `500ms`, or a plain number of seconds, into ms. */
const durationArg = (flag: string, minMs: number) => (v: string) => {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  const ms = m ? Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 's']!) : Number.NaN;
  if (!(ms >= minMs))
    throw new InvalidArgumentError(
      `${flag} must be a duration such as 90s, 2m or 1h${minMs > 0 ? ` (at least ${minMs / 1000} s)` : ''}`,
    );
  return ms;
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
    .description(
      'Send synthetic views to a running server through its intake: one beacon each, or played live (--live)',
    )
    .addOption(new Option('--url <url>', URL_OPTION_HELP))
    .addOption(new Option('--env-key <key>', 'environment key [the data dir’s bootstrap.json]'))
    .addOption(
      new Option('-d, --data-dir <dir>', 'data dir whose bootstrap.json gives the key and token [./data]'),
    )
    .addOption(
      new Option('--views <n>', `views to send [${DEFAULT_VIEWS}]`).argParser(positiveInt('--views')),
    )
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
    .addOption(
      new Option('--live', 'play views as players do: --viewers in progress, heartbeats, for --duration'),
    )
    .addOption(
      new Option(
        '--viewers <n>',
        `with --live: views in progress to hold [${LIVE_DEFAULTS.viewers}]`,
      ).argParser(positiveInt('--viewers')),
    )
    .addOption(
      new Option('--duration <d>', 'with --live: how long, e.g. 90s, 2m, 1h [10m]').argParser(
        durationArg('--duration', 1000),
      ),
    )
    .addOption(
      new Option(
        '--ramp <d>',
        `with --live: spread the first views' starts over this [${LIVE.rampMs / 1000}s, at most half the duration]`,
      ).argParser(durationArg('--ramp', 0)),
    )
    .addOption(new Option('--token-id <id>', 'access token id, for --days (OPENQOE_TOKEN_ID)'))
    .addOption(
      new Option('--token-secret <secret>', 'access token secret, for --days (OPENQOE_TOKEN_SECRET)'),
    )
    .addHelpText(
      'after',
      '\nThe distribution of the views is stated in docs/generator.md. Examples:\n' +
        '  openqoe generate --views 5000                  views ending now, key from ./data/bootstrap.json\n' +
        '  openqoe generate --views 100000 --days 30      a month of history (admin token from bootstrap.json)\n' +
        '  openqoe generate --live --viewers 500 --duration 10m   500 viewers watching now, for 10 minutes',
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
  if (o.live) {
    if (o.days !== undefined)
      throw new CliError('--days and --live do not go together: live views happen now', 2);
    if (o.views !== undefined)
      throw new CliError(
        '--views is for views sent whole; with --live, --viewers sets the views in progress',
        2,
      );
  } else {
    const liveOnly = (['viewers', 'duration', 'ramp'] as const).find((k) => o[k] !== undefined);
    if (liveOnly) throw new CliError(`--${liveOnly} needs --live`, 2);
  }
  let authorization: string | undefined;
  if (o.days !== undefined) {
    const c = resolveCredentials({ ...o, url });
    authorization = `Basic ${Buffer.from(`${c.id}:${c.secret}`).toString('base64')}`;
  }
  const seed = o.seed ?? Math.floor(Math.random() * 0x1_0000_0000);
  const endpoint = `${url}/v1/beacon${authorization ? '?backfill=true' : ''}`;
  if (o.live) return generateLive(o, endpoint, envKey, seed);
  const runStartMs = Date.now();
  const days = o.days;
  const views = o.views ?? DEFAULT_VIEWS;

  const tally: Tally = { accepted: 0, refused: 0, failed: 0, retries: 0, firstProblem: '' };
  const progress = new Progress(views, process.stderr);
  const sending: SendContext = { authorization, tally, gate: new Gate(), restamp: false };
  let next = 0;
  let stopReason = '';
  const onSigint = () => {
    stopReason = 'interrupted';
  };
  process.once('SIGINT', onSigint);

  const worker = async () => {
    while (!stopReason && next < views) {
      const index = next++;
      // Views end now; backfilled ones start anywhere in the last D days (of when the run began).
      const toMs = days === undefined ? Date.now() : runStartMs;
      const fromMs = days === undefined ? toMs : runStartMs - days * DAY_MS;
      const view = syntheticView({ seed, index, envKey, fromMs, toMs });
      const r = await send(endpoint, view, sending);
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
  await Promise.all(Array.from({ length: Math.min(o.concurrency, views) }, worker));
  progress.stop();
  process.off('SIGINT', onSigint);

  const seconds = (Date.now() - runStartMs) / 1000;
  const sent = tally.accepted + tally.refused + tally.failed;
  process.stdout.write(
    `openqoe generate: sent ${sent} views in ${seconds.toFixed(1)} s (${Math.round(sent / seconds)} views/s): ` +
      `${tally.accepted} accepted, ${tally.refused} refused, ${tally.failed} failed, ${tally.retries} retries; ` +
      `seed ${seed}${days === undefined ? ', ending now' : `, backfill over ${days} days`}\n`,
  );
  if (tally.firstProblem) process.stderr.write(`openqoe generate: first problem: ${tally.firstProblem}\n`);
  if (stopReason === 'interrupted') process.exit(130);
  if (tally.refused > 0 || tally.failed > 0 || sent < views) process.exitCode = 1;
}

interface LiveTally extends Tally {
  beacons: number;
  rateLimited: number;
}

/**
 * `--live`: advances the run every LIVE.flushMs and sends what it hands out,
 * at most --concurrency requests in flight, in the order handed out. At the
 * end of --duration, or on the first Ctrl-C, the views in progress are ended
 * (their ends sent); a second Ctrl-C exits at once.
 */
async function generateLive(
  o: GenerateOptions,
  endpoint: string,
  envKey: string,
  seed: number,
): Promise<void> {
  const viewers = o.viewers ?? LIVE_DEFAULTS.viewers;
  const durationMs = o.duration ?? LIVE_DEFAULTS.durationMs;
  const rampMs = Math.min(o.ramp ?? LIVE.rampMs, durationMs / 2);
  const startMs = Date.now();
  const run = new LiveRun({ seed, envKey, viewers, startMs, durationMs, rampMs });
  const tally: LiveTally = {
    accepted: 0,
    refused: 0,
    failed: 0,
    retries: 0,
    firstProblem: '',
    beacons: 0,
    rateLimited: 0,
  };
  let lastLimitNoticeMs = 0;
  const sending: SendContext = {
    authorization: undefined,
    tally,
    gate: new Gate(),
    restamp: true,
    onRateLimited: (problem, waitMs) => {
      tally.rateLimited++;
      // Said once per 10 s: every request in flight meets the same limit.
      if (Date.now() - lastLimitNoticeMs < 10_000) return;
      lastLimitNoticeMs = Date.now();
      process.stderr.write(
        `openqoe generate: ${problem}: ${limitOf(problem)}; holding all sending for ${(waitMs / 1000).toFixed(1)} s\n`,
      );
    },
  };

  let stopReason = '';
  let wake = () => {};
  const onSigint = () => {
    if (stopReason === 'interrupted') process.exit(130);
    stopReason = 'interrupted';
    process.stderr.write('\nopenqoe generate: ending the views in progress (Ctrl-C again to quit at once)\n');
    wake();
  };
  process.on('SIGINT', onSigint);

  const queue: LiveBeacon[] = [];
  let inFlight = 0;
  let idle = () => {};
  const pump = () => {
    while (inFlight < o.concurrency && queue.length > 0) {
      const b = queue.shift()!;
      inFlight++;
      void send(endpoint, b, sending)
        .then((r) => {
          if (r.outcome === 'accepted') tally.accepted++;
          else {
            tally[r.outcome]++;
            tally.firstProblem ||= r.problem;
            if (r.status === 401 || r.status === 403 || r.status === 404) stopReason ||= r.problem;
          }
        })
        .finally(() => {
          inFlight--;
          pump();
          if (inFlight === 0 && queue.length === 0) idle();
        });
    }
  };

  // Beacons/s over the last 5 s of readings, so the rate follows the current traffic.
  const recent: [number, number][] = [];
  const progress = setInterval(
    () => {
      const now = Date.now();
      const elapsed = now - startMs;
      recent.push([now, tally.beacons]);
      while (recent.length > 2 && now - recent[0]![0] > 5000) recent.shift();
      const rate = ((tally.beacons - recent[0]![1]) * 1000) / Math.max(1, now - recent[0]![0]);
      const line =
        `live ${formatDuration(elapsed)}/${formatDuration(durationMs)}: ${run.inProgress}/${viewers} viewers in progress` +
        `${elapsed < rampMs ? ` (ramp to ${formatDuration(rampMs)})` : ''}, ` +
        `${rate.toFixed(1)} beacons/s, ${run.tally.started} views started, ` +
        `${tally.refused + tally.failed} errors, ${tally.rateLimited} rate-limited`;
      process.stderr.write(process.stderr.isTTY ? `\r\x1b[K${line}` : `generate: ${line}\n`);
    },
    process.stderr.isTTY ? 250 : 1000,
  );
  progress.unref();

  while (!run.done) {
    // A refused key, credentials or URL: every beacon would be refused the same way; nothing more is sent.
    if (stopReason && stopReason !== 'interrupted') break;
    const now = Date.now();
    const beacons = stopReason ? run.stop(now) : run.advance(now);
    tally.beacons += beacons.length;
    queue.push(...beacons);
    pump();
    if (run.done) break;
    // On the flush grid of the run's start, so beacons leave every LIVE.flushMs whatever sending took.
    await new Promise<void>((r) => {
      wake = r;
      setTimeout(r, LIVE.flushMs - ((Date.now() - startMs) % LIVE.flushMs));
    });
  }
  if (stopReason && stopReason !== 'interrupted') queue.length = 0;
  if (inFlight > 0 || queue.length > 0) await new Promise<void>((r) => (idle = r));
  clearInterval(progress);
  process.off('SIGINT', onSigint);
  if (process.stderr.isTTY) process.stderr.write('\n');

  const seconds = (Date.now() - startMs) / 1000;
  const t = run.tally;
  process.stdout.write(
    `openqoe generate: live for ${seconds.toFixed(1)} s at ${viewers} viewers (ramp ${formatDuration(rampMs)}): ` +
      `${t.started} views (${t.ended} ended by themselves, ${t.stopped} ended at the stop), ` +
      `${t.samples} samples and ${t.events} events in ${tally.beacons} beacons (${(tally.beacons / seconds).toFixed(1)} beacons/s): ` +
      `${tally.accepted} accepted, ${tally.refused} refused, ${tally.failed} failed, ${tally.retries} retries, ` +
      `${tally.rateLimited} rate-limited (429); seed ${seed}\n`,
  );
  if (tally.firstProblem) process.stderr.write(`openqoe generate: first problem: ${tally.firstProblem}\n`);
  if (stopReason === 'interrupted') process.exit(130);
  if (tally.refused > 0 || tally.failed > 0 || stopReason) process.exitCode = 1;
}

/** The server limit a 429 comes from, by its configuration key. */
function limitOf(problem: string): string {
  if (problem.includes('QOE_ERR_BACKLOG_FULL'))
    return 'the log is full (bus.maxBacklogBytes: the pipeline is behind)';
  if (problem.includes('Too many beacons from'))
    return 'the per-address rate limit (intake.rateLimit.perIpPerSecond, perIpBurst)';
  if (problem.includes('for this environment'))
    return 'the per-environment rate limit (intake.rateLimit.perEnvKeyPerSecond, perEnvKeyBurst)';
  return 'a limit the answer does not name';
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

/** A beacon and the headers it goes with (a SyntheticView or a LiveBeacon). */
interface Outgoing {
  beacon: Beacon;
  userAgent: string;
  forwardedFor: string;
}

interface SendContext {
  authorization: string | undefined;
  tally: { retries: number };
  gate: Gate;
  /** Set `sentAt` to the clock at each attempt (live: the items keep their device times however late they leave). */
  restamp: boolean;
  onRateLimited?: (problem: string, waitMs: number) => void;
}

/** One beacon's POST, retried on network errors, 429 (after its Retry-After) and 502–504, with backoff. */
async function send(endpoint: string, out: Outgoing, ctx: SendContext): Promise<SendResult> {
  const encode = async () => {
    const beacon = ctx.restamp ? { ...out.beacon, sentAt: Date.now() } : out.beacon;
    const json = Buffer.from(JSON.stringify(beacon));
    const compressed = json.length > GZIP_ABOVE_BYTES;
    const headers: Record<string, string> = {
      'content-type': 'text/plain',
      'user-agent': out.userAgent,
      'x-forwarded-for': out.forwardedFor,
      ...(compressed ? { 'content-encoding': 'gzip' } : {}),
      ...(ctx.authorization ? { authorization: ctx.authorization } : {}),
    };
    return { headers, body: compressed ? await gzip(json, { level: 1 }) : json };
  };
  // Encoded once, unless each attempt restamps it.
  const encoded = ctx.restamp ? undefined : await encode();
  const deadline = Date.now() + RETRY_BUDGET_MS;
  for (let attempt = 0; ; attempt++) {
    let status = 0;
    let retryAfterMs = 0;
    let problem: string;
    const release = await ctx.gate.pass();
    try {
      const res = await (async () => {
        const { headers, body } = encoded ?? (await encode());
        return fetch(endpoint, { method: 'POST', headers, body });
      })().finally(release);
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
    ctx.tally.retries++;
    if (status === 429 && retryAfterMs > 0) {
      // The server said when: every sender waits that long (the gate), then they go one at a time.
      ctx.gate.hold(Date.now() + retryAfterMs);
      ctx.onRateLimited?.(problem, retryAfterMs);
      continue;
    }
    // Exponential backoff with jitter, so retries after an outage do not arrive in one wave.
    await sleep(Math.min(10_000, 100 * 2 ** attempt) * (0.5 + Math.random() / 2));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** After a 429, requests go one at a time until this long has passed without another. */
const PACED_AFTER_429_MS = 10_000;

/**
 * Back-off shared by every sender: a 429 holds all of them until its
 * Retry-After, not only the one it answered, and then they go one request at
 * a time until PACED_AFTER_429_MS pass without a 429, so a rate limit paces
 * the senders instead of answering a wave of them 429 after each wait.
 */
class Gate {
  private untilMs = 0;
  private last429Ms = Number.NEGATIVE_INFINITY;
  private busy = false;

  /** Waits for the sender's turn; call the result when its request has been answered. */
  async pass(): Promise<() => void> {
    const paced = () => Date.now() - this.last429Ms < PACED_AFTER_429_MS;
    while (Date.now() < this.untilMs || (paced() && this.busy))
      await sleep(Math.max(20, this.untilMs - Date.now()));
    if (!paced()) return () => {};
    this.busy = true;
    return () => {
      this.busy = false;
    };
  }

  hold(untilMs: number): void {
    this.untilMs = Math.max(this.untilMs, untilMs);
    this.last429Ms = Date.now();
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
