/**
 * The trailing timeframes of the stored-views pages (Views, Errors), kept in
 * the URL's `timeframe` like Metrics': a from–to range or a duration from a
 * link that the list lacks is offered in it too, named in the one date format.
 */
import { formatTime } from '../format.js';
import { TIMEFRAMES } from '../pages/metrics.js';

function named(tf: string[]): string {
  const [a, b] = tf;
  return b === undefined
    ? `last ${(a ?? '').replace(':', ' ')}`
    : `${formatTime(+a! * 1000)} – ${formatTime(+b * 1000)}`;
}

export function TimeframeSelect(props: { timeframe: string[]; onChange: (timeframe: string[]) => void }) {
  const chosen = props.timeframe.join('-');
  return (
    <select
      data-testid="timeframe"
      value={chosen}
      onChange={(e) => props.onChange((e.target as HTMLSelectElement).value.split('-'))}
    >
      {!TIMEFRAMES.some(([v]) => v === chosen) && <option value={chosen}>{named(props.timeframe)}</option>}
      {TIMEFRAMES.map(([v, label]) => (
        <option key={v} value={v}>
          last {label}
        </option>
      ))}
    </select>
  );
}
