/**
 * The real `mux-embed` SDK in real Chromium, pointed at openqoe's
 * Mux-protocol intake with `beaconCollectionDomain` (TLS, self-signed: the
 * browser is told to accept it). A plain <video> plays ffmpeg-made HLS; the
 * media server holds one segment (a stall) and the page seeks. The view read
 * back through the query API must match the page's own frame truth, and the
 * monitoring stream (a file sink) must carry it.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slowTests } from '../../../server/test/helpers/slow-tests.js';
import { playedTo, truthOf } from './compat-kit.js';
import { withinTolerance } from './harness.js';
import {
  CHROMIUM_ARGS,
  CHROMIUM_PATH,
  ensureMedia,
  FPS,
  frameGaps,
  type MediaServer,
  newContext,
  playerPage,
  type ServerProcess,
  startMediaServer,
  startOpenqoe,
  startupFromFrames,
  stopOpenqoe,
  timelineText,
  waitFor,
  waitForView,
} from './kit/index.js';

slowTests(180_000);

const MUX_EMBED = join(import.meta.dirname, '../../../../node_modules/mux-embed/dist/mux.js');

let browser: Browser;
let media: MediaServer;
let server: ServerProcess;
let streamDir: string;
let muxHost: string;

beforeAll(async () => {
  streamDir = mkdtempSync(join(tmpdir(), 'openqoe-mux-stream-'));
  const dir = ensureMedia();
  [browser, media, server] = await Promise.all([
    chromium.launch({
      executablePath: CHROMIUM_PATH,
      // The intake's certificate is self-signed, made for the test server's data dir.
      args: [...CHROMIUM_ARGS, '--ignore-certificate-errors'],
      headless: true,
    }),
    startMediaServer(dir),
    startOpenqoe({
      compat: { mux: { enabled: true, port: 0 } },
      // Mux flushes every 10 s: the lateness covers a flush (and a loaded machine) so windows see every event.
      monitoring: {
        intervalMs: 5000,
        allowedLatenessMs: 24_000,
        sinks: [{ type: 'file', name: 'stream', format: 'json', directory: streamDir }],
      },
    }),
  ]);
  media.file('/lib/mux.js', MUX_EMBED);
  const m = /Mux-protocol intake: https:\/\/(\S+)/.exec(server.output());
  if (!m) throw new Error(`no Mux-protocol intake address in the server output:\n${server.output()}`);
  muxHost = m[1]!.replace('localhost', '127.0.0.1');
});

afterAll(async () => {
  await browser?.close();
  await media?.close();
  await stopOpenqoe(server);
  rmSync(streamDir, { recursive: true, force: true });
});

interface SentBeacon {
  url: string;
  events: Record<string, unknown>[];
}

/** Every beacon the page posts to the intake, as sent (minified keys). */
function recordBeacons(page: Page): SentBeacon[] {
  const sent: SentBeacon[] = [];
  page.on('request', (req) => {
    if (req.method() !== 'POST' || !req.url().includes(muxHost)) return;
    try {
      const body = JSON.parse(req.postData() ?? '') as { events: Record<string, unknown>[] };
      sent.push({ url: req.url(), events: body.events });
    } catch {
      // A body that is not JSON is the intake's problem to refuse; the test reads what it can.
    }
  });
  return sent;
}

