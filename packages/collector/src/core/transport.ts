/**
 * Beacon transport: a bounded queue of samples and events, batched into
 * `text/plain` JSON bodies under 60 KB (browsers cap keepalive bodies at
 * 64 KB in total), sent one at a time with `fetch(keepalive)`, retried with
 * capped exponential backoff and jitter, honouring 429 `Retry-After`, and
 * flushed with `sendBeacon` when the page is hidden or goes away.
 * Duplicates from retries are harmless: the server de-duplicates by
 * (viewId, sequenceNumber).
 *
 * A page closed while it is busy never runs `pagehide`: Chromium gives a
 * closing page's handlers 500 ms, then closes it without them, and the
 * view's end is lost. So, where the browser has `fetchLater`, each time a
 * batch leaves the transport also leaves the browser a standby request: the
 * view's end as it would be now, which the browser sends only if the page
 * goes away without withdrawing it (the `pagehide` path withdraws it and
 * sends the real end).
 */
import type { SCHEMA_VERSION } from '@openqoe/schema';
import type { PlayerEvent, Sample, SendFn, SendResult, TransportStats } from './types.js';

export const MAX_BODY_BYTES = 60_000;
const BACKOFF_BASE_MS = 1000;
const BACKOFF_CAP_MS = 64_000;
const GIVE_UP_AFTER_MS = 300_000;
const VERSION: typeof SCHEMA_VERSION = 1;

type Item = { s: 1; json: string } | { s: 0; json: string };
type FetchLater = (url: string, init: RequestInit) => unknown;

const toItem = (item: Sample | PlayerEvent): Item => ({
  s: 'durationMs' in item ? 1 : 0,
  json: JSON.stringify(item),
});

export interface TransportConfig {
  url: string;
  envKey: string;
  flushIntervalMs: number;
  maxQueue: number;
  send?: SendFn | undefined;
  /** Injected in tests; Math.random otherwise. */
  random?: () => number;
}

/** Exponential backoff with ±50 % jitter, capped; a server's Retry-After is a floor. */
export function backoffMs(attempt: number, random: number, retryAfterS?: number): number {
  const exp = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
  const jittered = exp * (0.5 + random / 2);
  return Math.max(jittered, (retryAfterS ?? 0) * 1000);
}

const fetchSend: SendFn = async (url, body) => {
  // Bodies stay under 60 KB and one is in flight at a time: inside the browsers' 64 KB keepalive budget.
  const res = await fetch(url, { method: 'POST', body, keepalive: true });
  const ra = Number(res.headers.get('retry-after'));
  return ra > 0 ? { status: res.status, retryAfterS: ra } : { status: res.status };
};

export class Transport {
  readonly stats: TransportStats = {
    beaconsSent: 0,
    beaconsFailed: 0,
    retries: 0,
    itemsDropped: 0,
    collectorErrors: 0,
  };
  private queue: Item[] = [];
  /** The batch being sent or waiting for its retry. */
  private pending: Item[] | null = null;
  private attempt = 0;
  private firstFailureMs = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private retrying = false;
  /** Withdraws the standby request in the browser's hands, if any. */
  private standby: AbortController | undefined;
  /** The view's end as it would be sent now, or null once there is no view to end (set by the core). */
  standbyItems: () => (Sample | PlayerEvent)[] | null = () => null;
  enabled = true;

  constructor(private readonly cfg: TransportConfig) {}

  push(item: Sample | PlayerEvent, urgent: boolean): void {
    if (!this.enabled) return;
    this.queue.push(toItem(item));
    if (this.queue.length > this.cfg.maxQueue) {
      this.queue.shift();
      this.stats.itemsDropped++;
    }
    if (urgent) this.flush();
    else if (!this.timer) this.schedule(this.cfg.flushIntervalMs);
  }

  /** Sends the next batch now unless one is in flight or waiting for its retry. */
  flush(): void {
    if (this.pending || !this.enabled) return;
    if (this.queue.length === 0) return;
    this.clearTimer();
    this.pending = this.take();
    this.armStandby();
    void this.sendPending();
  }

  /** Drops everything not yet sent (consent withdrawn). */
  clear(): void {
    this.stats.itemsDropped += this.queue.length + (this.pending?.length ?? 0);
    this.queue = [];
    this.pending = null;
    this.retrying = false;
    this.clearTimer();
    this.withdrawStandby();
  }

