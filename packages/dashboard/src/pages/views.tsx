/**
 * Views: the stored views of a timeframe, newest first, searchable by view
 * id, video title or viewer id, or by any `dimension:value`. The timeframe
 * and filters live in the URL (`?timeframe=24:hours&filters=error_code:X`, a
 * preset or a custom from–to range, as on Metrics), so other pages link to a
 * filtered list.
 */
import type { VideoViewListResponse } from '@openqoe/schema';
import { useState } from 'preact/hooks';
import { getJson } from '../api.js';
import { CsvButton } from '../components/csv-button.js';
import { EmptyState, ErrorNote } from '../components/empty-state.js';
import { FilterChips } from '../components/filters.js';
import { TimeRange } from '../components/time-range.js';
import { UserText } from '../components/user-text.js';
import { formatTime, formatValue } from '../format.js';
import { metricsQuery, readMetricsState } from '../page-state.js';
import { linkProps, setQuery, useRoute } from '../router.js';
import { useData } from '../use-data.js';

/** A page of views; a text search merges the pages of several requests, so it has no one timeframe. */
type ViewList = Omit<VideoViewListResponse, 'timeframe'>;

const PAGE_SIZE = 25;
/** A plain search term is looked up in each of these (the API ANDs dimensions, so one request each). */
const TEXT_DIMENSIONS = ['view_id', 'video_title', 'viewer_id'];

export function ViewsPage() {
  const { timeframe, filters } = readMetricsState(useRoute().query);
  const setScope = (c: { timeframe?: string[]; filters?: string[] }) => {
    setPage(1);
    setQuery(metricsQuery({ timeframe, filters, ...c }));
  };
  const setFilters = (f: string[]) => setScope({ filters: f });
  const [term, setTerm] = useState('');
  const [text, setText] = useState('');
  const [page, setPage] = useState(1);

  const views = useData(async (): Promise<ViewList> => {
    const base = { 'timeframe[]': timeframe, limit: PAGE_SIZE, page };
    if (!text)
      return getJson<VideoViewListResponse>('/data/v1/video-views', { ...base, 'filters[]': filters });
    const lists = await Promise.all(
      TEXT_DIMENSIONS.map((d) =>
        getJson<VideoViewListResponse>('/data/v1/video-views', {
          ...base,
          'filters[]': [...filters, `${d}:${text}`],
        }),
      ),
    );
    const seen = new Set<string>();
    const data = lists.flatMap((l) => l.data).filter((v) => !seen.has(v.view_id) && seen.add(v.view_id));
    return { data, total_row_count: lists.reduce((n, l) => n + l.total_row_count, 0) };
  }, [timeframe.join('-'), filters.join('\n'), text, page]);

  const search = (e: Event) => {
    e.preventDefault();
    const t = term.trim();
    setPage(1);
    if (/^!?[a-z0-9_]+:./.test(t)) {
      if (!filters.includes(t)) setFilters([...filters, t]);
      setText('');
    } else setText(t);
    setTerm('');
  };
  const total = views.data?.total_row_count ?? 0;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));

  return (
    <div class="page views">
      <div class="toolbar">
        <h1>Views</h1>
        <form class="search" onSubmit={search}>
          <input
            data-testid="search"
            placeholder="view id, video title, viewer id — or dimension:value (country:DE)"
            value={term}
            onInput={(e) => setTerm((e.target as HTMLInputElement).value)}
          />
          <button type="submit">Search</button>
        </form>
        <TimeRange timeframe={timeframe} onChange={(tf) => setScope({ timeframe: tf })} />
        <CsvButton
          path="/data/v1/video-views"
          query={{ 'timeframe[]': timeframe, 'filters[]': filters, limit: PAGE_SIZE, page }}
          name="views"
          {...(text
            ? { disabled: 'A text search spans several requests: export with dimension:value filters' }
            : {})}
        />
      </div>
      {text && (
        <div class="chips">
          <span class="chip">
            matching{' '}
            <b>
              <UserText text={text} wrap />
            </b>
            <button type="button" onClick={() => setText('')}>
              ×
            </button>
          </span>
        </div>
      )}
      <FilterChips filters={filters} onChange={setFilters} />
      <ErrorNote error={views.error} />
      {views.data && views.data.data.length === 0 && !text && filters.length === 0 ? (
        <EmptyState title="No views stored yet">
          <p>
            A view is stored when it completes: a minute after its last beacon, or at once when the player
            ends.
          </p>
        </EmptyState>
      ) : (
        <section class="card">
          <table class="views-table" data-testid="views-table">
            <thead>
              <tr>
                <th>Ended</th>
                <th>Video</th>
                <th>Player</th>
                <th>Browser / OS</th>
                <th>Country</th>
                <th>CDN</th>
                <th class="num">Startup</th>
                <th class="num">Rebuffering</th>
                <th>Outcome</th>
                <th class="num">Score</th>
              </tr>
            </thead>
            <tbody>
              {(views.data?.data ?? []).map((v) => (
                <tr key={v.view_id} data-view-id={v.view_id}>
                  <td>
                    <a {...linkProps(`/views/${encodeURIComponent(v.view_id)}`)}>{formatTime(v.view_end)}</a>
                  </td>
                  <td class="title">{v.video_title ? <UserText text={v.video_title} /> : <i>untitled</i>}</td>
                  <td>
                    <UserText text={v.player_software ?? ''} />
                  </td>
                  <td>
                    <UserText text={[v.browser, v.operating_system].filter(Boolean).join(' / ')} />
                  </td>
                  <td>
                    <UserText text={v.country ?? ''} />
                  </td>
                  <td>
                    <UserText text={v.cdn_host ?? ''} />
                  </td>
                  <td class="num">{formatValue(v.video_startup_time_ms ?? null, 'ms')}</td>
                  <td class="num">{formatValue(v.rebuffer_percentage ?? null, 'percent')}</td>
                  <td>
                    <span class={`outcome ${v.outcome}`}>{v.outcome}</span>
                    {v.error_code ? ` ${v.error_code}` : ''}
                  </td>
                  <td class="num">{formatValue(v.viewer_experience_score ?? null, 'score')}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <div class="pager">
            <button type="button" disabled={page <= 1} onClick={() => setPage(page - 1)}>
              ‹ Newer
            </button>
            <span class="muted">
              page {page} of {pages} · {total.toLocaleString('en')} views
            </span>
            <button type="button" disabled={page >= pages} onClick={() => setPage(page + 1)}>
              Older ›
            </button>
          </div>
        </section>
      )}
    </div>
  );
}
