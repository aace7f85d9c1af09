/**
 * The timeframe control of the history pages: the preset trailing
 * durations, and a custom from–to range typed as date-times in the
 * browser's zone (which it names). A range is checked here (both ends, from
 * before to) and handed on as `[from, to]` in epoch seconds, the API's
 * `timeframe[]` pair; a preset as its one `N:unit` value.
 */
import { useEffect, useState } from 'preact/hooks';
import { formatClock, formatDate, formatTime, zoneLabel } from '../format.js';

export const TIMEFRAMES = [
  ['1:hours', '1 hour'],
  ['6:hours', '6 hours'],
  ['24:hours', '24 hours'],
  ['7:days', '7 days'],
  ['30:days', '30 days'],
] as const;

const CUSTOM = 'custom';

/** An epoch-seconds string as a `datetime-local` value, in the browser's zone. */
const toInput = (s: string | undefined) => {
  if (!s) return '';
  const d = new Date(Number(s) * 1000);
  return `${formatDate(d)}T${formatClock(d, false)}`;
};

/** A `datetime-local` value (the browser's zone) as epoch seconds, or null when empty or invalid. */
const fromInput = (v: string): number | null => {
  const ms = v ? new Date(v).getTime() : Number.NaN;
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : null;
};

/** Why a typed range cannot be used, or '' when it can. */
export function rangeProblem(from: number | null, to: number | null): string {
  if (from === null) return 'Choose when the range starts (From).';
  if (to === null) return 'Choose when the range ends (To).';
  if (from >= to) return 'From must be before To.';
  return '';
}

export function TimeRange(props: { timeframe: string[]; onChange: (timeframe: string[]) => void }) {
  const { timeframe } = props;
  const absolute = timeframe.length === 2;
  const chosen = timeframe.join('-');
  const preset = TIMEFRAMES.some(([v]) => v === chosen);
  const [editing, setEditing] = useState(absolute);
  const [from, setFrom] = useState(toInput(absolute ? timeframe[0] : undefined));
  const [to, setTo] = useState(toInput(absolute ? timeframe[1] : undefined));
  const [problem, setProblem] = useState('');
  // A timeframe from the URL (back/forward, a link) resets the control: a range refills the inputs.
  useEffect(() => {
    setEditing(absolute);
    if (!absolute) return;
    setFrom(toInput(timeframe[0]));
    setTo(toInput(timeframe[1]));
    setProblem('');
  }, [chosen]);

  const apply = (e: Event) => {
    e.preventDefault();
    const f = fromInput(from);
    const t = fromInput(to);
    const why = rangeProblem(f, t);
    setProblem(why);
    if (!why) props.onChange([String(f), String(t)]);
  };
  const select = (v: string) => {
    if (v !== CUSTOM) {
      setEditing(false);
      setProblem('');
      return props.onChange(v.split('-'));
    }
    // Start the custom range from the timeframe shown: the last 24 hours up to now when it was a preset.
    const now = Math.floor(Date.now() / 1000);
    if (!from) setFrom(toInput(String(now - 86_400)));
    if (!to) setTo(toInput(String(now)));
    setEditing(true);
  };
  const zone = zoneLabel(new Date());

  return (
    <div class="time-range" data-testid="time-range">
      <label>
        Timeframe{' '}
        <select
          data-testid="timeframe"
          value={editing || absolute ? CUSTOM : chosen}
          onChange={(e) => select((e.target as HTMLSelectElement).value)}
        >
          {!preset && !absolute && <option value={chosen}>last {timeframe[0]!.replace(':', ' ')}</option>}
          {TIMEFRAMES.map(([v, label]) => (
            <option key={v} value={v}>
              last {label}
            </option>
          ))}
          <option value={CUSTOM}>custom range…</option>
        </select>
      </label>
      {editing && (
        <form class="range" onSubmit={apply} noValidate>
          <DateTimeInput name="From" value={from} problem={problem} onInput={setFrom} />
          <DateTimeInput name="To" value={to} problem={problem} onInput={setTo} />
          <span class="muted small">{zone}</span>
          <button type="submit" data-testid="range-apply">
            Apply
          </button>
          {problem && (
            <span class="error small" role="alert" data-testid="range-error">
              {problem}
            </span>
          )}
        </form>
      )}
      {absolute && (
        <span class="muted small" data-testid="range-shown">
          {formatTime(Number(timeframe[0]) * 1000)} – {formatTime(Number(timeframe[1]) * 1000)}
        </span>
      )}
    </div>
  );
}

/** One end of the range: a date-time in the browser's zone, marked invalid when the problem names it. */
function DateTimeInput(props: {
  name: 'From' | 'To';
  value: string;
  problem: string;
  onInput: (v: string) => void;
}) {
  return (
    <label>
      {props.name}{' '}
      <input
        type="datetime-local"
        data-testid={`range-${props.name.toLowerCase()}`}
        value={props.value}
        aria-invalid={props.problem.includes(props.name)}
        onInput={(e) => props.onInput((e.target as HTMLInputElement).value)}
      />
    </label>
  );
}
