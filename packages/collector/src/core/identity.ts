/**
 * Ids: a random UUID per view and player instance; a viewer id kept in
 * localStorage and a session id with a 25-minute sliding expiry, both
 * switched off with `disableCookies` (sent as "").
 */
const SESSION_MS = 25 * 60 * 1000;
const VIEWER_KEY = 'openqoe_viewer';
const SESSION_KEY = 'openqoe_session';

export function uuid(): string {
  const c = globalThis.crypto;
  if (c?.randomUUID) return c.randomUUID();
  return 'xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx'.replace(/[xy]/g, (ch) => {
    const r = (Math.random() * 16) | 0;
    return (ch === 'x' ? r : (r & 3) | 8).toString(16);
  });
}

function storage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // storage blocked by the browser
  }
}

export function viewerId(disabled: boolean): string {
  const s = disabled ? null : storage();
  if (!s) return '';
  let id = s.getItem(VIEWER_KEY);
  if (!id) {
    id = uuid();
    s.setItem(VIEWER_KEY, id);
  }
  return id;
}

/** The session id, extended on every call (sliding expiry). */
export function sessionId(disabled: boolean, nowMs: number): string {
  const s = disabled ? null : storage();
  if (!s) return '';
  const [id, seen] = (s.getItem(SESSION_KEY) ?? '').split('|');
  const fresh = id && nowMs - Number(seen) < SESSION_MS ? id : uuid();
  s.setItem(SESSION_KEY, `${fresh}|${nowMs}`);
  return fresh;
}
