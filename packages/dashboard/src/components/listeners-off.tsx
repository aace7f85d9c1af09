/**
 * A notice above every page naming each optional listener of the server
 * (RTMP ingest, Mux-protocol intake) that is off and why, in the server's own
 * words from /healthz's `listeners_off`. Read once per sign-in: a listener
 * that failed to start stays off until the server restarts. Dismissing hides
 * these reasons for the rest of the browser session; a different set shows again.
 */
import type { HealthzResponse } from '@openqoe/schema';
import { useState } from 'preact/hooks';
import { getJson } from '../api.js';
import { useData } from '../use-data.js';

const DISMISSED_KEY = 'openqoe.listenersOffDismissed';

export function ListenersOff() {
  const off = useData(
    () => getJson<HealthzResponse>('/healthz', {}, false).then((h) => h.listeners_off),
    [],
  ).data;
  const [dismissed, setDismissed] = useState(() => sessionStorage.getItem(DISMISSED_KEY));
  if (!off?.length) return null;
  const shown = JSON.stringify(off);
  if (dismissed === shown) return null;
  const dismiss = () => {
    sessionStorage.setItem(DISMISSED_KEY, shown);
    setDismissed(shown);
  };
  return (
    <div class="listeners-off" role="status" data-testid="listeners-off">
      <ul>
        {off.map((reason) => (
          <li key={reason}>{reason}</li>
        ))}
      </ul>
      <button type="button" class="link" onClick={dismiss} data-testid="listeners-off-dismiss">
        Dismiss
      </button>
    </div>
  );
}
