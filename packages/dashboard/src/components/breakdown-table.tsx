/**
 * One dimension's breakdown: a row per value with the metric, the viewers
 * (or views) behind it and its negative impact, worst first as the API
 * orders it. Clicking a row adds it as a filter. The negative impact reads
 * in the metric's unit, and its header says what it measures. With a
 * comparison, each row also shows its change against the previous period.
 */
import type { ComponentChildren } from 'preact';
import type { Query } from '../api.js';
import { formatImpact } from '../format.js';
import { CsvButton } from './csv-button.js';
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
  /** The metric's unit, which the negative impact shares. */
  unit?: string;
  /** The route and query behind the rows: a CSV download of them. */
  csv?: { path: string; query: Query; name: string };
  /** False where a page explains the negative impact once for several tables (ImpactNote). */
  note?: boolean;
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
      <h3>
        {props.title}
        {props.csv && <CsvButton {...props.csv} />}
      </h3>
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
              <th class="num" title={impactHelp(props.countLabel.toLowerCase())} data-testid="impact-header">
                Negative impact <sup>?</sup>
              </th>
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
                  {formatImpact(r.negativeImpact, props.unit ?? '')}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {rows.length > 0 && props.note !== false && <ImpactNote count={props.countLabel.toLowerCase()} />}
    </section>
  );
}

/** The footnote under breakdowns: the negative impact's formula, unit and sign, in short. */
export function ImpactNote({ count }: { count: string }) {
  return (
    <p class="muted small footnote" data-testid="impact-footnote">
      Negative impact = (row − overall) × row {count} ÷ all {count}, in the metric's unit: + worse than the
      whole, − better.
    </p>
  );
}

/** What the negative impact column measures: its formula, sign and unit (docs/metrics.md). */
export function impactHelp(count: string): string {
  return (
    `Negative impact: how much this row moves the overall value — (row value − overall value) × row ${count} ÷ all ${count}, ` +
    `in the metric's unit (percentages in percentage points, pp). Positive: the row makes the whole worse; ` +
    `negative: better (for metrics where higher is better, such as bitrate or scores, the sign is flipped).`
  );
}
