/**
 * The shell: sign-in when there is no token, else the navigation, the
 * environment switcher, a notice of optional listeners that are off, and
 * the page the URL names.
 */
import { useEffect, useState } from 'preact/hooks';
import { AlertsBadge } from './components/alerts-badge.js';
import { EnvironmentSwitcher } from './components/environment-switcher.js';
import { ListenersOff } from './components/listeners-off.js';
import { AlertsPage } from './pages/alerts.js';
import { ErrorsPage } from './pages/errors.js';
import { LiveStreamPage } from './pages/live-stream.js';
import { LiveStreamsPage } from './pages/live-streams.js';
import { MetricsPage } from './pages/metrics.js';
import { MonitorPage } from './pages/monitor.js';
import { SignInPage } from './pages/sign-in.js';
import { ViewPage } from './pages/view.js';
import { ViewsPage } from './pages/views.js';
import { linkProps, navigate, type Route, useRoute } from './router.js';
import { credentials, environmentId, onSessionChange, signOut } from './session.js';

const NAV = [
  ['monitor', 'Monitor'],
  ['metrics', 'Metrics'],
  ['views', 'Views'],
  ['errors', 'Errors'],
  ['live-streams', 'Live streams'],
  ['alerts', 'Alerts'],
] as const;

function page(route: Route) {
  const [section, id] = route.parts;
  switch (section) {
    case 'metrics':
      return <MetricsPage />;
    case 'views':
      return id ? <ViewPage viewId={id} /> : <ViewsPage />;
    case 'errors':
      return <ErrorsPage />;
    case 'live-streams':
      return id ? <LiveStreamPage streamId={id} /> : <LiveStreamsPage />;
    case 'alerts':
      return <AlertsPage parts={route.parts} />;
    default:
      return <MonitorPage />;
  }
}

export function App() {
  const route = useRoute();
  const [signedIn, setSignedIn] = useState(() => credentials() !== undefined);
  const [env, setEnv] = useState(environmentId);
  useEffect(
    () =>
      onSessionChange(() => {
        setSignedIn(credentials() !== undefined);
        setEnv(environmentId());
      }),
    [],
  );
  const section = route.parts[0] ?? 'monitor';

  useEffect(() => {
    if (!signedIn && section !== 'sign-in') {
      const back = location.pathname + location.search;
      navigate(`/sign-in?next=${encodeURIComponent(back)}`, true);
    }
  }, [signedIn, section]);

  if (!signedIn || section === 'sign-in') return <SignInPage next={route.query.get('next') ?? ''} />;

  return (
    <div class="shell">
      <header>
        <a class="brand" {...linkProps('/monitor')}>
          openqoe
        </a>
        <nav>
          {NAV.map(([path, label]) => (
            <a key={path} class={section === path ? 'active' : ''} {...linkProps(`/${path}`)}>
              {label}
              {path === 'alerts' && <AlertsBadge key={env} />}
            </a>
          ))}
        </nav>
        <span class="spacer" />
        <EnvironmentSwitcher />
        <button type="button" class="link" onClick={() => signOut()} data-testid="sign-out">
          Sign out
        </button>
      </header>
      <ListenersOff />
      {/* Keyed on the environment: switching it reloads every page's data. */}
      <main key={env}>{page(route)}</main>
    </div>
  );
}
