/**
 * A part of a running server, in the manner of Fastify plugins and Faro's
 * instrumentations: it starts when assemble() builds it (registering its
 * routes, opening what it owns) and stops in `close`. The server keeps them
 * in start order and closes them in reverse, also when a later one fails to
 * start, so a failed start leaves nothing open.
 */
export interface Feature {
  readonly name: string;
  close?(): Promise<void> | void;
}

/** What features log through: the app's logger once it exists. */
export interface Log {
  info(m: string): void;
  warn(m: string): void;
  error(m: string): void;
  debug(m: string): void;
}

export class Features {
  private readonly started: Feature[] = [];

  /** Starts one feature and keeps it for closing; its own result is returned. */
  async add<T extends Feature>(starting: Promise<T> | T): Promise<T> {
    const feature = await starting;
    this.started.push(feature);
    return feature;
  }

  /** Closes every started feature, last first; an error in one does not skip the others. */
  async closeAll(log: Pick<Log, 'error'>): Promise<void> {
    let first: unknown;
    for (const f of this.started.splice(0).reverse()) {
      try {
        await f.close?.();
      } catch (err) {
        log.error(`closing ${f.name}: ${(err as Error).message}`);
        first ??= err;
      }
    }
    if (first) throw first;
  }
}
