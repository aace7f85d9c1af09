/**
 * Which (view, sequence number) pairs were already applied. A client that
 * retries a beacon, or a replay of the log, must not count twice.
 *
 * Per view: every number up to `contiguous` was seen, plus a small set of
 * numbers seen beyond a gap. Numbers taken while a batch is built are held
 * aside until `commit`, which the pipeline calls once the batch is applied
 * to the view model: from then on they are duplicates, even if the store's
 * commit has to be retried.
 */
interface ViewSeqs {
  contiguous: number;
  beyond: Set<number> | undefined;
  lastSeenMs: number;
}

export class Dedupe {
  private readonly views = new Map<string, ViewSeqs>();
  private tentative = new Map<string, number[]>();

  static key(envId: string, viewId: string): string {
    return `${envId}\u0000${viewId}`;
  }

  get size(): number {
    return this.views.size;
  }

  private seen(key: string, seq: number): boolean {
    const v = this.views.get(key);
    if (!v) return false;
    return seq <= v.contiguous || (v.beyond?.has(seq) ?? false);
  }

  /** True if the pair is new (neither stored nor already taken in this batch); marks it tentatively. */
  take(key: string, seq: number): boolean {
    if (this.seen(key, seq)) return false;
    let list = this.tentative.get(key);
    if (list?.includes(seq)) return false;
    if (!list) {
      list = [];
      this.tentative.set(key, list);
    }
    list.push(seq);
    return true;
  }

  /** The batch was applied: its marks become permanent. */
  commit(nowMs: number): void {
    for (const [key, seqs] of this.tentative) for (const s of seqs) this.mark(key, s, nowMs);
    this.tentative = new Map();
  }

  mark(key: string, seq: number, nowMs: number): void {
    let v = this.views.get(key);
    if (!v) {
      v = { contiguous: -1, beyond: undefined, lastSeenMs: nowMs };
      this.views.set(key, v);
    }
    v.lastSeenMs = Math.max(v.lastSeenMs, nowMs);
    if (seq <= v.contiguous) return;
    if (seq === v.contiguous + 1) {
      v.contiguous = seq;
      if (v.beyond) {
        while (v.beyond.delete(v.contiguous + 1)) v.contiguous++;
        if (v.beyond.size === 0) v.beyond = undefined;
      }
      return;
    }
    v.beyond ??= new Set();
    v.beyond.add(seq);
  }

  /** Forgets views silent since before `cutoffMs` (a view is final after 60 min of silence). */
  evict(cutoffMs: number): number {
    let removed = 0;
    for (const [key, v] of this.views) {
      if (v.lastSeenMs < cutoffMs) {
        this.views.delete(key);
        removed++;
      }
    }
    return removed;
  }
}
