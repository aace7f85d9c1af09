/** The words for a listener that could not start: which address and port, why, and what to change. */
import { envVarName } from '../config/load-config.js';

/** One clause: which address and port, and why it could not be listened on. */
export function listenProblem(err: unknown, host: string, port: number): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return `port ${port} on ${host} is taken by another process`;
  if (code === 'EACCES') return `port ${port} on ${host} needs privileges this process lacks`;
  if (code === 'EADDRNOTAVAIL') return `${host} is not an address of this machine`;
  return `cannot listen on ${host}:${port} (${(err as Error).message})`;
}

/**
 * The one line an optional listener (RTMP, the Mux-protocol intake) leaves in
 * the log, /healthz and the dashboard when it could not start: its name, the
 * problem, the key to change (with its environment variable) and how to run
 * without it. `section` is its config section, e.g. ['compat', 'mux'].
 */
export function listenerOff(
  name: string,
  err: unknown,
  host: string,
  port: number,
  section: string[],
): string {
  const key = (leaf: string) => [...section, leaf].join('.');
  const env = (leaf: string) => envVarName([...section, leaf]);
  // An address this machine lacks is fixed by the host key, anything else by the port.
  const [what, leaf] =
    (err as NodeJS.ErrnoException).code === 'EADDRNOTAVAIL' ? ['address', 'host'] : ['port', 'port'];
  return `${name} is off: ${listenProblem(err, host, port)}; choose another ${what} with ${key(leaf)} (${env(leaf)}), or set ${key('enabled')} to false (${env('enabled')}=false) to run without it`;
}
