/**
 * A loop that drains a queue sleeps on `wait()` while the queue is empty;
 * whoever fills it calls `notify()`. The loop checks its queue again after
 * every wake, so a notify while nobody waits needs no memory.
 */
export class Wakeup {
  private wake: (() => void) | undefined;

  wait(): Promise<void> {
    return new Promise<void>((r) => {
      this.wake = r;
    }).then(() => {
      this.wake = undefined;
    });
  }

  notify(): void {
    this.wake?.();
  }
}
