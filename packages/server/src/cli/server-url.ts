/**
 * How the CLI finds its server. A started server writes server.json into its
 * data dir (its HTTP listener's actual URL, and the RTMP and Mux listeners'
 * when they are on) and removes it when it stops cleanly. The admin commands
 * use, in order: `--url`, that file (of `--data-dir`, else the data dir `serve`
 * would use: OPENQOE_DATA_DIR, the OPENQOE_CONFIG file's `dataDir`, ./data),
 * OPENQOE_URL, then http://127.0.0.1:8080.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config/load-config.js';

export const SERVER_FILE = 'server.json';
export const DEFAULT_URL = 'http://127.0.0.1:8080';
/** The --url option's help: the whole order, for commands whose help text has no room for URL_ORDER_HELP. */
export const URL_OPTION_HELP =
  'server URL [the data dir’s server.json, else OPENQOE_URL, else http://127.0.0.1:8080]';
export const URL_ORDER_HELP =
  'The server URL is, in order: --url, the server.json a running server wrote into its data dir (--data-dir, else serve’s default), OPENQOE_URL, then http://127.0.0.1:8080.';

export interface ServerFile {
  url: string;
  pid: number;
  rtmp_url: string | null;
  mux_url: string | null;
  started_at: string;
}

/** The data dir `serve` would use with the same flag and environment. */
export function dataDirOf(dataDir: string | undefined): string {
  if (dataDir) return dataDir;
  try {
    return loadConfig().dataDir;
  } catch {
    // A config problem is serve's to report; the CLI only needs a place to look.
    return process.env['OPENQOE_DATA_DIR'] || './data';
  }
}

/** A wildcard address is reachable on loopback; the CLI runs on the same machine. */
const reachable = (url: string) =>
  url.replace('//0.0.0.0:', '//127.0.0.1:').replace('//[::]:', '//[::1]:').replace(/\/$/, '');

export function writeServerFile(dataDir: string, s: Omit<ServerFile, 'pid' | 'started_at'>): void {
  const file: ServerFile = {
    ...s,
    url: reachable(s.url),
    pid: process.pid,
    started_at: new Date().toISOString(),
  };
  writeFileSync(join(dataDir, SERVER_FILE), `${JSON.stringify(file, null, 2)}\n`);
}

export function removeServerFile(dataDir: string): void {
  rmSync(join(dataDir, SERVER_FILE), { force: true });
}

/** The file of a live process; one left behind by a crash names a pid that is gone. */
export function readServerFile(dataDir: string): ServerFile | undefined {
  let s: ServerFile;
  try {
    s = JSON.parse(readFileSync(join(dataDir, SERVER_FILE), 'utf8')) as ServerFile;
  } catch {
    return undefined;
  }
  if (typeof s.url !== 'string') return undefined;
  try {
    process.kill(s.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return undefined;
  }
  return s;
}

/** The URL the admin commands talk to, and where it came from (for error messages); callers check its form. */
export function serverUrl(o: { url?: string; dataDir?: string }): { url: string; from: string } {
  const pick = () => {
    if (o.url) return { url: o.url, from: '--url' };
    const dir = dataDirOf(o.dataDir);
    const file = readServerFile(dir);
    if (file) return { url: file.url, from: join(dir, SERVER_FILE) };
    const env = process.env['OPENQOE_URL'];
    if (env) return { url: env, from: 'OPENQOE_URL' };
    return { url: DEFAULT_URL, from: 'the default' };
  };
  const { url, from } = pick();
  return { url: url.replace(/\/$/, ''), from };
}
