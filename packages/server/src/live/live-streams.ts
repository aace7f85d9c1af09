/**
 * Live streams: an id (public, used in tokens and player metadata) and a
 * secret stream key (what an encoder publishes to). Held in memory for the
 * ingest's lookups and written through to the store.
 */
import type { LiveStore, LiveStreamRecord } from '../store/live-store.js';
import { recordId } from './record-id.js';

export class LiveStreams {
  private readonly byId = new Map<string, LiveStreamRecord>();
  private readonly byKey = new Map<string, LiveStreamRecord>();

  private constructor(private readonly store: LiveStore) {}

  static async load(store: LiveStore): Promise<LiveStreams> {
    const s = new LiveStreams(store);
    for (const r of await store.liveStreams()) s.add(r);
    return s;
  }

  private add(r: LiveStreamRecord): void {
    this.byId.set(r.id, r);
    this.byKey.set(r.streamKey, r);
  }

  get(id: string): LiveStreamRecord | undefined {
    return this.byId.get(id);
  }

  byStreamKey(key: string): LiveStreamRecord | undefined {
    return this.byKey.get(key);
  }

  list(): LiveStreamRecord[] {
    return [...this.byId.values()];
  }

  async create(envId: string): Promise<LiveStreamRecord> {
    const record: LiveStreamRecord = {
      id: recordId(12),
      envId,
      // RTMP stream names are matched as [A-Za-z0-9_-]: base64url fits.
      streamKey: recordId(24),
      createdAtMs: Date.now(),
    };
    await this.store.insertLiveStream(record);
    this.add(record);
    return record;
  }

  async delete(id: string): Promise<boolean> {
    const r = this.byId.get(id);
    if (!r) return false;
    await this.store.deleteLiveStream(id);
    this.byId.delete(id);
    this.byKey.delete(r.streamKey);
    return true;
  }
}
