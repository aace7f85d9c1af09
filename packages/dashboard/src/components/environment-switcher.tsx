/**
 * The environment every page reads. Listing environments needs the `system`
 * permission; a token without it reads every environment it covers, which
 * the switcher then says instead of listing them.
 */
import type { EnvironmentListResponse } from '@openqoe/schema';
import { useEffect } from 'preact/hooks';
import { ApiCallError, getJson } from '../api.js';
import { environmentId, setEnvironmentId } from '../session.js';
import { useData } from '../use-data.js';

export function EnvironmentSwitcher() {
  const envs = useData(
    () => getJson<EnvironmentListResponse>('/system/v1/environments', { limit: 100 }, false),
    [],
  );
  const current = environmentId();
  const list = envs.data?.data ?? [];
  useEffect(() => {
    if (!envs.data) return;
    // A stored choice this token does not cover (another token signed in since) is dropped.
    if (current && !list.some((e) => e.id === current)) setEnvironmentId('');
    // One environment: scope to it, so routes that need one environment work.
    else if (list.length === 1 && current !== list[0]!.id) setEnvironmentId(list[0]!.id);
  }, [envs.data, current]);
  if (envs.error instanceof ApiCallError && envs.error.status === 403) {
    return <span class="env muted">All environments of this token</span>;
  }
  return (
    <label class="env">
      Environment{' '}
      <select
        data-testid="environment"
        value={current}
        onChange={(e) => setEnvironmentId((e.target as HTMLSelectElement).value)}
      >
        {list.length !== 1 && <option value="">All ({list.length})</option>}
        {list.map((e) => (
          <option key={e.id} value={e.id}>
            {e.name} ({e.id})
          </option>
        ))}
      </select>
    </label>
  );
}
