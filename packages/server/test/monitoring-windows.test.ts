/**
 * The windowing stage fed scripted views through the real view model, with
 * the clock driven by the test, delivering to two real file sinks (NDJSON
 * and length-delimited protobuf). Expected records are written by hand in
 * helpers/monitoring-script.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromBinary, fromJson, type JsonValue, toJson } from '@bufbuild/protobuf';
import { monitoring as pb } from '@openqoe/schema';
import { Value } from '@sinclair/typebox/value';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { MonitoringConfigSchema } from '../src/config/monitoring-config.js';
import { MonitoringStage } from '../src/outputs/stream/monitoring-stage.js';
import { type AppliedBeacon, PipelineEvents } from '../src/pipeline/pipeline-events.js';
import { ActiveViews, type Arrival, DEFAULT_TIMERS } from '../src/pipeline/view-model/active-views.js';
import { nativeItems } from '../src/pipeline/view-model/normalize-native.js';
import {
  type ExpectedRecord,
  expectedRecords,
  recordsOfJsonPayloads,
  scriptedViews,
  sortRecords,
  type ViewScript,
} from './helpers/monitoring-script.js';
import { removeDir, tempDataDir } from './helpers/server-process.js';

const T0 = 1_763_700_000_000; // a multiple of 10 s
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

async function setup(extra: Record<string, unknown> = {}) {
  const dir = tempDataDir('openqoe-mon-');
  dirs.push(dir);
  const config = Value.Default(MonitoringConfigSchema, {
    intervalMs: 10_000,
    allowedLatenessMs: 5000,
    ebvsDelayMs: 20_000,
    sinks: [
      { type: 'file', name: 'nd', format: 'json', directory: join(dir, 'out-json') },
      { type: 'file', name: 'pb', format: 'protobuf', directory: join(dir, 'out-pb') },
    ],
    ...extra,
  }) as ReturnType<typeof Value.Default> & object;
  // Defaults of the sinks inside the array are filled by the config loader; here by hand.
  const withSinkDefaults = {
    ...(config as object),
    sinks: (config as { sinks: object[] }).sinks.map((s) => ({
      bufferMaxBytes: 1 << 20,
      whenFull: 'block',
      retryInitialBackoffMs: 10,
      retryMaxBackoffMs: 50,
      maxFileBytes: 1 << 20,
      maxFiles: 5,
      ...s,
    })),
  };
  const views = new ActiveViews({ ...DEFAULT_TIMERS, idleCompleteMs: 15_000 });
  const events = new PipelineEvents(views);
  const stage = await MonitoringStage.open({
    config: withSinkDefaults as never,
    dataDir: dir,
    minStallMs: 250,
    emitOnSchedule: false,
    registry: new Registry(),
    log: { info() {}, warn() {}, error() {} },
  });
  stage.subscribe(events);
  const apply = (script: ViewScript, receivedAtMs: number, fromSeq = 0, toSeq = Number.POSITIVE_INFINITY) => {
    const arrival: Arrival = { envId: 'env1', receivedAtMs, clockOffsetMs: 0, ip: '', userAgent: '' };
    const inRange = <T extends { sequenceNumber: number }>(x: T) =>
      x.sequenceNumber >= fromSeq && x.sequenceNumber < toSeq;
    const items = nativeItems(script.samples.filter(inRange), script.events.filter(inRange));
    views.apply(arrival, script.viewId, items);
    const applied: AppliedBeacon = {
      arrival,
      sourceViewId: script.viewId,
      view: views.get('env1', script.viewId),
      items,
    };
    void events.deliver({ event: { beacons: [applied], replay: false }, accepted: 0 });
  };
  const tick = (now: number) => {
    views.tick(now);
    events.emit('tick', { nowMs: now, replay: false });
  };
  const read = async () => {
    // The runners deliver asynchronously; wait until both sinks have drained their buffers.
    for (let i = 0; i < 200; i++) {
      const m = await stage.metrics.buffered.get();
      if (m.values.every((v) => v.value === 0)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await stage.close();
    const jsonDir = join(dir, 'out-json');
    const lines = readdirSync(jsonDir)
      .sort()
      .flatMap((f) => readFileSync(join(jsonDir, f), 'utf8').split('\n').filter(Boolean));
    const pbDir = join(dir, 'out-pb');
    const binaries: Uint8Array[] = [];
    for (const f of readdirSync(pbDir).sort()) {
      const buf = readFileSync(join(pbDir, f));
      let o = 0;
      while (o < buf.length) {
        let len = 0;
        let shift = 0;
        for (;;) {
          const b = buf[o++]!;
          len |= (b & 0x7f) << shift;
          shift += 7;
          if (b < 0x80) break;
        }
        binaries.push(buf.subarray(o, o + len));
        o += len;
      }
    }
    return { lines, binaries };
  };
  return { apply, tick, read, stage };
}

describe('monitoring windows', () => {
  it('splits scripted views into the hand-computed records, in JSON and protobuf alike', async () => {
    const { apply, tick, read } = await setup();
    const scripts = scriptedViews(T0);
    for (const s of scripts) apply(s, T0 + 40_000);
    // Nothing is due before a window's end + allowed lateness.
    tick(T0 + 14_999);
    // Then every 5 s until the EBVS delay (20 s of silence after arrival at +40 s) has passed.
    for (let now = T0 + 15_000; now <= T0 + 70_000; now += 5000) tick(now);
    const { lines, binaries } = await read();
    const fromJsonLines = recordsOfJsonPayloads(lines.map((l) => JSON.parse(l)));
    expect(fromJsonLines).toEqual(sortRecords(expectedRecords(T0)));
    // The protobuf payloads carry the same messages as the JSON ones.
    const asJson = binaries.map((b) =>
      toJson(pb.SamplesSchema, fromBinary(pb.SamplesSchema, b), { useProtoFieldName: true }),
    );
    expect(recordsOfJsonPayloads(asJson)).toEqual(fromJsonLines);
    // Every JSON line parses back with a protobuf library, and a sample holds one view.
    for (const l of lines) {
      const msg = fromJson(pb.SamplesSchema, JSON.parse(l) as JsonValue);
      const ids = msg.samples.map((s) => s.viewId);
      expect(new Set(ids).size).toBe(ids.length);
      for (const s of msg.samples) {
        expect(s.environmentId).toBe('env1');
        for (const r of s.records) expect(r.metrics.length).toBeGreaterThan(0);
      }
    }
    // The failed-at-start view says so on its sample.
    const samples = lines.flatMap((l) => (JSON.parse(l) as { samples: Record<string, unknown>[] }).samples);
    expect(
      samples.some((s) => s['view_id'] === 'view-failstart' && s['video_startup_failure'] === true),
    ).toBe(true);
    // Only the sample carrying the EBVS record says exit_before_video_start.
    expect(samples.filter((s) => s['exit_before_video_start'] === true).map((s) => s['view_id'])).toEqual([
      'view-ebvs',
    ]);
  });

  it('credits a stall still in progress when its window is due, and the rest when it ends', async () => {
    const { apply, tick, read } = await setup();
    const [ok] = scriptedViews(T0);
    // Up to and including the 3 s stall (seq 0..4): the stall is still open at the first emission.
    apply(ok!, T0 + 11_000, 0, 5);
    tick(T0 + 15_000);
    apply(ok!, T0 + 31_000, 5);
    for (let now = T0 + 20_000; now <= T0 + 40_000; now += 5000) tick(now);
    const { lines } = await read();
    const got = recordsOfJsonPayloads(lines.map((l) => JSON.parse(l)));
    expect(got).toEqual(sortRecords(expectedRecords(T0).filter((r) => r.view_id === 'view-ok')));
  });

  it('counts data for an already emitted window as late and does not re-emit it', async () => {
    const { apply, tick, read, stage } = await setup();
    const [ok] = scriptedViews(T0);
    apply(ok!, T0 + 10_000, 0, 3); // play request, startup, 6 s playing: window 1
    tick(T0 + 20_000); // window 1 is emitted (it ended 10 s ago, lateness 5 s)
    apply(ok!, T0 + 31_000, 3); // the stall and the rest: 1500 ms of it belongs to window 1
    for (let now = T0 + 35_000; now <= T0 + 50_000; now += 5000) tick(now);
    const late = (await stage.metrics.lateRecords.get()).values[0]?.value ?? 0;
    const { lines } = await read();
    const got = recordsOfJsonPayloads(lines.map((l) => JSON.parse(l)));
    const expected: ExpectedRecord[] = [
      {
        view_id: 'view-ok',
        start_ms: T0,
        duration_ms: 10_000,
        metrics: { START_LATENCY_MS: 1500, WATCH_DURATION_MS: 7500 },
      },
      ...expectedRecords(T0).filter((r) => r.view_id === 'view-ok' && r.start_ms > T0),
    ];
    expect(got).toEqual(sortRecords(expected));
    expect(late).toBeGreaterThan(0);
  });
});
