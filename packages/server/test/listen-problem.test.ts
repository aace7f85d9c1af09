/**
 * The line an optional listener leaves when it cannot start, from the errors
 * real sockets give: a port another socket holds names the port key, an
 * address this machine lacks names the host key; both say how to run without it.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { listenerOff } from '../src/http/listen-problem.js';

/** The error Node gives when listening on host:port. */
function listenError(host: string, port: number): Promise<unknown> {
  const s = createServer();
  return new Promise((resolve, reject) => {
    s.once('error', resolve);
    s.listen(port, host, () => s.close(() => reject(new Error(`listened on ${host}:${port}`))));
  });
}

describe('listenerOff', () => {
  const holder: Server = createServer();
  afterAll(() => new Promise<void>((r) => holder.close(() => r())));

  it('a taken port: the listener, the port, its key and the switch to turn it off', async () => {
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    const port = (holder.address() as { port: number }).port;
    const err = await listenError('127.0.0.1', port);
    expect(listenerOff('Mux-protocol intake', err, '127.0.0.1', port, ['compat', 'mux'])).toBe(
      `Mux-protocol intake is off: port ${port} on 127.0.0.1 is taken by another process; choose another port with compat.mux.port (OPENQOE_COMPAT__MUX__PORT), or set compat.mux.enabled to false (OPENQOE_COMPAT__MUX__ENABLED=false) to run without it`,
    );
  });

  it('an address this machine lacks: the host key, not the port', async () => {
    // 192.0.2.0/24 is reserved for documentation: no machine has it.
    const err = await listenError('192.0.2.1', 0);
    expect(listenerOff('RTMP ingest', err, '192.0.2.1', 1935, ['live', 'rtmp'])).toBe(
      'RTMP ingest is off: 192.0.2.1 is not an address of this machine; choose another address with live.rtmp.host (OPENQOE_LIVE__RTMP__HOST), or set live.rtmp.enabled to false (OPENQOE_LIVE__RTMP__ENABLED=false) to run without it',
    );
  });
});
