/**
 * Loads data for a component and, with `refreshMs`, reloads it on a timer.
 * Answers to an older request (filters changed meanwhile) are dropped, and
 * a slow answer never overlaps the next poll.
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
  const [state, setState] = useState<Loaded<T>>({
    data: undefined,
    error: undefined,
    loading: true,
    loadedAtMs: 0,
  });
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setState((s) => ({ ...s, loading: true }));
    const run = async () => {
      try {
        const data = await load();
        if (live) setState({ data, error: undefined, loading: false, loadedAtMs: Date.now() });
      } catch (error) {
        if (live) setState((s) => ({ ...s, error, loading: false }));
      }
      if (live && refreshMs > 0) timer = setTimeout(run, refreshMs);
    };
    void run();
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
    };
  }, [...deps, refreshMs]);
  return state;
}
