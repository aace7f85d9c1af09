/**
 * Helpers of the live tests: the server's RTMP address, an ffmpeg push of a
 * small generated test pattern at a rate the test chooses, JSON calls with
 * an access token, and signing keys created through the API.
 */
import type { ChildProcess } from 'node:child_process';
import { spawnTracked } from './processes.js';
import type { ServerProcess } from './server-process.js';

export interface Answer {
  status: number;
  json: unknown;
  headers: Headers;
}

export async function call(
  server: ServerProcess,
  method: string,
  path: string,
  auth: string | null = server.adminAuth(),
  body?: unknown,
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (auth) headers['authorization'] = auth;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, json, headers: res.headers };
}

/** rtmp://127.0.0.1:PORT/live, from the serve command's banner. */
export function rtmpBase(server: ServerProcess): string {
  const m = /RTMP ingest: (rtmp:\/\/\S+)\/\{stream_key\}/.exec(server.output());
  if (!m) throw new Error(`no RTMP address in the server output:\n${server.output()}`);
  return m[1]!.replace('localhost', '127.0.0.1');
}

export interface Push {
  child: ChildProcess;
  stderr(): string;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  stop(): Promise<number | string>;
}

/**
 * Encodes a 320×240 25 fps test pattern (x264 ultrafast, zero latency, a
 * key frame every second) into an FLV file once, so pushes only copy it:
 * the push then costs almost no CPU and keeps its pace on a busy machine.
 */
export function encodeTestPattern(file: string, durationS: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawnTracked(
      'ffmpeg',
      [
        ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-y'],
        ...['-f', 'lavfi', '-i', `testsrc=size=320x240:rate=25:duration=${durationS}`],
        ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25', '-f', 'flv', file],
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
      'ffmpeg (encode)',
    );
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`ffmpeg encode failed: ${err}`)),
    );
  });
}

/** Pushes an FLV file to an RTMP URL at `readRate` × real time (1 = `-re`), without re-encoding. */
export function pushFile(file: string, url: string, readRate: number): Push {
  const child = spawnTracked(
    'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error', '-nostdin'],
      ...['-readrate', String(readRate), '-i', file],
      ...['-c', 'copy', '-f', 'flv', url],
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
    'ffmpeg (RTMP push)',
  );
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | string>((r) =>
    child.once('exit', (code, signal) => r(code ?? signal ?? 'unknown')),
  );
  return {
    child,
    stderr: () => err,
    exited,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return exited;
    },
  };
}

export interface CreatedKey {
  id: string;
  privateKeyPem: string;
}

export async function createSigningKey(server: ServerProcess, environmentId?: string): Promise<CreatedKey> {
  const body = environmentId ? { environment_id: environmentId } : undefined;
  const res = await call(server, 'POST', '/system/v1/signing-keys', server.adminAuth(), body);
  if (res.status !== 201) throw new Error(`signing key: ${res.status} ${JSON.stringify(res.json)}`);
  const data = (res.json as { data: { id: string; private_key: string } }).data;
  return { id: data.id, privateKeyPem: Buffer.from(data.private_key, 'base64').toString('utf8') };
}

export interface LiveStreamOut {
  id: string;
  environment_id: string;
  stream_key: string;
  status: 'idle' | 'active';
  created_at: string;
}

export async function createLiveStream(server: ServerProcess): Promise<LiveStreamOut> {
  const res = await call(server, 'POST', '/video/v1/live-streams');
  if (res.status !== 201) throw new Error(`live stream: ${res.status} ${JSON.stringify(res.json)}`);
  return (res.json as { data: LiveStreamOut }).data;
}
