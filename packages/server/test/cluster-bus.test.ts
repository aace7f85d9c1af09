/**
 * The pieces of the NATS bus that decide where data goes: the view → partition
 * hash (checked against the published FNV-1a test vectors), partition lists,
 * splitting beacons by partition and by size, and cutting row batches.
 */
import { makeBeacon, makeEvent, makeSample } from '@openqoe/schema';
import { describe, expect, it } from 'vitest';
import { decodeIntakeRecord, type IntakeMeta, type IntakeRecord } from '../src/bus/intake-record.js';
import { fitRecord, splitByPartition } from '../src/bus/nats/nats-bus.js';
import { parsePartitionList, partitionOf } from '../src/bus/partitions.js';
import { chunkRows, type PartitionedRow } from '../src/cluster/hand-off-messages.js';

const meta: IntakeMeta = {
  kind: 'native',
  envId: 'env',
  receivedAtMs: 1_700_000_000_000,
  clockOffsetMs: 0,
  ip: '127.0.0.1',
  userAgent: 'test',
};

describe('partitionOf', () => {
  it('is FNV-1a (32 bit) modulo the partition count', () => {
    // FNV-1a 32: "a" → 0xe40c292c, "foobar" → 0xbf9cf968 (the FNV reference vectors).
    expect(partitionOf('a', 1024)).toBe(0xe40c292c % 1024);
    expect(partitionOf('foobar', 1024)).toBe(0xbf9cf968 % 1024);
    expect(partitionOf('a', 8)).toBe(4);
    expect(partitionOf('foobar', 8)).toBe(0);
    expect(partitionOf('', 8)).toBe(0x811c9dc5 % 8);
  });
});

describe('parsePartitionList', () => {
  it('reads ranges and single numbers, and empty as all', () => {
    expect(parsePartitionList('0-3', 8)).toEqual([0, 1, 2, 3]);
    expect(parsePartitionList('6,1-2,6', 8)).toEqual([1, 2, 6]);
    expect(parsePartitionList('', 3)).toEqual([0, 1, 2]);
  });
  it('names the bad part', () => {
    expect(() => parsePartitionList('0-8', 8)).toThrow('8 is out of range (cluster.partitions is 8: 0-7)');
    expect(() => parsePartitionList('3-1', 8)).toThrow('range "3-1" runs backwards');
    expect(() => parsePartitionList('x', 8)).toThrow('"x" is not a number or a range');
  });
});

describe('splitByPartition', () => {
  it('sends every view’s items to its own partition, in order', () => {
    // "a" → 4, "foobar" → 0 with 8 partitions (above).
    const beacon = makeBeacon({
      envKey: 'k',
      sentAt: 1,
      samples: [
        makeSample({ viewId: 'a', sequenceNumber: 0 }),
        makeSample({ viewId: 'foobar', sequenceNumber: 0 }),
        makeSample({ viewId: 'a', sequenceNumber: 1 }),
      ],
      events: [makeEvent({ viewId: 'foobar', sequenceNumber: 1, type: 'playrequest' })],
    });
    const parts = splitByPartition({ meta, beacon }, 8).sort((x, y) => x.partition - y.partition);
    expect(parts.map((p) => p.partition)).toEqual([0, 4]);
    expect(parts[0]!.record.beacon.samples.map((s) => [s.viewId, s.sequenceNumber])).toEqual([['foobar', 0]]);
    expect(parts[0]!.record.beacon.events.map((e) => e.sequenceNumber)).toEqual([1]);
    expect(parts[1]!.record.beacon.samples.map((s) => [s.viewId, s.sequenceNumber])).toEqual([
      ['a', 0],
      ['a', 1],
    ]);
    expect(parts[1]!.record.beacon.events).toEqual([]);
  });
});

describe('fitRecord', () => {
  it('halves a record until every piece fits, keeping every item once', () => {
    const samples = Array.from({ length: 40 }, (_, i) =>
      makeSample({ viewId: 'v', sequenceNumber: i, cdnHost: 'x'.repeat(200) }),
    );
    const beacon = makeBeacon({ envKey: 'k', sentAt: 1, samples, events: [] });
    const whole = fitRecord({ meta, beacon }, 1_000_000);
    expect(whole).toHaveLength(1);
    const limit = Math.ceil(whole[0]!.length / 5);
    const pieces = fitRecord({ meta, beacon }, limit);
    expect(pieces.length).toBeGreaterThanOrEqual(5);
    for (const p of pieces) expect(p.length).toBeLessThanOrEqual(limit);
    const seqs = pieces.flatMap((p) =>
      (decodeIntakeRecord(p) as IntakeRecord).beacon.samples.map((s) => s.sequenceNumber),
    );
    expect(seqs).toEqual(samples.map((s) => s.sequenceNumber));
    expect(() => fitRecord({ meta, beacon: { ...beacon, samples: samples.slice(0, 1) } }, 100)).toThrow(
      'larger than the bus allows',
    );
  });
});

describe('chunkRows', () => {
  const row = (partition: number, logPosition: number): PartitionedRow => ({
    partition,
    logPosition,
    envId: 'e',
    viewId: `v${logPosition}`,
    firstSeq: 0,
    lastSeq: 0,
    seqCount: 1,
    sampleCount: 1,
    eventCount: 0,
    receivedAtMs: 0,
    clockOffsetMs: 0,
    logId: 'S',
  });
  it('never splits the rows of one beacon', () => {
    const rows = [row(0, 1), row(0, 2), row(0, 2), row(0, 2), row(1, 3), row(1, 4)];
    expect(chunkRows(rows, 2).map((c) => c.map((r) => `${r.partition}:${r.logPosition}`))).toEqual([
      ['0:1', '0:2', '0:2', '0:2'],
      ['1:3', '1:4'],
    ]);
  });
});
