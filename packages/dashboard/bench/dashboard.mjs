#!/usr/bin/env node
/**
 * `npm run bench:dashboard`: how soon the dashboard shows numbers, in a real
 * browser, over a large store.
 *
 * 1. Data: a data dir kept by `npm run bench:query -- --keep` (`--reuse DIR`),
 *    or one made here by running bench:query itself (`--views N`, its
 *    generation through the real intake, `--queries 5`, `--keep`).
 * 2. Starts `openqoe serve` on that dir with the config bench:query wrote
 *    there, and `openqoe generate --live` (`--viewers`) so Monitor, which
 *    shows views in progress only, has someone watching.
 * 3. Debian Chromium (playwright-core) at 1440×900, signed in as a returning
 *    user (token and environment in the browser's storage before the app
 *    starts). For Monitor, Metrics, Views and Errors: first loads, cold (a
 *    fresh profile: empty cache) and warm (the same page again in that
 *    profile), then each control of the page changed back and forth.
 *
 * What is timed, in the page's own clock (performance.now()):
 * - a first load: from navigation start to the first animation frame in
 *   which the page's meaningful content is there (PAGES[].meaningful below:
 *   its first chart has drawn a line from loaded data and its first numbers
 *   or table rows are shown), and to the frame in which every part of the
 *   page is filled (PAGES[].complete);
 * - a control change: from the input event (change, click or submit) to the
 *   first frame in which the content that control drives shows numbers
 *   again. The dashboard drops a part's numbers in the same render that
 *   changes its state (use-data.ts), so numbers shown after the input are
 *   the new state's; a chart counts once it has drawn loaded data after the
 *   input (its draw is mirrored on its element as `data-axes`).
 *
 * A page the dashboard does not have (no link in the navigation, e.g. Errors
 * before it lands) is reported as "not present", as is a control a page
 * lacks.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CHROMIUM,
  CLI,
  launchChromium,
  runNode,
  signedInContext,
  startServe,
  stop,
} from '../../../scripts/lib/server-driver.mjs';

const { values: args } = parseArgs({
  options: {
    views: { type: 'string', default: '1000000' },
    days: { type: 'string', default: '30' },
    seed: { type: 'string', default: '1' },
    reuse: { type: 'string' },
    keep: { type: 'boolean', default: false },
    reps: { type: 'string', default: '10' },
    viewers: { type: 'string', default: '300' },
    pages: { type: 'string', default: 'monitor,metrics,views,errors' },
    timeout: { type: 'string', default: '60' },
    'api-delay': { type: 'string', default: '0' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(`usage: npm run bench:dashboard -- [--reuse DIR | --views N [--days D] [--seed S] [--keep]] [options]
  --reuse DIR   time the dashboard on a data dir kept by \`npm run bench:query -- --keep\` (no generation)
  --views N     otherwise generate N views first, through bench:query (default 1000000)
  --days D      history the generated views are spread over (default 30)
  --seed S      generator seed (default 1)
  --keep        keep the generated data dir (its path is printed) for a later --reuse
  --reps R      repetitions of each first load and each control change (default 10)
  --viewers V   live viewers played during the run, so Monitor has views in progress (default 300)
  --pages P     comma-separated pages to time (default monitor,metrics,views,errors)
  --timeout S   seconds to wait for one load or change before counting it as timed out (default 60)
  --api-delay M check the bench itself: the browser holds every API answer M ms before the page gets
                it, so every load and change must come out at M ms or more (default 0: off)
Prints, per page, the median and p95 of the time to meaningful content (cold and warm first load)
and of each control change, against the targets: first load ≤ 1 s, change ≤ 300 ms.`);
  process.exit(0);
}
const REPS = Number(args.reps);
const VIEWERS = Number(args.viewers);
const TIMEOUT_MS = Number(args.timeout) * 1000;
const API_DELAY_MS = Number(args['api-delay']);
for (const [flag, v] of [
  ['--views', Number(args.views)],
  ['--days', Number(args.days)],
  ['--reps', REPS],
  ['--timeout', TIMEOUT_MS],
]) {
  if (!Number.isFinite(v) || v <= 0) {
    console.error(`bench:dashboard: ${flag} must be a positive number`);
    process.exit(2);
  }
}
if (!Number.isInteger(Number(args.seed))) {
  console.error('bench:dashboard: --seed must be a whole number');
  process.exit(2);
}
if (!(API_DELAY_MS >= 0)) {
  console.error('bench:dashboard: --api-delay must be 0 or more');
  process.exit(2);
}
if (!Number.isInteger(VIEWERS) || VIEWERS < 0) {
  console.error('bench:dashboard: --viewers must be a whole number (0: no live viewers)');
  process.exit(2);
}

const ROOT = new URL('../../../', import.meta.url).pathname;
const QUERY_BENCH = join(ROOT, 'packages/server/bench/query.mjs');
const FIRST_LOAD_TARGET_MS = 1000;
const CHANGE_TARGET_MS = 300;

const children = new Set();
/** A data dir this run generated (removed at the end unless --keep). */
let generatedDir;
let browser;

