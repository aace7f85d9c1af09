/**
 * Every process a test starts is stopped, on every path. Helpers start their
 * children with `spawnTracked` (or hand them to `track`), browsers with
 * `trackBrowser`; what a test did not stop is stopped
 *
 * - by `stopLeftovers()`, which the suite's setup file runs after each test
 *   file's own hooks (a start that timed out, a test that failed before it
 *   stopped its server, a `Promise.all` start where the other half failed);
 * - when the worker ends: on `exit`, and on SIGTERM / SIGINT / SIGHUP —
 *   vitest stops a worker with SIGTERM, which by default ends a Node process
 *   without running its `exit` handlers, so those alone never ran;
 * - when vitest itself goes (it exits on SIGTERM without stopping its
 *   workers): the worker's IPC channel closes, and the worker ends as on SIGTERM;
 * - when the worker is killed outright (SIGKILL, out of memory): on Linux,
 *   children are started through `setpriv --pdeathsig SIGKILL`, so the kernel
 *   kills them when the worker goes.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

interface Closable {
  what: string;
  close(): Promise<void>;
}

interface Registry {
  children: Map<ChildProcess, string>;
  closables: Set<Closable>;
}

// One registry per process, even if this module is evaluated again (vitest re-imports modules per file).
const KEY = Symbol.for('openqoe.test.processes');
const globals = globalThis as { [KEY]?: Registry };
if (!globals[KEY]) globals[KEY] = installRegistry();
const registry: Registry = globals[KEY];

function killAllNow(): void {
  for (const child of registry.children.keys()) {
    try {
      child.kill('SIGKILL');
    } catch {}
  }
}

function installRegistry(): Registry {
  const r: Registry = { children: new Map(), closables: new Set() };
  process.on('exit', killAllNow);
  const end = (signal: 'SIGTERM' | 'SIGINT' | 'SIGHUP') => {
    killAllNow();
    // vitest replaces process.exit in its workers (it throws there), and a signal's default
    // action skips `exit` handlers: run them here (playwright kills its browsers in one), then
    // end the way the signal would have, with no handler left in the way.
    process.emit('exit', 128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const)[signal]);
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  };
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(signal, () => end(signal));
  // A vitest worker whose runner went away (vitest exits on SIGTERM without stopping its workers)
  // would otherwise run its test, and the servers it started, to the end.
  if (process.send) process.once('disconnect', () => end('SIGTERM'));
  return r;
}

const alive = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

/** Registers a child so that it is killed if the test does not stop it. */
export function track<T extends ChildProcess>(child: T, what: string): T {
  if (!alive(child)) return child;
  registry.children.set(child, what);
  const forget = () => registry.children.delete(child);
  child.once('exit', forget);
  // A child that could not be started emits `error` and no `exit`.
  child.once('error', () => {
    if (child.pid === undefined) forget();
  });
  return child;
}

/** Registers something to close if the test did not (a browser). */
export function trackClosable(what: string, close: () => Promise<void>): () => void {
  const entry: Closable = { what, close };
  registry.closables.add(entry);
  return () => registry.closables.delete(entry);
}

/** A playwright browser, closed if the test does not close it. */
export function trackBrowser<
  B extends { close(): Promise<void>; on(event: 'disconnected', f: () => void): unknown },
>(browser: B, what = 'chromium'): B {
  const forget = trackClosable(what, () => browser.close());
  browser.on('disconnected', forget);
  return browser;
}

function onPath(command: string): boolean {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {}
  }
  return false;
}

let pdeathsig: boolean | undefined;
/** Whether children can be tied to this process's life (Linux with util-linux's setpriv). */
function canTieToParent(): boolean {
  pdeathsig ??= process.platform === 'linux' && onPath('setpriv');
  return pdeathsig;
}

/**
 * `spawn`, tracked, and on Linux tied to this process: the kernel kills the
 * child with SIGKILL when this process dies, however it dies. setpriv execs
 * the command, so the child's pid is the command's.
 */
export function spawnTracked(
  command: string,
  args: readonly string[],
  options: SpawnOptions,
  what = command,
): ChildProcess {
  const child = canTieToParent()
    ? spawn('setpriv', ['--pdeathsig', 'SIGKILL', '--', command, ...args], options)
    : spawn(command, args, options);
  return track(child, what);
}

/** Stops a child: `signal`, then SIGKILL if it has not exited after `graceMs`; resolves once it has exited. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL', graceMs = 5000) {
  if (!alive(child)) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  // Sent even to a child already signalled: its signal may have been a gentle one.
  child.kill(signal);
  if (signal === 'SIGKILL') return exited;
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * What the tests started and have not stopped (for diagnostics and the helpers' own tests):
 * a child already sent a signal but not yet reaped is being stopped, not left running.
 */
export function running(): string[] {
  return [
    ...[...registry.children]
      .filter(([c]) => alive(c) && !c.killed)
      .map(([c, what]) => `${what} (pid ${c.pid})`),
    ...[...registry.closables].map((c) => c.what),
  ];
}

/**
 * Stops everything the tests left running: children with SIGKILL (waiting
 * for their exit, also of those already signalled), browsers closed.
 * Returns what the tests had left running.
 */
export async function stopLeftovers(): Promise<string[]> {
  const stopped = running();
  const closables = [...registry.closables];
  registry.closables.clear();
  await Promise.all([
    ...[...registry.children.keys()].map((c) => stopChild(c, 'SIGKILL')),
    ...closables.map((c) => c.close().catch(() => {})),
  ]);
  return stopped;
}
