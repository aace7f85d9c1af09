/**
 * What a channel remembers between sends, next to its queue: the incidents
 * Alertmanager holds open (re-sent so they do not time out) and the PagerDuty
 * alert each grouped incident belongs to. A sender computes the next state,
 * sends, and saves it only once the receiver accepted; the file is replaced
 * atomically (written, fsync'd, renamed), so a crash leaves the old or the
 * new state, and a resend of the same queued batch then builds the same
 * request again (same keys).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export class ChannelState<T extends object> {
  private constructor(
    private value: T,
    /** Undefined: kept in memory only (a test send must not change what the channel remembers). */
    private readonly file: string | undefined,
  ) {}

  static load<T extends object>(file: string, empty: () => T): ChannelState<T> {
    let value: T;
    try {
      value = JSON.parse(readFileSync(file, 'utf8')) as T;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      value = empty();
    }
    return new ChannelState(value, file);
  }

  static memory<T extends object>(value: T): ChannelState<T> {
    return new ChannelState(value, undefined);
  }

  /** A copy to change: the saved state stays as it is until `save`. */
  draft(): T {
    return structuredClone(this.value);
  }

  get current(): Readonly<T> {
    return this.value;
  }

  save(value: T): void {
    this.value = value;
    if (this.file === undefined) return;
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JSON.stringify(value));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
  }
}
