/**
 * hls.js's own CMCD v2 event-mode reporting (its `cmcd.eventTargets`, the
 * reference reporter bundled in hls.js 1.7) pointed at openqoe's
 * `POST /v1/cmcd/{env_key}`, during real playback in Chromium with a held
 * segment. No openqoe code runs in the page. The session's view, read back
 * through the query API, must match the page's frame truth.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { playedTo, truthOf } from './compat-kit.js';
import { withinTolerance } from './harness.js';
import {
  ensureMedia,
  FPS,
  frameGaps,
  launchChromium,
  type MediaServer,
  newContext,
  playerPage,
  type ServerProcess,
  serveLibraries,
  startMediaServer,
  startOpenqoe,
  startupFromFrames,
  stopOpenqoe,
  waitForView,
} from './kit/index.js';

let browser: Browser;
let media: MediaServer;
let server: ServerProcess;

beforeAll(async () => {
  const dir = ensureMedia();
  [browser, media, server] = await Promise.all([
    launchChromium(),
    startMediaServer(dir),
    // hls.js sends no "quit" when the page goes: the view completes after this much silence.
    startOpenqoe({ views: { idleCompleteMs: 4000, tickIntervalMs: 500 } }),
  ]);
  serveLibraries(media);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await media?.close();
  await stopOpenqoe(server);
});

describe('hls.js built-in CMCD v2 event mode → CMCD intake', () => {
  it('a scripted stall: startup, rebuffer count and duration match the frame truth', async () => {
    const sid = `cmcd-hls-${Date.now()}`;
    const target = `${server.url}/v1/cmcd/${server.bootstrap().environment.key}`;
    const hold = media.rule({ match: /hls-ts\/v\d\/seg_00003\.ts$/, holdMs: 4000, times: 1 });
    const ctx = await newContext(browser);
    try {
      const page = await ctx.newPage();
      const posted: string[] = [];
      page.on('request', (req) => {
        if (req.url().startsWith(target)) posted.push(req.postData() ?? '');
      });
      media.page(
        '/cmcd-hls.html',
        playerPage(
          ['/lib/hls.js'],
          `
const video = document.getElementById('v');
watchFrames(video);
const hls = new Hls({
  maxBufferLength: 2, maxMaxBufferLength: 2, backBufferLength: 0,
  cmcd: {
    version: 2,
    sessionId: ${JSON.stringify(sid)},
    contentId: 'cmcd-stall',
    includeKeys: [],
    eventTargets: [{ url: ${JSON.stringify(target)}, events: ['ps', 'e', 't', 'rr', 'bc'], interval: 30, batchSize: 1 }],
  },
});
hls.on(Hls.Events.MANIFEST_PARSED, () => { markPlay(); video.play().catch(() => {}); });
hls.loadSource('/media/hls-ts/master.m3u8');
hls.attachMedia(video);
`,
        ),
      );
      await page.goto(`${media.url}/cmcd-hls.html`);
      await playedTo(page, 9.5, 60_000);
      const truth = await truthOf(page);
      await page.close({ runBeforeUnload: true });

      // What hls.js posted: CMCD dictionaries, one per line, with play states and sequence numbers.
      const lines = posted.flatMap((b) => b.split('\n')).filter((l) => l.trim());
      expect(lines.some((l) => /(^|,)e=ps(,|$)/.test(l) && /(^|,)sta=r(,|$)/.test(l))).toBe(true);
      expect(lines.some((l) => /(^|,)e=rr(,|$)/.test(l))).toBe(true);

      const view = await waitForView(server, sid, (v) => v['status'] === 'completed', 40_000);
      const holdEndMs = Math.max(...hold.hits.map((h) => h.endMs));
      const heldMs = Math.max(...hold.hits.map((h) => h.endMs - h.startMs));
      const stalls = frameGaps(truth, FPS).filter((g) => g.toMs >= holdEndMs && g.fromMs <= holdEndMs + 1000);
      expect(stalls, 'presented-frame gap of the scripted stall').toHaveLength(1);
      const gap = stalls[0]!.stallMs;
      expect(gap).toBeLessThanOrEqual(heldMs + 100);
      expect(view.rebuffer_count).toBe(1);
      const rebufferMs = view.rebuffer_duration_ms as number;
      expect(withinTolerance(rebufferMs, gap), `rebuffer ${rebufferMs} ms vs frame gap ${gap} ms`).toBe(true);
      const startup = view.video_startup_time_ms as number;
      const truthStartup = startupFromFrames(truth);
      expect(
        Math.abs(startup - truthStartup),
        `startup ${startup} ms vs page marks ${truthStartup} ms`,
      ).toBeLessThanOrEqual(150);
      expect(view).toMatchObject({
        outcome: 'success',
        video_id: 'cmcd-stall',
        session_id: sid,
        stream_format: 'hls',
        stream_type: 'vod',
        sdk_name: 'cmcd',
        sdk_version: '2',
        cdn_host: new URL(media.url).host,
      });
      expect(view.request_count as number).toBeGreaterThanOrEqual(5);
      expect(view.request_ttfb_ms as number).toBeGreaterThan(0);
    } finally {
      hold.remove();
      await ctx.close().catch(() => {});
    }
  }, 180_000);
});
