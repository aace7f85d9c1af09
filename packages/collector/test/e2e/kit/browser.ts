/**
 * Debian Chromium driven by playwright-core (no browser download): headless,
 * no GPU, autoplay allowed, a fresh profile per launch. One browser per test
 * file; one context (profile state) per test. Each browser is closed after
 * its test file even if the file did not close it, and playwright's waits
 * (its 30 s default for actions and navigations) scale with the machine.
 */
import { type Browser, type BrowserContext, chromium } from 'playwright-core';
import { patience } from '../../../../server/test/helpers/patience.js';
import { trackBrowser } from '../../../../server/test/helpers/processes.js';

/** playwright's defaults, taken as idle-machine times: actions and navigations, and a launch. */
const IDLE_ACTION_TIMEOUT_MS = 30_000;
const IDLE_LAUNCH_TIMEOUT_MS = 180_000;

export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
];

export async function launchChromium(): Promise<Browser> {
  // playwright gives each launch its own temporary --user-data-dir.
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    headless: true,
    timeout: patience(IDLE_LAUNCH_TIMEOUT_MS),
  });
  // Every context, however a test makes it (newPage makes one too), gets the scaled default timeout.
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (options) => {
    const context = await newContext(options);
    context.setDefaultTimeout(patience(IDLE_ACTION_TIMEOUT_MS));
    return context;
  };
  return trackBrowser(browser);
}

export async function newContext(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({ viewport: { width: 800, height: 600 } });
}
