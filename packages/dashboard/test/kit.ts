/**
 * What the dashboard's browser tests share: the built app (built once if
 * missing), the real server CLI with short timers, Debian Chromium, signing
 * in through the sign-in page, screenshots, and reading what a page shows.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../../collector/test/e2e/kit/browser.js';
import { patience, settled } from '../../server/test/helpers/patience.js';
import {
  removeDir,
  type ServerProcess,
  startServer,
  TEST_CONFIG,
  waitFor,
} from '../../server/test/helpers/server-process.js';

export { launchChromium, patience, removeDir, type ServerProcess, settled, startServer, waitFor };

export const DASHBOARD_DIR = resolve(import.meta.dirname, '..');
export const DIST_DIR = join(DASHBOARD_DIR, 'dist');
const ROOT = resolve(DASHBOARD_DIR, '../..');
export const SCREENSHOT_DIR = join(ROOT, 'test-results', 'screenshots');

/**
 * `npm test` builds the app first; a test file run alone builds it when
 * dist/ is missing. Files run in parallel: each builds into its own temp dir
 * and the first to finish renames it into place, so no page ever loads a
 * half-written build.
 */
export function ensureBuilt(): void {
  if (existsSync(join(DIST_DIR, 'index.html'))) return;
  const tmp = mkdtempSync(join(DASHBOARD_DIR, '.build-'));
  try {
    // Vitest sets NODE_ENV=test, which would make Vite build a development bundle.
    const env = { ...process.env, NODE_ENV: 'production', OPENQOE_DASHBOARD_OUT_DIR: tmp };
    execFileSync(
      process.execPath,
      [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'],
      {
        cwd: DASHBOARD_DIR,
        env,
        stdio: 'inherit',
      },
    );
    execFileSync(process.execPath, [join(DASHBOARD_DIR, 'compress.mjs')], { env, stdio: 'inherit' });
    if (!existsSync(join(DIST_DIR, 'index.html'))) {
      rmSync(DIST_DIR, { recursive: true, force: true });
      renameSync(tmp, DIST_DIR);
    }
  } catch (err) {
    // Another file's build won the rename: use it.
    if (!existsSync(join(DIST_DIR, 'index.html'))) throw err;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Short timers: views complete 2 s after their last beacon, so a test reads them through the API soon. */
export const DASHBOARD_TEST_CONFIG = {
  ...TEST_CONFIG,
  views: { idleCompleteMs: 2000, tickIntervalMs: 250 },
};

export async function startDashboardServer(config: Record<string, unknown> = {}): Promise<ServerProcess> {
  ensureBuilt();
  return startServer({ config: { ...DASHBOARD_TEST_CONFIG, ...config } });
}

export async function stopServer(server: ServerProcess | undefined): Promise<void> {
  if (!server) return;
  await server.kill();
  removeDir(server.dataDir);
}

/** A fresh context (empty storage) and page; the page's script errors are collected for assertions. */
export async function openPage(browser: Browser): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { page, errors };
}

/** Signs in through the sign-in page with the server's admin token. */
export async function signIn(page: Page, server: ServerProcess, path = '/ui/'): Promise<void> {
  const t = server.bootstrap().access_token;
  await page.goto(`${server.url}${path}`);
  await page.locator('input[name=token-id]').fill(t.id);
  await page.locator('input[name=token-secret]').fill(t.secret);
  await page.locator('button[type=submit]').click();
  await page.locator('header nav').waitFor();
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** Polls `read` (what the page shows) until `ok` holds; returns the last reading (`timeoutMs`: idle-machine time, scaled). */
export async function pollPage<T>(
  read: () => Promise<T>,
  ok: (v: T) => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const last = await settled(read, ok, timeoutMs);
  if (!ok(last)) throw new Error(`timed out waiting for ${what} (last shown: ${JSON.stringify(last)})`);
  return last;
}

/**
 * An instant's calendar parts (year, month, day, hour, minute, second,
 * timeZoneName as `GMT+1`) in a time zone, computed with Intl, independently
 * of the app's own formatting: what a page in that zone must show.
 */
export function zoneParts(ms: number, timeZone: string): Record<string, string> {
  return Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'shortOffset',
    })
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  );
}

/** The leading number of a shown value such as "25%", "1,234" or "820 ms". */
export function shownNumber(text: string | null): number {
  const m = /-?[\d,]*\.?\d+/.exec(text ?? '');
  return m ? Number(m[0].replace(/,/g, '')) : Number.NaN;
}

/** Real-time tests: a tick a second, and views in progress kept 15 s past their last heartbeat. */
export const REALTIME_CONFIG = {
  realtime: { tickMs: 1000 },
  views: { idleCompleteMs: 15_000, tickIntervalMs: 250 },
};

/** The number a Monitor headline card shows for a metric. */
export async function shownHeadline(page: Page, metric: string): Promise<number> {
  return shownNumber(await page.getByTestId(`value-${metric}`).textContent());
}
