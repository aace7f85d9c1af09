/**
 * What the real-time tracker keeps per view: its class since when, the time
 * credited in the current tick, and which outcomes were counted. Held on the
 * view itself (no map entry) and kept small: every active view has one.
 * It lives with the view model, which holds it (`ActiveView.realtime`), so
 * the view model never imports the real-time folder that reads it.
 */
export type Cls = 'none' | 'startup' | 'playing' | 'rebuffering' | 'seeking' | 'failed';

export const FOLLOW_START = 1;
export const FOLLOW_FAILURE = 2;
export const FOLLOW_EBVS = 4;

export class Followed {
  watchMs = 0;
  rebufferMs = 0;
  private flags = 0;
  constructor(
    public cls: Cls,
    /** Event time since which the view is in `cls`. */
    public since: number,
  ) {}

  has(flag: number): boolean {
    return (this.flags & flag) !== 0;
  }

  set(flag: number): void {
    this.flags |= flag;
  }
}