const log = (line) => console.log(line);
const load = () => loadavg()[0].toFixed(2);

const run = (argv, onLine) => runNode(children, argv, onLine);

/** bench:query's own generation (with --keep): the data dir it kept. */
async function generate() {
  log(`generating ${args.views} views over ${args.days} days with bench:query (its progress follows)…`);
  let kept;
  const q = run(
    [
      QUERY_BENCH,
      ...['--views', args.views, '--days', args.days, '--seed', args.seed, '--queries', '5', '--keep'],
    ],
    (line) => {
      kept = /^data dir kept: (.+)$/.exec(line)?.[1] ?? kept;
      log(`  bench:query │ ${line}`);
    },
  );
  const code = await q.exited;
  children.delete(q.child);
  if (kept) generatedDir = kept;
  if (code !== 0 || !kept) throw new Error(`bench:query exited with ${code}`);
  return kept;
}

function startServer(dir) {
  const config = join(dir, 'bench-config.json');
  return startServe(children, dir, existsSync(config) ? config : undefined);
}

// ---------------------------------------------------------------------------
// In the page: what each page's content is, and when it first shows.

/**
 * Installed before the app's scripts (addInitScript): records every chart
 * draw and the first input after `arm()`, evaluates every check once per
 * animation frame keeping the frame each first held in, and `poll(names)`
 * hands those times to the bench.
 */
