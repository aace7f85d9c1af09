/**
 * Players' own CMCD v2 event-mode reporting (`cmcd.eventTargets`: the
 * reference reporter bundled in hls.js 1.7 and dash.js 5.2) pointed at
 * openqoe's `POST /v1/cmcd/{env_key}`, during real playback in Chromium with
 * a held segment. No openqoe code runs in the page. The session's view, read
 * back through the query API, must match the page's frame truth.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { largestSlowdown } from '../../../server/test/helpers/patience.js';
import { slowTests } from '../../../server/test/helpers/slow-tests.js';
import { playedTo, truthOf } from './compat-kit.js';
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
  timelineText,
  type ViewRow,
  waitForView,
} from './kit/index.js';

slowTests(180_000);

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
});

afterAll(async () => {
  await browser?.close();
  await media?.close();
  await stopOpenqoe(server);
});

interface Player {
  name: string;
  script: string;
  /** The page's player setup, given the session id, the content id and the event target. */
  setup(sid: string, cid: string, target: string): string;
  hold: RegExp;
  holdMs: number;
  streamFormat: string;
  /**
   * Whether the player's "starting" state begins at the page's play request.
   * hls.js enters it on the media element's play; dash.js already while it
   * loads the stream, before the page asks to play, so its startup is longer.
   */
  startsAtPlayRequest: boolean;
}

const EVENTS = "['ps', 'e', 't', 'rr', 'bc']";

const HLSJS: Player = {
  name: 'hls.js',
  script: '/lib/hls.js',
  setup: (sid, cid, target) => `
const hls = new Hls({
  maxBufferLength: 2, maxMaxBufferLength: 2, backBufferLength: 0,
  cmcd: {
    version: 2,
    sessionId: ${JSON.stringify(sid)},
    contentId: ${JSON.stringify(cid)},
    includeKeys: [],
    eventTargets: [{ url: ${JSON.stringify(target)}, events: ${EVENTS}, interval: 30, batchSize: 1 }],
  },
});
hls.on(Hls.Events.MANIFEST_PARSED, () => { markPlay(); video.play().catch(() => {}); });
hls.loadSource('/media/hls-ts/master.m3u8');
hls.attachMedia(video);
`,
  hold: /hls-ts\/v\d\/seg_00003\.ts$/,
  holdMs: 4000,
  streamFormat: 'hls',
  startsAtPlayRequest: true,
};

const DASH_KEYS = JSON.stringify(
  'e ts sn v sid cid sf st sta msd bsa bsd bsda br pb bl tb mtp ot d pr pt ltc ec rc ttfb ttlb url cdn h'.split(
    ' ',
  ),
);

const DASHJS: Player = {
  name: 'dash.js',
  script: '/lib/dash.js',
  setup: (sid, cid, target) => `
const player = dashjs.MediaPlayer().create();
player.updateSettings({ streaming: {
  buffer: { bufferTimeDefault: 2, bufferTimeAtTopQuality: 2, bufferTimeAtTopQualityLongForm: 2 },
  cmcd: {
    enabled: true, version: 2, sid: ${JSON.stringify(sid)}, cid: ${JSON.stringify(cid)},
    // dash.js reports no key a target does not list (its default is none).
    eventTargets: [{ enabled: true, url: ${JSON.stringify(target)}, events: ${EVENTS}, interval: 30, batchSize: 1, enabledKeys: ${DASH_KEYS} }],
  },
} });
player.on(dashjs.MediaPlayer.events.STREAM_INITIALIZED, () => { markPlay(); video.play().catch(() => {}); });
// An absolute URL: dash.js's CMCD response reporting cannot parse a relative one.
player.initialize(video, location.origin + '/media/dash/manifest.mpd', false);
`,
  // Segments are numbered from 1: 00004 holds 6–8 s (video and audio, as in the dash.js adapter test).
  hold: /dash\/seg-\d-00004\.m4s$/,
  holdMs: 5000,
  streamFormat: 'dash',
  startsAtPlayRequest: false,
};

/**
 * The time a player's own CMCD reports spend rebuffering after its first `p`: from each report in
 * state `r` to the next report in another state, in sequence order, once per sequence number.
 * Response-received reports are skipped: they are stamped with their request's start.
 */
