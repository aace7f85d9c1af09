/**
 * A small history router: the dashboard's pages live under /ui/ and every
 * deep link (/ui/views/{id}) is served index.html by the server.
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
  const url = to.startsWith('/') ? `${BASE}${to}` : to;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  dispatchEvent(new PopStateEvent('popstate'));
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
