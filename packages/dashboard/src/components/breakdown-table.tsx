/**
 * One dimension's breakdown: a row per value with the metric, the viewers
 * (or views) behind it and its negative impact, worst first as the API
 * orders it. Clicking a row adds it as a filter. With a comparison, each
 * row also shows its change against the previous period.
 */
import type { ComponentChildren } from 'preact';
import { round } from '../format.js';
import { UserText } from './user-text.js';

export interface BreakdownRow {
  value: string;
  metric: string;
  count: number;
  /** Starting-up viewers (real-time only). */
  startingUp?: number;
  negativeImpact: number | null;
  /** The change against the previous period (compare.tsx's Delta), when comparing. */
  change?: ComponentChildren;
}

export function BreakdownTable(props: {
  dimension: string;
  title: string;
  countLabel: string;
  rows: BreakdownRow[];
  onPick: (dimension: string, value: string) => void;
  /** The breakdown a link asked for: marked. */
  lead?: boolean;
}) {
  const { rows } = props;
  const maxImpact = Math.max(0, ...rows.map((r) => r.negativeImpact ?? 0));
  const realtime = rows.some((r) => r.startingUp !== undefined);
  const compared = rows.some((r) => 'change' in r);
  return (
    <section
      class={`card breakdown ${props.lead ? 'lead' : ''}`}
      data-testid={`breakdown-${props.dimension}`}
    >
      <h3>{props.title}</h3>
      {rows.length === 0 ? (
        <p class="muted">No data</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>{props.title}</th>
              <th class="num">Value</th>
              {compared && <th class="num">vs previous period</th>}
              <th class="num">{props.countLabel}</th>
              {realtime && <th class="num">Starting</th>}
              <th class="num">Negative impact</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr
                key={r.value}
                class="pick"
                data-value={r.value}
                title="Filter everything by this value"
                onClick={() => props.onPick(props.dimension, r.value)}
              >
                <td class="label">{r.value === '' ? <i>(none)</i> : <UserText text={r.value} />}</td>
                <td class="num">{r.metric}</td>
                {compared && <td class="num change">{r.change}</td>}
                <td class="num">{r.count.toLocaleString('en')}</td>
                {realtime && <td class="num">{r.startingUp ?? 0}</td>}
                <td class="num impact">
                  <span
                    class="bar"
                    style={{
                      width: `${maxImpact > 0 ? Math.max(0, ((r.negativeImpact ?? 0) / maxImpact) * 40) : 0}px`,
                    }}
                  />
                  {r.negativeImpact === null ? '–' : round(r.negativeImpact, 3)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
