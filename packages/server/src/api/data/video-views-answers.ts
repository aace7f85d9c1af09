/**
 * The video-views answers: a page of stored views (a summary of each), and
 * one view with every column and its timeline — the states it held and its
 * events, in sequence order, on the view's own clock.
 */
import type {
  TimelineEntry,
  VideoView,
  VideoViewListResponse,
  VideoViewResponse,
  VideoViewSummary,
} from '@openqoe/schema';
import type { AuthenticatedToken, Registry } from '../../auth/registry.js';
import { ApiError } from '../../http/api-error.js';
import { coveredEnvironmentIds } from '../../http/target-environment.js';
import type { TimelineEntry as StoredEntry } from '../../pipeline/view-model/timeline.js';
import { buildScope } from '../../query/query-scope.js';
import type { ReadValue, Store } from '../../store/store.js';
import { VIEW_COLUMNS } from '../../store/view-row.js';
import { ORDER_COLUMNS, type ViewListQuery } from './video-views-schemas.js';

/** The list shows a summary; one view shows every column. */
const SUMMARY = [
  'view_id',
  'env_id',
  'viewer_id',
  'view_start',
  'view_end',
  'video_id',
  'video_title',
  'player_software',
  'browser',
  'os',
  'device_category',
  'country',
  'cdn_host',
  'outcome',
  'error_code',
  'watch_time_ms',
  'video_startup_time_ms',
  'rebuffer_count',
  'rebuffer_percentage',
  'playback_failure',
  'exited_before_video_start',
  'viewer_experience_score',
];
const TIMES = new Set(['view_start', 'view_end', 'updated_at', 'first_received_at', 'last_received_at']);

const iso = (ms: ReadValue | undefined) => (typeof ms === 'number' ? new Date(ms).toISOString() : null);

/**
 * Store row → API object: environment_id and operating_system as the API names them, times as ISO 8601.
 * The row's columns are the table's, so it has the shape the API states for it.
 */
function present<T>(row: Record<string, ReadValue>): T {
  const out: Record<string, ReadValue> = {};
  for (const [k, v] of Object.entries(row)) {
    if (k === 'env_id') out['environment_id'] = v;
    else if (k === 'os') out['operating_system'] = v;
    else if (k === 'os_version') out['operating_system_version'] = v;
    else if (TIMES.has(k)) out[k] = iso(v);
    else out[k] = v;
  }
  return out as T;
}

export async function viewListAnswer(
  registry: Registry,
  store: Store,
  token: AuthenticatedToken,
  q: ViewListQuery,
): Promise<VideoViewListResponse> {
  const scope = buildScope(q, token, registry, undefined, store.dialect);
  const order = ORDER_COLUMNS[q.order_by ?? 'view_end'];
  const limit = scope.params.add(q.limit);
  const offset = scope.params.add((q.page - 1) * q.limit);
  const rows = await store.select(
    `SELECT ${SUMMARY.join(', ')}, count(*) OVER () AS total_row_count FROM ${store.dialect.views} WHERE ${scope.where}
     ORDER BY ${order} ${q.order_direction ?? 'desc'} NULLS LAST, view_id LIMIT ${limit} OFFSET ${offset}`,
    scope.params.values,
  );
  let total = Number(rows[0]?.['total_row_count'] ?? -1);
  if (total < 0) {
    const [c] = await store.select(
      `SELECT count(*) AS n FROM ${store.dialect.views} WHERE ${scope.where}`,
      scope.params.values.slice(0, -2),
    );
    total = Number(c?.['n'] ?? 0);
  }
  return {
    data: rows.map(({ total_row_count: _t, ...r }) => present<VideoViewSummary>(r)),
    total_row_count: total,
    timeframe: [Math.floor(scope.fromMs / 1000), Math.floor(scope.toMs / 1000)],
  };
}

export async function viewAnswer(
  registry: Registry,
  store: Store,
  token: AuthenticatedToken,
  viewId: string,
  environmentId: string | undefined,
): Promise<VideoViewResponse> {
  const envIds = coveredEnvironmentIds(registry, token, environmentId);
  const notFound = new ApiError('QOE_ERR_NOT_FOUND', [`No view ${viewId}`]);
  if (envIds.length === 0) throw notFound;
  const envParams = envIds.map((_, i) => `$${i + 2}`).join(', ');
  const [row] = await store.select(
    `SELECT ${VIEW_COLUMNS.map((c) => c.name).join(', ')} FROM ${store.dialect.views} WHERE view_id = $1 AND env_id IN (${envParams}) LIMIT 1`,
    [viewId, ...envIds],
  );
  if (!row) throw notFound;
  const offset = Number(row['clock_offset_ms'] ?? 0);
  const entries = JSON.parse(String(row['timeline'] ?? '[]')) as StoredEntry[];
  const { timeline: _stored, ...rest } = row;
  return { data: { ...present<VideoView>(rest), timeline: entries.map((e) => timelineEntry(e, offset)) } };
}

/** A stored entry as the API shows it, on the view's clock (device time + the view's clock offset). */
function timelineEntry(e: StoredEntry, offset: number): TimelineEntry {
  const ms = e[2] + offset;
  const common = { sequence_number: e[1], time: iso(ms), time_ms: ms, state: e[3] };
  return e[0] === 's'
    ? {
        kind: 'sample',
        ...common,
        duration_ms: e[4],
        samples: e[8],
        type: null,
        error_code: null,
        error_fatal: null,
        video_bitrate_bps: e[5],
        video_width: e[6],
        video_height: e[7],
      }
    : {
        kind: 'event',
        ...common,
        duration_ms: null,
        samples: 0,
        type: e[4],
        error_code: e[5],
        error_fatal: e[6],
        video_bitrate_bps: e[7],
        // Absent in timelines stored before events kept the rendition size.
        video_width: e[8] ?? null,
        video_height: e[9] ?? null,
      };
}
