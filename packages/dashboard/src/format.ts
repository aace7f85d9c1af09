/** How numbers read on the dashboard, by unit. */

export function formatValue(value: number | null | undefined, unit: string): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  switch (unit) {
    case 'percentage':
    case 'percent':
      return `${round(value, value < 10 ? 2 : 1)}%`;
    case 'milliseconds':
    case 'ms':
      return value >= 10_000 ? `${round(value / 1000, 1)} s` : `${Math.round(value)} ms`;
    case 'bps':
    case 'bits_per_second':
      return value >= 1e6 ? `${round(value / 1e6, 2)} Mbps` : `${Math.round(value / 1000)} kbps`;
    case 'score':
      return round(value, 1).toString();
    case 'ratio':
      return `${round(value * 100, 2)}%`;
    default:
      return Number.isInteger(value) ? value.toLocaleString('en') : round(value, 2).toString();
  }
}

/** A unit as it reads after a number typed in a form: `%`, `ms`, `bps`. */
export function unitSymbol(unit: string): string {
  const symbols: Record<string, string> = {
    percentage: '%',
    percent: '%',
    milliseconds: 'ms',
    bits_per_second: 'bps',
    score: '(0–100)',
    per_minute: 'per minute',
  };
  return symbols[unit] ?? unit;
}

export function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export function formatDuration(ms: number): string {
  if (ms < 0) return `−${formatDuration(-ms)}`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${round(ms / 1000, 2)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms - m * 60_000) / 1000)} s`;
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '–';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString('en-GB', { hour12: false });
}

/** "video_startup_time" → "Video startup time". */
export function humanize(id: string): string {
  const s = id.replace(/_/g, ' ').replace(/\b(cdn|asn|id|os)\b/g, (w) => w.toUpperCase());
  return s.charAt(0).toUpperCase() + s.slice(1);
}
