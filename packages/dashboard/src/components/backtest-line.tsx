/**
 * The rule form's backtest line: how often the rule as typed would have
 * fired over the kept series history (POST /system/v1/alert-rules/backtest),
 * asked again half a second after the form stops changing; a rule the
 * history cannot replay says why (the API names the field).
 */
import { useEffect, useState } from 'preact/hooks';
import type { AlertRuleInput, BacktestResponse } from '../alert-types.js';
import { sendJson } from '../api.js';

const DEBOUNCE_MS = 500;
const DAY_MS = 86_400_000;

type State = { busy: true } | { busy: false; data?: BacktestResponse['data']; error?: string };

export function BacktestLine({ input }: { input: AlertRuleInput }) {
  const [state, setState] = useState<State>({ busy: true });
  const key = JSON.stringify(input);
  useEffect(() => {
    let current = true;
    setState({ busy: true });
    const timer = setTimeout(() => {
      sendJson<BacktestResponse>('POST', '/system/v1/alert-rules/backtest', JSON.parse(key), true).then(
        (r) => current && setState({ busy: false, data: r.data }),
        (err: unknown) =>
          current && setState({ busy: false, error: err instanceof Error ? err.message : String(err) }),
      );
    }, DEBOUNCE_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [key]);
  if (state.busy)
    return (
      <p class="muted small" data-testid="backtest" data-state="busy">
        Backtesting…
      </p>
    );
  if (!state.data)
    return (
      <p class="muted small" data-testid="backtest" data-state="error">
        No backtest: {state.error}
      </p>
    );
  const b = state.data;
  const days = Math.round((Date.parse(b.to) - Date.parse(b.from)) / DAY_MS);
  return (
    <p
      class="small"
      data-testid="backtest"
      data-state="done"
      data-count={b.count}
      data-minutes={b.minutes_covered}
    >
      Would have fired <strong>{b.count}</strong> {b.count === 1 ? 'time' : 'times'} in the last {days} days{' '}
      <span class="muted">
        ({Math.round((b.minutes_covered / 60) * 10) / 10} hours of history, {b.per_day} a day)
      </span>
    </p>
  );
}
