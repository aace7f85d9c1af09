/**
 * Loads data for a component and, with `refreshMs`, reloads it on a timer.
 * Answers to an older request (filters changed meanwhile) are dropped, and
 * a slow answer never overlaps the next poll. Data loaded for other deps
 * (another metric, other filters) is not returned: a page never shows one
 * metric's numbers under another's name while the new ones load.
 */
import { useEffect, useState } from 'preact/hooks';

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** Epoch ms of the last successful load. */
  loadedAtMs: number;
}

export function useData<T>(load: () => Promise<T>, deps: unknown[], refreshMs = 0): Loaded<T> {
  const key = JSON.stringify(deps);
  const [state, setState] = useState<Loaded<T> & { key: string }>({
    data: undefined,
    error: undefined,
    loading: true,
    loadedAtMs: 0,
    key,
  });
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setState((s) => ({ ...s, loading: true }));
    const run = async () => {
      try {
        const data = await load();
        if (live) setState({ data, error: undefined, loading: false, loadedAtMs: Date.now(), key });
      } catch (error) {
        if (live)
          setState((s) => ({ ...s, data: s.key === key ? s.data : undefined, error, loading: false, key }));
      }
      if (live && refreshMs > 0) timer = setTimeout(run, refreshMs);
    };
    void run();
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
    };
  }, [...deps, refreshMs]);
  const current = state.key === key;
  return {
    data: current ? state.data : undefined,
    error: current ? state.error : undefined,
    loading: state.loading || !current,
    loadedAtMs: current ? state.loadedAtMs : 0,
  };
}
