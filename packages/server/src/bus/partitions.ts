/**
 * How views map to partitions of the NATS beacon stream. The hash is fixed
 * (FNV-1a, 32 bit) so every ingest node, in any version, sends a view to the
 * same subject, and the one worker owning that partition sees all its data.
 */
export function partitionOf(viewId: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < viewId.length; i++) {
    h ^= viewId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % partitions;
}

/** Parses `0-3,6` into [0,1,2,3,6]; empty means every partition. Throws naming the bad part. */
export function parsePartitionList(list: string, partitions: number): number[] {
  if (list.trim() === '') return Array.from({ length: partitions }, (_, i) => i);
  const out = new Set<number>();
  for (const part of list.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`partition list: "${part}" is not a number or a range like 0-3`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from) throw new Error(`partition list: range "${part}" runs backwards`);
    if (to >= partitions)
      throw new Error(
        `partition list: ${to} is out of range (cluster.partitions is ${partitions}: 0-${partitions - 1})`,
      );
    for (let p = from; p <= to; p++) out.add(p);
  }
  return [...out].sort((a, b) => a - b);
}

export const beaconSubject = (prefix: string, partition: number) =>
  `${prefix.toLowerCase()}.beacons.${partition}`;
export const beaconStream = (prefix: string) => `${prefix}_BEACONS`;
export const storeSubject = (prefix: string, kind: string) => `${prefix.toLowerCase()}.store.${kind}`;
export const storeStream = (prefix: string) => `${prefix}_STORE`;
export const registrySubject = (prefix: string) => `${prefix.toLowerCase()}.registry`;
export const realtimeSubject = (prefix: string) => `${prefix.toLowerCase()}.realtime`;
export const countsSubject = (prefix: string) => `${prefix.toLowerCase()}.counts`;
