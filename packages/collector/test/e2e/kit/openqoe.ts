/**
 * The real openqoe server for browser tests (the built CLI on a free port
 * with a temp data dir) and reads through its query API, so a test proves
 * the whole path collector → intake → pipeline → store → API.
 */
import {
  removeDir,
  type ServerProcess,
  startServer,
  TEST_CONFIG,
  waitFor,
} from '../../../../server/test/helpers/server-process.js';

export type { ServerProcess };
export { removeDir, waitFor };

export async function startOpenqoe(config: Record<string, unknown> = {}): Promise<ServerProcess> {
  return startServer({ config: { ...TEST_CONFIG, ...config } });
}

export async function stopOpenqoe(server: ServerProcess | undefined): Promise<void> {
  if (!server) return;
  await server.kill();
  removeDir(server.dataDir);
}

export type ViewRow = Record<string, unknown> & {
  view_id: string;
  outcome: string;
  timeline: {
    kind: string;
    state: string;
    type: string | null;
    duration_ms: number | null;
    error_code: string | null;
    video_width: number | null;
    video_height: number | null;
  }[];
};

/** A view's timeline in one line, for failure messages and debug output: `playing:5257 rebufferstart …`. */
export function timelineText(view: ViewRow): string {
  return view.timeline.map((t) => (t.kind === 'sample' ? `${t.state}:${t.duration_ms}` : t.type)).join(' ');
}

/** GET /data/v1/video-views/{id}, or null while it is not stored. */
export async function getView(server: ServerProcess, viewId: string): Promise<ViewRow | null> {
  const res = await fetch(`${server.url}/data/v1/video-views/${encodeURIComponent(viewId)}`, {
    headers: { authorization: server.adminAuth() },
  });
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`video-views/${viewId}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { data: ViewRow }).data;
}

/**
 * The server's intake counters (beacons by outcome, rejections), for a view that never arrives:
 * they tell a beacon the server never got from one it refused.
 */
async function intakeCounts(server: ServerProcess): Promise<string> {
  try {
    const res = await fetch(`${server.url}/metrics`, { headers: { authorization: server.adminAuth() } });
    const lines = (await res.text())
      .split('\n')
      .filter((l) => /^openqoe_(intake_beacons_total|intake_\w*rejected\w*|rejected_\w+)\b/.test(l));
    return lines.join(', ') || 'no intake counters';
  } catch (err) {
    return `unavailable (${(err as Error).message})`;
  }
}

/** Polls the query API until the view is stored and `ready(view)` holds; returns it. */
export async function waitForView(
  server: ServerProcess,
  viewId: string,
  ready: (v: ViewRow) => boolean = (v) => v['status'] !== 'active',
  timeoutMs = 30_000,
): Promise<ViewRow> {
  let view: ViewRow | null = null;
  try {
    await waitFor(
      async () => {
        view = await getView(server, viewId);
        return view !== null && ready(view);
      },
      `view ${viewId} in the query API`,
      timeoutMs,
    );
  } catch (err) {
    // What the API last answered, read now: "never stored" and "stored, still active" point at different faults.
    const last = view as ViewRow | null;
    const seen = last ? `status ${String(last['status'])}, timeline ${timelineText(last)}` : 'never stored';
    throw new Error(
      `${(err as Error).message} (last seen: ${seen.slice(0, 600)}; the server's intake: ${await intakeCounts(server)})`,
    );
  }
  return view!;
}