function reportedRebufferMs(lines: readonly string[]): number {
  const key = (l: string, k: string) => new RegExp(`(?:^|,)${k}=("[^"]*"|[^,]*)`).exec(l)?.[1];
  const bySeq = new Map<number, { sta: string; ts: number }>();
  for (const l of lines) {
    const sta = key(l, 'sta');
    const sn = Number(key(l, 'sn'));
    // The first report of a sequence number is the one kept, as at the intake.
    if (key(l, 'e') === 'rr' || sta === undefined || bySeq.has(sn)) continue;
    bySeq.set(sn, { sta, ts: Number(key(l, 'ts')) });
  }
  let total = 0;
  let played = false;
  let since: number | undefined;
  for (const [, r] of [...bySeq].sort((a, b) => a[0] - b[0])) {
    if (since !== undefined && r.sta !== 'r') {
      total += r.ts - since;
      since = undefined;
    }
    if (r.sta === 'p') played = true;
    else if (r.sta === 'r' && played && since === undefined) since = r.ts;
  }
  return total;
}

async function stallThroughCmcd(p: Player): Promise<ViewRow> {
  const sid = `cmcd-${p.name}-${Date.now()}`;
  const cid = `cmcd-stall-${p.name}`;
  const target = `${server.url}/v1/cmcd/${server.bootstrap().environment.key}`;
  const hold = media.rule({ match: p.hold, holdMs: p.holdMs, times: 1 });
  const ctx = await newContext(browser);
  try {
    const page = await ctx.newPage();
    const posted: string[] = [];
    page.on('request', (req) => {
      if (process.env['OPENQOE_E2E_DEBUG'] && !req.url().includes('/media/'))
        console.log('request', req.method(), req.url());
      if (req.url().startsWith(target)) posted.push(req.postData() ?? '');
    });
    // What the intake answered: refusals, and the reports it acknowledged (the ground truth of what it holds).
    const refusals: string[] = [];
    const acknowledged: string[] = [];
    page.on('response', (res) => {
      if (!res.url().startsWith(target)) return;
      const body = res.request().postData() ?? '';
      if (res.status() === 200) acknowledged.push(...body.split('\n').filter((l) => l.trim()));
      else refusals.push(`${res.status()}: ${body.slice(0, 300)}`);
    });
    page.on('console', (m) => {
      if (process.env['OPENQOE_E2E_DEBUG']) console.log('page', m.text().slice(0, 300));
    });
    const path = `/cmcd-${p.name}.html`;
    media.page(
      path,
      playerPage(
        [p.script],
        `const video = document.getElementById('v');\nwatchFrames(video);\n${p.setup(sid, cid, target)}`,
      ),
    );
    await page.goto(`${media.url}${path}`);
    await playedTo(page, 9.5, 60_000);
    const truth = await truthOf(page);
    await page.close({ runBeforeUnload: true });
    const closedAtMs = Date.now();

    // What the player posted: CMCD dictionaries, one per line, with play states and sequence numbers.
    const lines = posted.flatMap((b) => b.split('\n')).filter((l) => l.trim());
    if (process.env['OPENQOE_E2E_DEBUG']) console.log(p.name, lines.join('\n'));
    expect(lines.some((l) => /(^|,)e=ps(,|$)/.test(l) && /(^|,)sta=r(,|$)/.test(l))).toBe(true);
    // Every report the player sent was taken: a refused one would be resent for the rest of the session.
    expect(refusals, 'reports the intake refused').toEqual([]);
    // Its successful requests, once each (a resent report repeats its sequence number): all the intake
    // acknowledged, and at most all the player sent (a post in flight when the page closed may have
    // arrived with no answer seen).
    const requestsIn = (ls: readonly string[]) =>
      new Set(
        ls
          .filter((l) => /(^|,)e=rr(,|$)/.test(l) && /(^|,)rc=[23]\d\d(,|$)/.test(l))
          .map((l) => /(^|,)sn=(\d+)/.exec(l)?.[2]),
      ).size;

    // A silence during playback may complete (and store) the view early; the row wanted is the one
    // stored after the page went.
    const view = await waitForView(
      server,
      sid,
      (v) => v['status'] === 'completed' && new Date(v['updated_at'] as string).getTime() >= closedAtMs,
      40_000,
    );
    if (process.env['OPENQOE_E2E_DEBUG']) console.log(timelineText(view));
    const holdEndMs = Math.max(...hold.hits.map((h) => h.endMs));
    const heldMs = Math.max(...hold.hits.map((h) => h.endMs - h.startMs));
    const stalls = frameGaps(truth, FPS).filter((g) => g.toMs >= holdEndMs && g.fromMs <= holdEndMs + 1000);
    expect(stalls, 'presented-frame gap of the scripted stall').toHaveLength(1);
    const gap = stalls[0]!.stallMs;
    expect(gap).toBeLessThanOrEqual(heldMs + 100);
    expect(view.rebuffer_count).toBe(1);
    expect(view.request_count, 'requests: the rr reports with a 2xx or 3xx status').toBeGreaterThanOrEqual(
      requestsIn(acknowledged),
    );
    expect(view.request_count).toBeLessThanOrEqual(requestsIn(lines));
    // A mean TTFB, when any request had one, is a duration on this machine (a hold included), never a time of day.
    if (view.request_ttfb_ms !== null)
      expect(view.request_ttfb_ms as number).toBeLessThanOrEqual(p.holdMs + 10_000);
    const rebufferMs = view.rebuffer_duration_ms as number;
    // The rebuffer comes from the player's own reports, which lag its frames by its event-loop delay;
    // a busy machine stretches that, so the idle tolerance, max(100 ms, 5 %), grows with the measured
    // slowdown (it is the idle one at 1). The collector's own stall tests keep the idle tolerance.
    const tolerance = Math.max(100, 0.05 * gap) * largestSlowdown();
    expect(
      Math.abs(rebufferMs - gap),
      `rebuffer ${rebufferMs} ms vs frame gap ${gap} ms (slowdown ${largestSlowdown().toFixed(2)})`,
    ).toBeLessThanOrEqual(tolerance);
    // Against the player's own clock the rebuffer is exact: the spans its reports put in state `r`
    // after its first `p` (time before the first frame is startup, though dash.js reports `r` there too).
    expect(rebufferMs, 'rebuffer vs the player’s own r → next state reports').toBe(
      reportedRebufferMs(acknowledged),
    );
    const startup = view.video_startup_time_ms as number;
    const truthStartup = startupFromFrames(truth);
    // The same lag holds at startup's end (the player's "playing" report against the first frame).
    if (p.startsAtPlayRequest)
      expect(
        Math.abs(startup - truthStartup),
        `startup ${startup} ms vs page marks ${truthStartup} ms (slowdown ${largestSlowdown().toFixed(2)})`,
      ).toBeLessThanOrEqual(150 * largestSlowdown());
    // Measured from the player's own "starting" report, which comes before the page's request.
    else
      expect(startup, `startup ${startup} ms vs page marks ${truthStartup} ms`).toBeGreaterThanOrEqual(
        truthStartup - 50,
      );
    expect(view).toMatchObject({
      outcome: 'success',
      video_id: cid,
      session_id: sid,
      stream_format: p.streamFormat,
      sdk_name: 'cmcd',
      sdk_version: '2',
    });
    if (process.env['OPENQOE_E2E_REPORT'])
      console.log(
        JSON.stringify({
          player: p.name,
          frameGapMs: Math.round(gap),
          rebufferMs,
          startup,
          truthStartup: Math.round(truthStartup),
        }),
      );
    return view;
  } finally {
    hold.remove();
    await ctx.close().catch(() => {});
  }
}

describe('players’ built-in CMCD v2 event mode → CMCD intake', () => {
  it('hls.js 1.7: a scripted stall; startup, rebuffer count and duration match the frame truth; requests and CDN host', async () => {
    const view = await stallThroughCmcd(HLSJS);
    expect(view).toMatchObject({ stream_type: 'vod', cdn_host: new URL(media.url).host });
    expect(view.request_count as number).toBeGreaterThanOrEqual(5);
    expect(view.request_ttfb_ms as number).toBeGreaterThan(0);
  });

  it('dash.js 5.2: a scripted stall; rebuffer count and duration match the frame truth (startup from dash.js’s own starting state)', async () => {
    await stallThroughCmcd(DASHJS);
  });
});