/** Monitoring-stream samples of one view, from the file sink's NDJSON. */
function streamSamples(viewId: string): { metrics: { type: string; value: number }[] }[] {
  const out: { metrics: { type: string; value: number }[] }[] = [];
  for (const f of readdirSync(streamDir)) {
    for (const line of readFileSync(join(streamDir, f), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const payload = JSON.parse(line) as {
        samples?: {
          view_id?: string;
          records?: { metrics?: { type: string; value: string | number }[] }[];
        }[];
      };
      for (const s of payload.samples ?? []) {
        if (s.view_id !== viewId) continue;
        for (const r of s.records ?? [])
          out.push({ metrics: (r.metrics ?? []).map((m) => ({ type: m.type, value: Number(m.value) })) });
      }
    }
  }
  return out;
}

describe('mux-embed (real SDK) → Mux-protocol intake', () => {
  it('a stall and a seek: startup, rebuffer count and duration match the frame truth; the monitoring stream carries the view', async () => {
    const envKey = server.bootstrap().environment.key;
    const hold = media.rule({ match: /hls-fmp4\/v\d\/seg_00003\.m4s$/, holdMs: 9000, times: 1 });
    const ctx = await newContext(browser);
    try {
      const page = await ctx.newPage();
      const sent = recordBeacons(page);
      media.page(
        '/mux.html',
        playerPage(
          ['/lib/mux.js'],
          `
const video = document.getElementById('v');
watchFrames(video);
mux.monitor(video, {
  beaconCollectionDomain: ${JSON.stringify(muxHost)},
  data: {
    env_key: ${JSON.stringify(envKey)},
    player_name: 'mux-embed e2e',
    player_init_time: Date.now(),
    video_id: 'mux-stall-seek',
    video_title: 'Mux stall and seek',
    video_cdn: 'test-cdn',
    custom_1: 'first custom',
  },
});
video.src = '/media/hls-fmp4/master.m3u8';
markPlay();
video.play().catch(() => {});
`,
        ),
      );
      await page.goto(`${media.url}/mux.html`);
      // Through the held segment (6–8 s) to 9 s, then back to 2 s and on to 4 s.
      await playedTo(page, 9, 60_000);
      await page.evaluate(() => {
        document.querySelector('video')!.currentTime = 2;
      });
      await waitFor(
        async () => {
          const frames = (await truthOf(page)).frames;
          const last = frames.at(-1)!;
          return last[1] >= 4 && last[1] < 9;
        },
        'the page to play on from the seek',
        30_000,
      );
      const truth = await truthOf(page);
      // Everything up to now reaches the intake before the page goes (the SDK flushes every 10 s).
      await waitFor(
        async () => sent.some((b) => b.events.some((e) => e['e'] === 'seeked')),
        'the beacon with the seek',
        20_000,
      );
      await page.close({ runBeforeUnload: true });

      // What mux-embed sent: minified keys, one view id, sequence numbers from 1.
      const events = sent.flatMap((b) => b.events);
      if (process.env['OPENQOE_E2E_DEBUG'])
        console.log(
          events.map((e) => `${e['xsqno']}:${e['e']}@${e['uti']}`).join(' '),
          JSON.stringify(events.find((e) => e['e'] === 'viewstart')),
        );
      const viewIds = new Set(events.map((e) => e['xid']));
      expect(viewIds.size).toBe(1);
      const viewId = String([...viewIds][0]);
      expect(events.map((e) => e['e'])).toEqual(
        expect.arrayContaining([
          'viewstart',
          'play',
          'playing',
          'rebufferstart',
          'rebufferend',
          'seeking',
          'seeked',
        ]),
      );
      expect(sent.every((b) => new URL(b.url).protocol === 'https:')).toBe(true);

      const view = await waitForView(server, viewId, (v) => v['status'] === 'completed', 40_000);
      const heldMs = Math.max(...hold.hits.map((h) => h.endMs - h.startMs));
      const holdEndMs = Math.max(...hold.hits.map((h) => h.endMs));
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
      // mux-embed's own time to first frame (`view_time_to_first_frame`, sent minified as
      // `xtitofifr` once the first frame was shown): the same clock, so within a few ms.
      const sdkTtff = events.map((e) => e['xtitofifr']).find((v) => typeof v === 'number') as
        | number
        | undefined;
      expect(sdkTtff, 'mux-embed sent its time to first frame').toBeGreaterThan(0);
      expect(
        Math.abs(startup - sdkTtff!),
        `startup ${startup} ms vs mux-embed's time to first frame ${sdkTtff} ms`,
      ).toBeLessThanOrEqual(5);
      expect(view).toMatchObject({
        outcome: 'success',
        completion_reason: 'explicit_end',
        seek_count: 1,
        video_id: 'mux-stall-seek',
        video_title: 'Mux stall and seek',
        player_name: 'mux-embed e2e',
        cdn_provider: 'test-cdn',
        custom_data_1: 'first custom',
        stream_format: 'hls',
      });
      expect(view.sdk_name).toMatch(/mux/);

      // The monitoring stream carries the same view: its startup and its one rebuffer.
      await waitFor(
        async () => streamSamples(viewId).some((s) => s.metrics.some((m) => m.type === 'REBUFFER_COUNT')),
        'the view’s rebuffer in the monitoring stream',
        60_000,
      );
      const sum = (type: string) =>
        streamSamples(viewId)
          .flatMap((s) => s.metrics)
          .filter((m) => m.type === type)
          .reduce((a, m) => a + m.value, 0);
      // A stall still open when its first window was due is credited in parts: the rest comes
      // with later windows, each emitted after its allowed lateness.
      await waitFor(
        async () => Math.abs(sum('REBUFFER_DURATION_MS') - rebufferMs) <= 1,
        'the rest of the rebuffer in later windows',
        30_000,
      ).catch(() => {});
      const metrics = streamSamples(viewId).flatMap((s) => s.metrics);
      if (process.env['OPENQOE_E2E_DEBUG'])
        console.log(
          JSON.stringify({
            rebufferMs,
            stream: metrics.filter((m) => m.type === 'REBUFFER_DURATION_MS'),
            startup,
          }),
          timelineText(view),
        );
      expect(sum('REBUFFER_COUNT')).toBe(1);
      expect(sum('START_LATENCY_MS')).toBe(startup);
      // Equal to the view's, unless part of it reached the pipeline after its window was emitted
      // (a loaded machine): the stream then counts it as late instead of re-emitting the window.
      const streamRebufferMs = sum('REBUFFER_DURATION_MS');
      if (Math.abs(streamRebufferMs - rebufferMs) > 1) {
        const text = await (await fetch(`${server.url}/metrics`)).text();
        const late = Number(/^openqoe_monitoring_late_records_total (\S+)$/m.exec(text)?.[1] ?? 0);
        expect(
          late,
          `stream rebuffer ${streamRebufferMs} ms vs view ${rebufferMs} ms with no late records`,
        ).toBeGreaterThan(0);
        expect(streamRebufferMs).toBeLessThan(rebufferMs);
      }
    } finally {
      hold.remove();
      await ctx.close().catch(() => {});
    }
  });
});
