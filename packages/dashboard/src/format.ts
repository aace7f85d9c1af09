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

/**
 * An axis' tick labels in one unit for the whole axis: formatValue picks ms
 * or s (kbps or Mbps) per value, which on one axis reads "5000 ms" next to
 * "10 s". The larger unit is taken when the top tick reaches it, with as few
 * decimals as show each tick exactly (at most 3).
 */
export function formatTicks(values: number[], unit: string): string[] {
  const top = Math.max(0, ...values.map(Math.abs));
  const scaled = (div: number, symbol: string) => {
    const exact = (d: number) => values.every((v) => Math.abs(round(v / div, d) - v / div) < 1e-9);
    const digits = [0, 1, 2].find(exact) ?? 3;
    return values.map((v) => `${round(v / div, digits)} ${symbol}`);
  };
  switch (unit) {
    case 'milliseconds':
    case 'ms':
      return top >= 10_000 ? scaled(1000, 's') : scaled(1, 'ms');
    case 'bps':
    case 'bits_per_second':
      return top >= 1e6 ? scaled(1e6, 'Mbps') : scaled(1000, 'kbps');
    default:
      return values.map((v) => formatValue(v, unit));
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
  // Whole seconds first, so 4 min 59.7 s reads "5 min", never "4 min 60 s"; a whole minute drops its "0 s".
  const s = Math.round(ms / 1000);
  const m = Math.floor(s / 60);
  return s % 60 === 0 ? `${m} min` : `${m} min ${s % 60} s`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The browser's offset from UTC at `d`, as "UTC+1", "UTC−3:30" or "UTC". */
export function zoneLabel(d: Date): string {
  const off = -d.getTimezoneOffset();
  if (off === 0) return 'UTC';
  const a = Math.abs(off);
  return `UTC${off > 0 ? '+' : '−'}${Math.floor(a / 60)}${a % 60 ? `:${pad(a % 60)}` : ''}`;
}

/** "2026-12-07" in the browser's zone: year first, so no day/month ambiguity. */
export function formatDate(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** "14:05:09" (or "14:05" without seconds) in the browser's zone. */
export function formatClock(d: Date, seconds = true): string {
  return `${pad(d.getHours())}:${pad(d.getMinutes())}${seconds ? `:${pad(d.getSeconds())}` : ''}`;
}

/**
 * The one date-time format of the dashboard: "2026-12-07 14:05:09 UTC+1",
 * in the browser's time zone, which it names. Takes an ISO string or epoch ms.
 */
export function formatTime(t: string | number | null | undefined): string {
  if (t === null || t === undefined || t === '') return '–';
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return String(t);
  return `${formatDate(d)} ${formatClock(d)} ${zoneLabel(d)}`;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

/**
 * A stored field as it should read, by its name's unit suffix (docs/metrics.md
 * names columns `_ms`, `_bps`, `_percentage`, `_score`): never a raw float tail.
 */
export function formatField(key: string, value: string | number | boolean): string {
  if (typeof value === 'number') {
    if (key.endsWith('_ms')) return formatValue(value, 'ms');
    if (key.endsWith('_bps')) return formatValue(value, 'bps');
    if (key.endsWith('_percentage')) return formatValue(value, 'percent');
    if (key.endsWith('_score')) return formatValue(value, 'score');
    return Number.isInteger(value) ? String(value) : round(value, 3).toString();
  }
  return typeof value === 'string' && ISO_TIME.test(value) ? formatTime(value) : String(value);
}

/** "video_startup_time" → "Video startup time". */
export function humanize(id: string): string {
  const s = id.replace(/_/g, ' ').replace(/\b(cdn|asn|id|os)\b/g, (w) => w.toUpperCase());
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * A breakdown row's negative impact in its metric's unit, signed (+ worse
 * than the whole, − better): percentages as percentage points (`+2.21 pp`),
 * times in ms or s, bitrates in kbps or Mbps, scores in points.
 */
export function formatImpact(value: number | null | undefined, unit: string): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  const sign = value > 0 ? '+' : value < 0 ? '−' : '';
  const a = Math.abs(value);
  switch (unit) {
    case 'percentage':
    case 'percent':
      return `${sign}${round(a, 2)} pp`;
    case 'milliseconds':
    case 'ms':
      return a >= 10_000 ? `${sign}${round(a / 1000, 1)} s` : `${sign}${round(a, a < 10 ? 1 : 0)} ms`;
    case 'score':
      return `${sign}${round(a, 2)} points`;
    case 'per_minute':
      return `${sign}${round(a, 3)} per minute`;
    default:
      return `${sign}${formatValue(a, unit)}`;
  }
}

/** A dimension's name in pickers and table titles: the two CDN dimensions say which they are. */
export function dimensionLabel(id: string): string {
  const labels: Record<string, string> = {
    cdn: 'CDN host',
    cdn_host: 'CDN host',
    cdn_provider: 'CDN provider',
  };
  return labels[id] ?? humanize(id);
}
