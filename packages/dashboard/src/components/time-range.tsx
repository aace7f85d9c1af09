/**
 * The timeframe control of the history pages: the preset trailing
 * durations, and a custom from–to range typed as date-times in the
 * browser's zone (which it names), written in the dashboard's one format
 * (`2026-12-07 14:05`, seconds optional) rather than a native picker, whose
 * display follows the browser's locale (`12/07/2026`, day or month first).
 * A range is checked here (both ends readable, from before to) and handed
 * on as `[from, to]` in epoch seconds, the API's `timeframe[]` pair; a
 * preset as its one `N:unit` value.
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

/** An epoch-seconds string as the inputs show it, in the browser's zone: seconds only when there are some. */
const toInput = (s: string | undefined) => {
  if (!s) return '';
  const d = new Date(Number(s) * 1000);
  return `${formatDate(d)} ${formatClock(d, d.getSeconds() !== 0)}`;
};

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/;

/** `2026-12-07 14:05[:09]` in the browser's zone as epoch seconds; null unless it is such a date-time. */
export function parseLocal(v: string): number | null {
  const m = LOCAL.exec(v.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, sec] = m.slice(1).map((x) => Number(x ?? 0)) as number[];
  const t = new Date(y!, mo! - 1, d!, h!, mi!, sec!);
  // 2026-02-30 or 25:00 would roll over into another date-time: refused, not guessed.
  const same =
    t.getFullYear() === y &&
    t.getMonth() === mo! - 1 &&
    t.getDate() === d &&
    t.getHours() === h &&
    t.getMinutes() === mi;
  return same ? Math.floor(t.getTime() / 1000) : null;
}

const EXAMPLE = 'YYYY-MM-DD HH:MM, e.g. 2026-12-07 14:05';

/** Why a typed range cannot be used (naming the field), or '' when it can. */
export function rangeProblem(from: string, to: string): string {
  for (const [name, v] of [
    ['From', from],
    ['To', to],
  ] as const) {
    if (!v.trim()) return `${name}: enter a date-time (${EXAMPLE}).`;
    if (parseLocal(v) === null) return `${name}: “${v}” is not a date-time; write it as ${EXAMPLE}.`;
  }
  return parseLocal(from)! >= parseLocal(to)! ? 'From must be before To.' : '';
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
    const why = rangeProblem(from, to);
    setProblem(why);
    if (!why) props.onChange([String(parseLocal(from)), String(parseLocal(to))]);
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
        type="text"
        size={19}
        placeholder="YYYY-MM-DD HH:MM"
        data-testid={`range-${props.name.toLowerCase()}`}
        value={props.value}
        aria-invalid={props.problem.includes(props.name)}
        onInput={(e) => props.onInput((e.target as HTMLInputElement).value)}
      />
    </label>
  );
}
