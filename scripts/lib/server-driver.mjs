/**
 * What the scripts that drive a real server from outside share
 * (`npm run screenshots`, `npm run bench:dashboard`): node children whose
 * output comes by line, stopping them, `openqoe serve` on a free port,
 * Chromium, and a browser context signed in as a returning user.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const CLI = join(new URL('../../', import.meta.url).pathname, 'packages/server/dist/cli.js');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Debian Chromium, headless. The scripts' own signal handlers stop everything in order; Playwright's would exit first. */
export function launchChromium() {
  return chromium.launch({
    executablePath: CHROMIUM,
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
    ],
  });
}

/** Spawns `node argv…` into `children`; its output lines go to `onLine`; `exited` resolves with its exit code. */
export function runNode(children, argv, onLine) {
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let rest = '';
  const feed = (d) => {
    // A progress bar redraws with \r: each redraw is a line of its own.
    const lines = (rest + d.toString()).split(/\r?\n|\r/);
    rest = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  };
  child.stdout.on('data', feed);
  child.stderr.on('data', feed);
  const exited = new Promise((r) => child.once('exit', (code, signal) => r(code ?? signal)));
  return { child, exited };
}

/** SIGTERM, then SIGKILL if it is still there 30 s later; resolves once it has exited. */
export async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

/** `openqoe serve` on a free port over `dataDir` (with `config` if given); resolves once it listens. */
export function startServe(children, dataDir, config) {
  let out = '';
  const server = runNode(
    children,
    [CLI, 'serve', '--port', '0', '--data-dir', dataDir, ...(config ? ['--config', config] : [])],
    (line) => {
      out += `${line}\n`;
    },
  );
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearInterval(timer);
        resolve({ ...server, url: m[1].replace('localhost', '127.0.0.1'), output: () => out });
      }
    }, 100);
    void server.exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`server exited (${code}):\n${out.slice(-2000)}`));
    });
  });
}

/**
 * A 1440×900 browser context of a returning user: signed in with the
 * bootstrap's admin token and on its environment, as the app stores them
 * after a sign-in, so pages open without the sign-in page.
 */
export async function signedInContext(browser, bootstrap, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, ...options });
  const token = JSON.stringify({ id: bootstrap.access_token.id, secret: bootstrap.access_token.secret });
  await context.addInitScript(
    ([t, env]) => {
      sessionStorage.setItem('openqoe.token', t);
      localStorage.setItem('openqoe.environment', env);
    },
    [token, bootstrap.environment.id],
  );
  return context;
}