  /**
   * The page is hidden or going away: hand everything (including a batch
   * waiting for its retry) to `sendBeacon`, which outlives the page.
   */
  flushUnload(): void {
    if (!this.enabled) return;
    const items = this.retrying && this.pending ? [...this.pending, ...this.queue] : this.queue;
    if (this.retrying) {
      this.pending = null;
      this.retrying = false;
      this.clearTimer();
    }
    this.queue = [];
    while (items.length > 0) {
      const batch = this.take(items);
      const body = this.body(batch);
      let ok = false;
      try {
        ok = typeof navigator !== 'undefined' && !!navigator.sendBeacon?.(this.cfg.url, body);
      } catch {
        this.stats.collectorErrors++;
      }
      if (ok) this.stats.beaconsSent++;
      else {
        // sendBeacon refused (quota): keep it for a keepalive fetch, which also outlives the page.
        (this.cfg.send ?? fetchSend)(this.cfg.url, body).catch(() => undefined);
      }
    }
    // Hidden, the view goes on and the standby follows it; at pagehide the core has none left and it is withdrawn.
    this.armStandby();
  }

  /**
   * Replaces the standby request with the view's end as of now. Its sequence
   * numbers are the next ones, so it can never be mistaken for items already
   * sent; items recorded after it but never sent are lost with the page, as
   * they would be anyway.
   */
  private armStandby(): void {
    this.withdrawStandby();
    const later = (globalThis as { fetchLater?: FetchLater }).fetchLater;
    if (!this.enabled || typeof later !== 'function') return;
    const items = this.standbyItems();
    if (!items?.length) return;
    const ctl = new AbortController();
    try {
      later(this.cfg.url, { method: 'POST', body: this.body(items.map(toItem)), signal: ctl.signal });
      this.standby = ctl;
    } catch {
      // Over the quota, an untrusted URL or a frame not allowed deferred fetches: the pagehide path alone.
    }
  }

  private withdrawStandby(): void {
    this.standby?.abort();
    this.standby = undefined;
  }

  get queued(): number {
    return this.queue.length + (this.pending?.length ?? 0);
  }

  private take(from: Item[] = this.queue): Item[] {
    const batch: Item[] = [];
    let size = 120 + this.cfg.envKey.length;
    while (from.length > 0) {
      const next = from[0]!;
      if (batch.length > 0 && size + next.json.length + 1 > MAX_BODY_BYTES) break;
      size += next.json.length + 1;
      batch.push(next);
      from.shift();
    }
    return batch;
  }

  private body(batch: Item[]): string {
    const samples = batch.filter((i) => i.s === 1).map((i) => i.json);
    const events = batch.filter((i) => i.s === 0).map((i) => i.json);
    return `{"envKey":${JSON.stringify(this.cfg.envKey)},"schemaVersion":${VERSION},"sentAt":${Date.now()},"samples":[${samples.join(',')}],"events":[${events.join(',')}]}`;
  }

  private async sendPending(): Promise<void> {
    const batch = this.pending;
    if (!batch) return;
    this.retrying = false;
    let result: SendResult | null = null;
    try {
      result = await (this.cfg.send ?? fetchSend)(this.cfg.url, this.body(batch));
    } catch {
      result = null; // network error: retried like a 5xx
    }
    if (this.pending !== batch) return; // cleared or handed to sendBeacon meanwhile
    const status = result?.status ?? 0;
    if (status >= 200 && status < 300) {
      this.stats.beaconsSent++;
      this.done();
    } else if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
      // The intake refused the content; sending it again cannot succeed.
      this.stats.beaconsFailed++;
      this.stats.itemsDropped += batch.length;
      this.done();
    } else {
      const now = Date.now();
      if (this.attempt === 0) this.firstFailureMs = now;
      if (now - this.firstFailureMs >= GIVE_UP_AFTER_MS) {
        this.stats.beaconsFailed++;
        this.stats.itemsDropped += batch.length;
        this.done();
        return;
      }
      this.stats.retries++;
      this.retrying = true;
      const wait = backoffMs(this.attempt++, (this.cfg.random ?? Math.random)(), result?.retryAfterS);
      this.clearTimer();
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.sendPending();
      }, wait);
    }
  }

  private done(): void {
    this.pending = null;
    this.attempt = 0;
    if (this.queue.length > 0) this.schedule(0);
  }

  private schedule(ms: number): void {
    this.clearTimer();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, ms);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
