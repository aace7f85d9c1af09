/** The active filters as removable chips ("dimension: value"; "≠" for an exclusion). */
import { humanize } from '../format.js';
import { UserText } from './user-text.js';

export function parseFilter(f: string): { exclude: boolean; dimension: string; value: string } {
  const exclude = f.startsWith('!');
  const body = exclude ? f.slice(1) : f;
  const i = body.indexOf(':');
  return { exclude, dimension: body.slice(0, i), value: body.slice(i + 1) };
}

export function FilterChips({ filters, onChange }: { filters: string[]; onChange: (f: string[]) => void }) {
  if (filters.length === 0) return null;
  return (
    <div class="chips" data-testid="filters">
      {filters.map((f) => {
        const p = parseFilter(f);
        return (
          <span class="chip" key={f} data-filter={f}>
            {humanize(p.dimension)} {p.exclude ? '≠' : '='}{' '}
            <b>{p.value ? <UserText text={p.value} /> : '(empty)'}</b>
            <button
              type="button"
              title="Remove this filter"
              onClick={() => onChange(filters.filter((x) => x !== f))}
            >
              ×
            </button>
          </span>
        );
      })}
      <button type="button" class="link" onClick={() => onChange([])}>
        Clear all
      </button>
    </div>
  );
}

/** Adds `dimension:value` unless present. */
export function withFilter(filters: string[], dimension: string, value: string): string[] {
  const f = `${dimension}:${value}`;
  return filters.includes(f) ? filters : [...filters, f];
}
