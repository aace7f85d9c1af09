/**
 * The signed-in access token and the chosen environment. The token lives in
 * sessionStorage (gone when the tab closes) unless the user asks to be
 * remembered on this browser (localStorage).
 */
export interface Credentials {
  id: string;
  secret: string;
}

const TOKEN_KEY = 'openqoe.token';
const ENV_KEY = 'openqoe.environment';

type Listener = () => void;
const listeners = new Set<Listener>();

export function onSessionChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
const changed = () => {
  for (const l of listeners) l();
};

function parse(raw: string | null): Credentials | undefined {
  if (!raw) return undefined;
  try {
    const v = JSON.parse(raw) as Partial<Credentials>;
    return typeof v.id === 'string' && typeof v.secret === 'string'
      ? { id: v.id, secret: v.secret }
      : undefined;
  } catch {
    return undefined;
  }
}

export function credentials(): Credentials | undefined {
  return parse(sessionStorage.getItem(TOKEN_KEY)) ?? parse(localStorage.getItem(TOKEN_KEY));
}

export function signIn(c: Credentials, remember: boolean): void {
  const text = JSON.stringify(c);
  sessionStorage.setItem(TOKEN_KEY, text);
  if (remember) localStorage.setItem(TOKEN_KEY, text);
  else localStorage.removeItem(TOKEN_KEY);
  changed();
}

export function signOut(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(TOKEN_KEY);
  changed();
}

/** The environment every request is scoped to; '' lets the API use every environment of the token. */
export function environmentId(): string {
  return localStorage.getItem(ENV_KEY) ?? '';
}

export function setEnvironmentId(id: string): void {
  if (id) localStorage.setItem(ENV_KEY, id);
  else localStorage.removeItem(ENV_KEY);
  changed();
}
