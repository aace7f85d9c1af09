/**
 * Calls to the openqoe APIs with the signed-in access token (HTTP Basic).
 * A 401 signs out (the app then shows the sign-in page); other errors carry
 * the messages of the API's error envelope.
 */
import type { ErrorEnvelope } from '@openqoe/schema';
import { credentials, environmentId, signOut } from './session.js';

export type QueryValue = string | number | undefined | null | readonly string[];
export type Query = Record<string, QueryValue>;

export class ApiCallError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function queryString(query: Query): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) for (const item of v) q.append(k, item);
    else q.append(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

export function authHeader(c = credentials()): string | undefined {
  return c ? `Basic ${btoa(`${c.id}:${c.secret}`)}` : undefined;
}

function describe(status: number, body: unknown): string {
  // Any body may come back (a proxy's page, an empty answer): read the envelope's parts only if there.
  const e = (body as Partial<ErrorEnvelope> | undefined)?.error;
  const parts = [...(e?.messages ?? []), ...(e?.fields ?? []).map((f) => `${f.path}: ${f.problem}`)];
  return parts.length ? parts.join('; ') : `HTTP ${status}`;
}

/**
 * GET a JSON API. `scoped` adds the chosen environment_id (routes that take
 * one); credentials: 'omit' keeps the browser from popping its own Basic
 * login dialog on a 401 — the app has its own sign-in page.
 */
export async function getJson<T>(path: string, query: Query = {}, scoped = true): Promise<T> {
  const env = scoped ? environmentId() : '';
  return call<T>('GET', path + queryString(env ? { ...query, environment_id: env } : query));
}

/**
 * POST, PUT or DELETE a JSON body. `scoped` adds the chosen environment_id
 * to the body (creating something in that environment); an answer without a
 * body (204) is undefined.
 */
export async function sendJson<T>(
  method: 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: Record<string, unknown>,
  scoped = false,
): Promise<T> {
  const env = scoped ? environmentId() : '';
  return call<T>(method, path, body && env ? { ...body, environment_id: env } : body);
}

async function call<T>(method: string, url: string, payload?: unknown): Promise<T> {
  const auth = authHeader();
  if (!auth) throw new ApiCallError(401, 'Not signed in');
  const headers: Record<string, string> = { authorization: auth, accept: 'application/json' };
  if (payload !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, {
    method,
    headers,
    ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
    credentials: 'omit',
  });
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  if (res.status === 401) {
    signOut();
    throw new ApiCallError(401, 'The access token was refused; sign in again');
  }
  if (!res.ok) throw new ApiCallError(res.status, describe(res.status, body));
  return body as T;
}

/** Checks a token before keeping it: null when it may read data, else why not. */
export async function checkToken(id: string, secret: string): Promise<string | null> {
  const res = await fetch('/data/v1/metrics', {
    headers: { authorization: authHeader({ id, secret })! },
    credentials: 'omit',
  });
  if (res.ok) return null;
  if (res.status === 401) return 'Unknown token id or wrong secret';
  if (res.status === 403) return 'This access token lacks the data:read permission';
  return `The server answered HTTP ${res.status}`;
}

/**
 * A CSV route's answer as text (Accept: text/csv), with the same query and
 * environment scope getJson would send, so an export holds the numbers the
 * page shows.
 */
export async function getCsv(path: string, query: Query = {}): Promise<string> {
  const auth = authHeader();
  if (!auth) throw new ApiCallError(401, 'Not signed in');
  const env = environmentId();
  const res = await fetch(path + queryString(env ? { ...query, environment_id: env } : query), {
    headers: { authorization: auth, accept: 'text/csv' },
    credentials: 'omit',
  });
  if (res.status === 401) signOut();
  if (res.ok) return res.text();
  // Errors stay JSON envelopes.
  throw new ApiCallError(res.status, describe(res.status, await res.json().catch(() => undefined)));
}