function pageProbe() {
  const draws = [];
  const digit = (el) => el !== null && /\d/.test(el.textContent ?? '');
  const rows = (sel) => [...document.querySelectorAll(`${sel} tbody tr`)].filter(digit).length;
  new MutationObserver((records) => {
    for (const r of records) {
      let axes = [];
      try {
        axes = JSON.parse(r.target.getAttribute('data-axes') ?? '[]');
      } catch {}
      // A chart with loaded data has an x range; one drawn from no data has none.
      const x = axes[0];
      draws.push({
        el: r.target,
        at: performance.now(),
        data: x != null && x.min != null && x.max != null && x.max > x.min,
      });
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-axes'] });
  const drewSince = (sel, since) => {
    const el = document.querySelector(sel);
    return el !== null && draws.some((d) => d.el === el && d.data && d.at > since);
  };
  /** The content each check waits for, from `since` (0: navigation start; else the input). */
  const CHECKS = {
    monitorMeaningful: (s) =>
      drewSince('[data-testid=monitor-chart]', s) &&
      /[1-9]/.test(
        document.querySelector('[data-testid=value-current_concurrent_viewers]')?.textContent ?? '',
      ) &&
      rows('.breakdowns .breakdown:first-child') > 0,
    monitorComplete: (s) =>
      CHECKS.monitorMeaningful(s) &&
      document.querySelector('[data-testid=startup-histogram]') !== null &&
      [...document.querySelectorAll('.breakdowns .breakdown')].every(
        (b) => rows(`[data-testid=${b.dataset.testid}]`) > 0,
      ),
    monitorLead: () => rows('.breakdowns .breakdown:first-child') > 0,
    metricsMeaningful: (s) =>
      drewSince('[data-testid=metric-chart]', s) && digit(document.querySelector('[data-testid=overall]')),
    metricsComplete: (s) =>
      CHECKS.metricsMeaningful(s) &&
      [...document.querySelectorAll('[data-testid^=score-] .value')].every(digit) &&
      rows('.page.metrics [data-testid^=breakdown-]') > 0 &&
      rows('[data-testid=startup-distribution]') > 0,
    metricsBreakdown: () => rows('.page.metrics [data-testid^=breakdown-]') > 0,
    viewsMeaningful: () => rows('[data-testid=views-table]') > 0,
    errorsMeaningful: () => rows('main') > 0,
  };
  // Every frame from the first, each check is evaluated and the first frame it held in is kept: the
  // time does not depend on when the bench's driver gets round to asking.
  const probe = {
    /** 0 for a first load (navigation start); else the input's time once it came, null while armed. */
    since: 0,
    armed: false,
    firstHeld: {},
    arm() {
      probe.armed = true;
      probe.since = null;
      probe.firstHeld = {};
    },
    /**
     * Undefined until every check in `names` has held; then how long after `since` each first did, and
     * when the last API answer before it had arrived (what of the wait was the server's and the network's).
     */
    poll(names) {
      if (document.querySelector('input[name=token-id]')) return { signedOut: true };
      const since = probe.since;
      if (since === null || !names.every((n) => probe.firstHeld[n] !== undefined)) return undefined;
      const answers = performance
        .getEntriesByType('resource')
        .filter((e) => e.name.includes('/data/v1/') && e.startTime >= since);
      const apiBy = (t) =>
        Math.max(0, ...answers.filter((e) => e.responseEnd <= t).map((e) => e.responseEnd - since));
      return Object.fromEntries(
        names.map((n) => [n, { ms: probe.firstHeld[n] - since, api: apiBy(probe.firstHeld[n]) }]),
      );
    },
  };
  // Monitor refreshes every few seconds: keep every request's timing, not the default 250.
  performance.setResourceTimingBufferSize(1_000_000);
  const frame = () => {
    if (probe.since !== null) {
      const now = performance.now();
      for (const [n, check] of Object.entries(CHECKS))
        if (probe.firstHeld[n] === undefined && check(probe.since)) probe.firstHeld[n] = now;
    }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  for (const type of ['change', 'click', 'submit'])
    addEventListener(
      type,
      () => {
        if (!probe.armed) return;
        probe.armed = false;
        probe.since = performance.now();
      },
      true,
    );
  window.__benchProbe = probe;
}

/** Waits until the page's probe has seen `names` hold; how long each took in ms, or why not. */
async function waitChecks(page, names) {
  try {
    const handle = await page.waitForFunction((n) => window.__benchProbe.poll(n), names, {
      polling: 100,
      timeout: TIMEOUT_MS,
    });
    const v = await handle.jsonValue();
    if (v.signedOut) throw new Error('the page asks to sign in: the token was not accepted');
    return v;
  } catch (err) {
    if (/Timeout/i.test(String(err))) return `no content within ${TIMEOUT_MS / 1000} s`;
    throw err;
  }
}

// ---------------------------------------------------------------------------
// The pages, their content and their controls.

/**
 * Each page: its path, the checks for a first load, and its controls. A
 * control is two inputs applied in turn (so every repetition is a change)
 * and the checks the content it drives must pass after the input. An input
 * calls `arm()` right before the action it times; `setup` puts the page in
 * the state the control needs (untimed).
 */
const select = (sel, value) => async (p, arm) => {
  await arm();
  await p.locator(sel).first().selectOption(value);
};
const click = (sel) => async (p, arm) => {
  await arm();
  await p.locator(sel).first().click();
};
const CLEAR_FILTERS = '[data-testid=filters] button.link';
/** The Views page's timeframe: a bare select in its toolbar, or (with the Errors page's work) a test id. */
const VIEWS_TIMEFRAME = '.page.views [data-testid=timeframe], .page.views .toolbar select';

const PAGES = [
  {
    id: 'monitor',
    label: 'Monitor',
    meaningful: 'monitorMeaningful',
    complete: 'monitorComplete',
    controls: {
      // Real time: no timeframe (always the last 30 minutes) and no breakdown picker (every breakdown is shown).
      metric: {
        inputs: [
          click('[data-testid=headline-video_startup_time]'),
          click('[data-testid=headline-current_rebuffering_percentage]'),
        ],
        checks: ['monitorLead'],
      },
      measurement: {
        setup: click('[data-testid=headline-video_startup_time]'),
        inputs: [select('[data-testid=measurement]', 'p95'), select('[data-testid=measurement]', 'median')],
        checks: ['monitorLead'],
      },
      filter: {
        inputs: [click('.breakdowns .breakdown:first-child tbody tr'), click(CLEAR_FILTERS)],
        checks: ['monitorMeaningful'],
      },
    },
  },
  {
    id: 'metrics',
    label: 'Metrics',
    meaningful: 'metricsMeaningful',
    complete: 'metricsComplete',
    controls: {
      timeframe: {
        inputs: [select('[data-testid=timeframe]', '7:days'), select('[data-testid=timeframe]', '24:hours')],
        checks: ['metricsMeaningful'],
      },
      metric: {
        inputs: [
          select('[data-testid=metric]', 'rebuffer_percentage'),
          select('[data-testid=metric]', 'video_startup_time'),
        ],
        checks: ['metricsMeaningful', 'metricsBreakdown'],
      },
      measurement: {
        inputs: [select('[data-testid=measurement]', '95th'), select('[data-testid=measurement]', 'median')],
        checks: ['metricsMeaningful', 'metricsBreakdown'],
      },
      breakdown: {
        inputs: [
          select('[data-testid=dimension]', 'browser'),
          select('[data-testid=dimension]', 'operating_system'),
        ],
        checks: ['metricsBreakdown'],
      },
      filter: {
        inputs: [click('.page.metrics [data-testid^=breakdown-] tbody tr'), click(CLEAR_FILTERS)],
        checks: ['metricsMeaningful', 'metricsBreakdown'],
      },
    },
  },
  {
    id: 'views',
    label: 'Views',
    meaningful: 'viewsMeaningful',
    complete: 'viewsMeaningful',
    controls: {
      timeframe: {
        inputs: [select(VIEWS_TIMEFRAME, '7:days'), select(VIEWS_TIMEFRAME, '24:hours')],
        checks: ['viewsMeaningful'],
      },
      filter: {
        inputs: [
          async (p, arm) => {
            // fill() types without a change event: the Enter (the form's submit) is the input timed.
            await p.getByTestId('search').fill('stream_type:vod');
            await arm();
            await p.getByTestId('search').press('Enter');
          },
          click(CLEAR_FILTERS),
        ],
        checks: ['viewsMeaningful'],
      },
    },
  },
  {
    // The Errors page (issue 23): timed once the dashboard links to it. Its markup is read generically:
    // meaningful = a table row with a number in it; its timeframe = the page's select offering "7:days".
    id: 'errors',
    label: 'Errors',
    meaningful: 'errorsMeaningful',
    complete: 'errorsMeaningful',
    controls: {
      timeframe: {
        inputs: [
          select('main select:has(option[value="7:days"])', '7:days'),
          select('main select:has(option[value="7:days"])', '24:hours'),
        ],
        checks: ['errorsMeaningful'],
      },
    },
  },
];
const ALL_CONTROLS = ['timeframe', 'metric', 'measurement', 'breakdown', 'filter'];

// ---------------------------------------------------------------------------

const quantile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
const ms = (v) => (v === undefined ? '-' : `${Math.round(v)} ms`);

/** One result row: samples in ms, failures counted. */
function summarize(samples, failures) {
  const s = [...samples].sort((a, b) => a - b);
  return {
    n: s.length,
    failures,
    min: s[0],
    median: quantile(s, 0.5),
    p95: quantile(s, 0.95),
    max: s.at(-1),
  };
}

async function newSignedInPage(url, bootstrap) {
  const context = await signedInContext(browser, bootstrap);
  context.setDefaultTimeout(TIMEOUT_MS);
  await context.addInitScript(pageProbe);
  if (API_DELAY_MS > 0)
    await context.route('**/data/v1/**', async (route) => {
      await new Promise((r) => setTimeout(r, API_DELAY_MS));
      await route.continue();
    });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { context, page, errors, url };
}

/** Loads `path` and times its content from navigation start. */
async function timedLoad(session, spec) {
  await session.page.goto(`${session.url}/ui/${spec.id}`, { waitUntil: 'commit' });
  return waitChecks(session.page, [spec.meaningful, spec.complete]);
}

async function present(session, spec) {
  await session.page.goto(`${session.url}/ui/`);
  await session.page.locator('header nav').waitFor();
  return (await session.page.locator(`header nav a[href="/ui/${spec.id}"]`).count()) > 0;
}

async function benchPage(url, bootstrap, spec, results) {
  const probe = await newSignedInPage(url, bootstrap);
  const here = await present(probe, spec);
  await probe.context.close();
  if (!here) {
    log(`${spec.label}: not present (no link in the dashboard's navigation)`);
    results.push({ page: spec.label, what: 'first load', absent: 'not present' });
    return;
  }

  // First loads: a fresh profile each repetition (cold), then the same page again in it (warm).
  const loads = { cold: { m: [], c: [], a: [], f: 0 }, warm: { m: [], c: [], a: [], f: 0 } };
  for (let i = 0; i < REPS; i++) {
    const session = await newSignedInPage(url, bootstrap);
    for (const kind of ['cold', 'warm']) {
      const r = await timedLoad(session, spec);
      if (typeof r === 'string') {
        loads[kind].f++;
        log(`  ${spec.label} ${kind} load ${i + 1}: ${r}`);
        continue;
      }
      loads[kind].m.push(r[spec.meaningful].ms);
      loads[kind].c.push(r[spec.complete].ms);
      loads[kind].a.push(r[spec.meaningful].api);
    }
    if (session.errors.length) log(`  ${spec.label}: page errors: ${session.errors.join('; ')}`);
    await session.context.close();
    log(
      `${spec.label} first load ${i + 1}/${REPS}: cold ${ms(loads.cold.m.at(-1))} (all ${ms(loads.cold.c.at(-1))}),` +
        ` warm ${ms(loads.warm.m.at(-1))} (all ${ms(loads.warm.c.at(-1))})`,
    );
  }
  for (const kind of ['cold', 'warm']) {
    results.push({
      page: spec.label,
      what: `first load, ${kind}`,
      target: FIRST_LOAD_TARGET_MS,
      ...summarize(loads[kind].m, loads[kind].f),
      complete: summarize(loads[kind].c, 0),
      api: summarize(loads[kind].a, 0),
    });
  }

  // Control changes: one profile, the page loaded once, each control's two inputs in turn.
  for (const name of ALL_CONTROLS) {
    const control = spec.controls[name];
    if (!control) {
      results.push({ page: spec.label, what: name, absent: 'no such control' });
      continue;
    }
    const session = await newSignedInPage(url, bootstrap);
    const loaded = await timedLoad(session, spec);
    if (typeof loaded === 'string') throw new Error(`${spec.label} did not load: ${loaded}`);
    if (control.setup) {
      await control.setup(session.page, () => session.page.evaluate(() => window.__benchProbe.arm()));
      await waitChecks(session.page, control.checks);
    }
    const samples = [];
    const api = [];
    let failures = 0;
    let absent;
    for (let i = 0; i < REPS && !absent; i++) {
      const input = control.inputs[i % 2];
      try {
        await input(session.page, () => session.page.evaluate(() => window.__benchProbe.arm()));
      } catch (err) {
        // The control is not on this page (e.g. a timecompare or Errors layout without it).
        absent = `control not found (${String(err.message).split('\n')[0]})`;
        break;
      }
      const r = await waitChecks(session.page, control.checks);
      if (typeof r === 'string') {
        failures++;
        log(`  ${spec.label} ${name} change ${i + 1}: ${r}`);
      } else {
        // The change is done when the last part it drives is: that part's time, and its API answers.
        const last = Object.values(r).reduce((a, b) => (b.ms > a.ms ? b : a));
        samples.push(last.ms);
        api.push(last.api);
      }
    }
    if (session.errors.length) log(`  ${spec.label}: page errors: ${session.errors.join('; ')}`);
    await session.context.close();
    if (absent) {
      log(`${spec.label} ${name}: ${absent}`);
      results.push({ page: spec.label, what: name, absent });
      continue;
    }
    const row = {
      page: spec.label,
      what: name,
      target: CHANGE_TARGET_MS,
      ...summarize(samples, failures),
      api: summarize(api, 0),
    };
    results.push(row);
    log(`${spec.label} ${name}: ${row.n} changes, median ${ms(row.median)}, p95 ${ms(row.p95)}`);
  }
}

function printResults(results, meta) {
  log(
    `\ndashboard timings: ${meta.views} views over ${meta.days} days, ${live ? VIEWERS : 0} live viewers, ${REPS} repetitions, Chromium 1440×900`,
  );
  log(
    '(API: median time by which the API answers the content waited for had arrived; all parts: first loads only)',
  );
  const cols = ['n', 'min', 'median', 'p95', 'max', 'API', 'all parts'];
  const widths = [3, 9, 9, 9, 9, 9, 20];
  const line = (head, cells, tail) =>
    log(`${head}${cells.map((c, i) => String(c).padStart(widths[i])).join('')}  ${tail}`);
  line(`${'page'.padEnd(9)}${'what'.padEnd(19)}`, cols, 'target');
  for (const r of results) {
    const head = `${r.page.padEnd(9)}${r.what.padEnd(19)}`;
    if (r.absent) {
      log(`${head}  ${r.absent}`);
      continue;
    }
    const verdict =
      r.n === 0
        ? 'no sample'
        : r.p95 <= r.target && r.failures === 0
          ? 'met'
          : r.median <= r.target
            ? 'median met, p95 MISSED'
            : 'MISSED';
    const fails = r.failures ? `, ${r.failures} timed out` : '';
    const all = r.complete ? `${ms(r.complete.median)} / ${ms(r.complete.p95)}` : '';
    line(
      head,
      [r.n, ms(r.min), ms(r.median), ms(r.p95), ms(r.max), ms(r.api?.median), all],
      `≤ ${r.target} ms: ${verdict}${fails}`,
    );
  }
}

/** Monitor shows views in progress: wait until most of the live viewers are playing. */
async function waitForViewers(url, bootstrap) {
  const t = bootstrap.access_token;
  const headers = { authorization: `Basic ${Buffer.from(`${t.id}:${t.secret}`).toString('base64')}` };
  const path = `/data/v1/monitoring/metrics/current_concurrent_viewers/timeseries?environment_id=${bootstrap.environment.id}`;
  const started = Date.now();
  let shown = 0;
  for (;;) {
    if (live.child.exitCode !== null)
      throw new Error(`openqoe generate --live exited:\n${liveOutput.join('\n')}`);
    const res = await fetch(`${url}${path}`, { headers });
    const viewers = res.ok ? ((await res.json()).data.at(-1)?.value ?? 0) : 0;
    if (viewers >= VIEWERS * 0.9) return log(`live viewers: ${viewers} in progress`);
    if (Date.now() - started > 10 * 60_000) throw new Error(`only ${viewers} live viewers after 10 minutes`);
    if (Date.now() - shown >= 5000) {
      shown = Date.now();
      log(`live viewers: ${viewers} of ${VIEWERS} so far…`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

let server;
let live;
/** The live generator's last lines, for when it fails. */
const liveOutput = [];
async function cleanup() {
  await browser?.close().catch(() => {});
  for (const c of [live?.child, server?.child]) if (c) await stop(c);
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  if (generatedDir) {
    if (args.keep) log(`data dir kept: ${generatedDir}`);
    else rmSync(generatedDir, { recursive: true, force: true });
  }
}
process.on('SIGINT', () => {
  void cleanup().then(() => process.exit(130));
});

try {
  log(
    `machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, node ${process.version}, load average ${load()}`,
  );
  const wanted = args.pages.split(',').map((p) => p.trim());
  const unknown = wanted.filter((p) => !PAGES.some((s) => s.id === p));
  if (unknown.length)
    throw new Error(`unknown page ${unknown.join(', ')} (known: ${PAGES.map((s) => s.id)})`);
  const dir = args.reuse ?? (await generate());
  const metaFile = join(dir, 'bench-query.json');
  if (!existsSync(metaFile))
    throw new Error(
      `${dir} holds no bench-query.json: pass a data dir kept by \`npm run bench:query -- --keep\``,
    );
  const meta = JSON.parse(readFileSync(metaFile, 'utf8'));
  const ageHours = (Date.now() - meta.genStartMs) / 3_600_000;
  log(
    `data: ${meta.views} views over ${meta.days} days, generated ${new Date(meta.genStartMs).toISOString()} in ${dir}`,
  );
  if (ageHours > 12)
    log(
      `  note: generated ${ageHours.toFixed(0)} h ago; the pages' default "last 24 hours" holds fewer of its views than right after generation`,
    );

  server = await startServer(dir);
  const url = server.url;
  const bootstrap = JSON.parse(readFileSync(join(dir, 'bootstrap.json'), 'utf8'));
  log(`server: ${url}`);
  if (VIEWERS > 0 && wanted.includes('monitor')) {
    log(`live viewers: ${VIEWERS} views in progress played through the intake (openqoe generate --live)`);
    live = run(
      [CLI, 'generate', '--live', '--viewers', String(VIEWERS), '--duration', '6h', '--ramp', '10s'].concat([
        '--url',
        url,
        '--data-dir',
        dir,
        '--seed',
        String(Number(args.seed) + 1),
      ]),
      (line) => liveOutput.push(line) > 20 && liveOutput.shift(),
    );
  }
  if (live) await waitForViewers(url, bootstrap);
  browser = await launchChromium();
  log(`browser: ${CHROMIUM} ${browser.version()}, ${REPS} repetitions per load and per change`);
  if (API_DELAY_MS > 0) log(`self-check: every API answer held ${API_DELAY_MS} ms in the browser`);

  const results = [];
  for (const spec of PAGES.filter((s) => wanted.includes(s.id))) {
    log(`\n${spec.label} (load average ${load()})`);
    await benchPage(url, bootstrap, spec, results);
  }
  log(`\nload average at the end: ${load()}`);
  printResults(results, meta);
} catch (err) {
  console.error(`bench:dashboard: ${err.message}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
