/** One sentence for a listener that could not start: which address and port, and why. */
export function listenProblem(err: unknown, host: string, port: number): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return `port ${port} on ${host} is taken by another process`;
  if (code === 'EACCES') return `port ${port} on ${host} needs privileges this process lacks`;
  if (code === 'EADDRNOTAVAIL') return `${host} is not an address of this machine`;
  return `cannot listen on ${host}:${port} (${(err as Error).message})`;
}
