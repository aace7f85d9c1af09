/**
 * Runs async calls one at a time, in the order they were asked for; a call
 * that fails does not stop the ones after it. Engines that run one statement
 * per connection (DuckDB, a chDB session) and writes that must not
 * interleave (the ClickHouse rollup's marks, upserts and refreshes) use it.
 */
export class Serial {
  private last: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.last.then(fn, fn);
    this.last = next.catch(() => undefined);
    return next;
  }
}
