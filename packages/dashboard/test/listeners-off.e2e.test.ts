/**
 * An optional listener that could not start is said above every page, in
 * the server's words: with the Mux-protocol intake's port taken by this
 * test, the notice names the listener, the port and the keys to change, on
 * every page until dismissed for the session. With every listener up (Mux
 * on a free port), there is no notice.
 */
import { createServer } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  launchChromium,
  openPage,
  pollPage,
  type ServerProcess,
  screenshot,
  signIn,
  startDashboardServer,
  stopServer,
} from './kit.js';

describe('dashboard: optional listeners that are off', () => {
  /** This test's socket on the port the Mux-protocol intake is then given. */
  const holder = createServer();
  const servers: ServerProcess[] = [];
  let browser: Browser;

  beforeAll(async () => {
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    browser = await launchChromium();
  });
  afterAll(async () => {
    for (const s of servers) await stopServer(s);
    await browser?.close();
    await new Promise<void>((r) => holder.close(() => r()));
  });

  /** Signs in on `path` once the app has read /healthz and rendered what it answered. */
  const signInAndReadHealth = async (server: ServerProcess, path: string) => {
    const { page, errors } = await openPage(browser);
    const health = page.waitForResponse((r) => new URL(r.url()).pathname === '/healthz');
    await signIn(page, server, path);
    const answer = (await (await health).json()) as { listeners_off: string[] };
    await afterRender(page);
    return { page, errors, answer };
  };

  it('the Mux-protocol port taken: a notice on every page names it, the port and what to change', async () => {
    const port = (holder.address() as { port: number }).port;
    const server = await startDashboardServer({ compat: { mux: { enabled: true, port } } });
    servers.push(server);
    const expected = `Mux-protocol intake is off: port ${port} on 127.0.0.1 is taken by another process; choose another port with compat.mux.port (OPENQOE_COMPAT__MUX__PORT), or set compat.mux.enabled to false (OPENQOE_COMPAT__MUX__ENABLED=false) to run without it`;

    const { page, errors, answer } = await signInAndReadHealth(server, '/ui/monitor');
    expect(answer.listeners_off).toEqual([expected]);
    const notice = page.locator('[data-testid=listeners-off]');
    await pollPage(
      () => notice.locator('li').allTextContents(),
      (t) => t.length > 0,
      'the notice',
    );
    expect(await notice.locator('li').allTextContents()).toEqual([expected]);
    await screenshot(page, 'listeners-off');

    // Another page keeps it: it belongs to the shell, not to Monitor.
    await page.locator('header nav a', { hasText: 'Views' }).click();
    await pollPage(
      async () => new URL(page.url()).pathname,
      (p) => p === '/ui/views',
      'the Views page',
    );
    expect(await notice.locator('li').allTextContents()).toEqual([expected]);

    // Dismissed, it stays away for the session, across a reload.
    await page.locator('[data-testid=listeners-off-dismiss]').click();
    await pollPage(
      () => notice.count(),
      (n) => n === 0,
      'the notice to go',
    );
    const again = page.waitForResponse((r) => new URL(r.url()).pathname === '/healthz');
    await page.reload();
    await page.locator('header nav').waitFor();
    await again;
    await afterRender(page);
    expect(await notice.count()).toBe(0);
    expect(errors).toEqual([]);
  });

  it('every optional listener up: no notice', async () => {
    const server = await startDashboardServer({ compat: { mux: { enabled: true, port: 0 } } });
    servers.push(server);
    const { page, errors, answer } = await signInAndReadHealth(server, '/ui/monitor');
    expect(answer.listeners_off).toEqual([]);
    expect(await page.locator('[data-testid=listeners-off]').count()).toBe(0);
    expect(errors).toEqual([]);
  });
});

/**
 * Lets the app render what /healthz answered: the browser has the whole body
 * (its resource timing entry is written then), and two frames pass for the
 * app to parse it and render.
 */
async function afterRender(page: Page): Promise<void> {
  await pollPage(
    async () =>
      (await page.evaluate(
        "performance.getEntriesByType('resource').some((e) => new URL(e.name).pathname === '/healthz' && e.responseEnd > 0)",
      )) as boolean,
    (got) => got,
    'the app to receive /healthz',
  );
  for (let i = 0; i < 2; i++)
    await page.evaluate('new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)))');
}
