/**
 * A small history router: the dashboard's pages live under /ui/ and every
 * deep link (/ui/views/{id}) is served index.html by the server. Pages keep
 * their controls in the URL's query (setQuery), so a link, a reload and
 * back/forward all show the same state.
 */
import { useEffect, useState } from 'preact/hooks';

export const BASE = '/ui';

export interface Route {
  /** Path segments after /ui/, e.g. ['views', 'abc']. */
  parts: string[];
  query: URLSearchParams;
}

function current(): Route {
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : location.pathname;
  return {
    parts: path
      .split('/')
      .filter(Boolean)
      .map((p) => decodeURIComponent(p)),
    query: new URLSearchParams(location.search),
  };
}

export function navigate(to: string, replace = false): void {
  go(to.startsWith('/') ? `${BASE}${to}` : to, replace);
}

function go(url: string, replace: boolean): void {
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  dispatchEvent(new PopStateEvent('popstate'));
}

/** Query parameters to set: a list repeats the parameter; undefined, '' or [] removes it. */
export type QueryChanges = Record<string, string | readonly string[] | undefined>;

/**
 * `search` with `changes` applied, as `?a=b&…` ('' when empty). Values keep
 * `:`, `,`, `!` and `/` unescaped (all legal in a query) so that links such as
 * `?filters=cdn:edge-a.example.net` stay readable in a notification.
 */
export function withQuery(changes: QueryChanges, search = ''): string {
  const q = new URLSearchParams(search);
  for (const [k, v] of Object.entries(changes)) {
    q.delete(k);
    for (const item of typeof v === 'string' ? [v] : (v ?? [])) if (item !== '') q.append(k, item);
  }
  const parts = [...q].map(([k, v]) => `${encodeURIComponent(k)}=${readable(v)}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

function readable(v: string): string {
  return encodeURIComponent(v).replace(/%(3A|2C|21|2F)/gi, (m) => decodeURIComponent(m));
}

/** Changes the current page's query: a new history entry unless `replace`. */
export function setQuery(changes: QueryChanges, replace = false): void {
  go(location.pathname + withQuery(changes, location.search), replace);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const update = () => setRoute(current());
    addEventListener('popstate', update);
    return () => removeEventListener('popstate', update);
  }, []);
  return route;
}

/** An in-app link: a real href (open in a new tab works), client-side navigation on a plain click. */
export function linkProps(to: string): { href: string; onClick: (e: MouseEvent) => void } {
  return {
    href: `${BASE}${to}`,
    onClick: (e: MouseEvent) => {
      if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      e.preventDefault();
      navigate(to);
    },
  };
}
