/**
 * Errors: the error analysis of the stored views (GET /data/v1/errors) over
 * a timeframe and filters — per error code, the views it ended or marked
 * (a view counts under its first fatal or business error), their share of
 * all views, the first and last of them, the most frequent messages and
 * the players, and a link to those views in the Views list. The timeframe
 * and filters live in the URL, spelled as on Metrics and Views.
 */
import type { ErrorAnalysisResponse } from '@openqoe/schema';
import { getJson } from '../api.js';
import { CsvButton } from '../components/csv-button.js';
import { EmptyState, ErrorNote } from '../components/empty-state.js';
import { FilterChips } from '../components/filters.js';
import { TimeRange } from '../components/time-range.js';
import { UserText } from '../components/user-text.js';
import { formatTime, formatValue } from '../format.js';
import { type MetricsState, metricsQuery, readMetricsState } from '../page-state.js';
import { linkProps, setQuery, useRoute, withQuery } from '../router.js';
import { useData } from '../use-data.js';

const LIMIT = 100;
const path = '/data/v1/errors';

export function ErrorsPage() {
  const { timeframe, filters } = readMetricsState(useRoute().query);
  const change = (c: Partial<MetricsState>) => setQuery(metricsQuery({ timeframe, filters, ...c }));
  const query = { 'timeframe[]': timeframe, 'filters[]': filters, limit: LIMIT };
  const errors = useData(
    () => getJson<ErrorAnalysisResponse>(path, query),
    [timeframe.join('-'), filters.join('\n')],
  );
  const rows = errors.data?.data ?? [];
  const total = errors.data?.total_row_count ?? 0;
  /** The Views list over this page's timeframe and filters, narrowed to one code. */
  const viewsOf = (code: string) =>
    `/views${withQuery(metricsQuery({ timeframe, filters: [...filters, `error_code:${code}`] }))}`;

  return (
    <div class="page errors">
      <div class="toolbar">
        <h1>Errors</h1>
        <TimeRange timeframe={timeframe} onChange={(tf) => change({ timeframe: tf })} />
        <span class="muted small" data-testid="errors-total">
          {errors.data
            ? `${total.toLocaleString('en')} error codes · ${errors.data.total_views.toLocaleString('en')} views in all`
            : ''}
        </span>
        <span class="spacer" />
        <CsvButton path={path} query={query} name="errors" />
      </div>
      <FilterChips filters={filters} onChange={(f) => change({ filters: f })} />
      <ErrorNote error={errors.error} />
      {errors.data && rows.length === 0 ? (
        <EmptyState title="No errors in this timeframe">
          <p>A view counts here under the code of its first fatal or business error.</p>
        </EmptyState>
      ) : (
        <section class="card">
          <table data-testid="errors-table">
            <thead>
              <tr>
                <th>Error code</th>
                <th class="num">Views affected</th>
                <th class="num" title="Views with this code ÷ all views in the timeframe and filters">
                  Share of views
                </th>
                <th>First seen</th>
                <th>Last seen</th>
                <th>Messages</th>
                <th>Players</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.error_code} data-code={r.error_code}>
                  <td class="label">
                    <UserText text={r.error_code} />
                  </td>
                  <td class="num">{r.views.toLocaleString('en')}</td>
                  <td class="num">{formatValue(r.share_of_views, 'percent')}</td>
                  <td class="time">{formatTime(r.first_seen)}</td>
                  <td class="time">{formatTime(r.last_seen)}</td>
                  <td class="list" data-testid="messages">
                    {r.messages.map((m) => (
                      <div key={m.message}>
                        {m.message ? <UserText text={m.message} /> : <i>(no message)</i>}{' '}
                        <span class="muted">× {m.views.toLocaleString('en')}</span>
                      </div>
                    ))}
                  </td>
                  <td class="list" data-testid="players">
                    {r.players.map((p) => (
                      <div key={`${p.player_software} ${p.player_version}`}>
                        <UserText text={`${p.player_software || '(unknown)'} ${p.player_version}`.trim()} />{' '}
                        <span class="muted">× {p.views.toLocaleString('en')}</span>
                      </div>
                    ))}
                  </td>
                  <td>
                    <a data-testid="views-link" {...linkProps(viewsOf(r.error_code))}>
                      views ›
                    </a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {total > rows.length && (
            <p class="muted small">
              The {rows.length} codes with the most views of {total.toLocaleString('en')}; narrow the
              timeframe or filters, or download the CSV, for the rest.
            </p>
          )}
        </section>
      )}
    </div>
  );
}
