/**
 * The number of open (not yet acknowledged) incidents next to "Alerts" in
 * the navigation, polled every 10 s; nothing while none are open.
 */
import type { IncidentListResponse } from '../alert-types.js';
import { getJson } from '../api.js';
import { useData } from '../use-data.js';

export function AlertsBadge() {
  const open = useData(
    () =>
      getJson<IncidentListResponse>('/data/v1/incidents', { status: 'open', limit: 1 }).then(
        (r) => r.total_row_count,
      ),
    [],
    10_000,
  ).data;
  if (!open) return null;
  return (
    <span class="badge" data-testid="alerts-badge" title={`${open} open incident${open === 1 ? '' : 's'}`}>
      {open}
    </span>
  );
}
