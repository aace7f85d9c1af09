/**
 * A sink's dead-letter directory: payloads its destination refused for good,
 * kept byte for byte so nothing acknowledged disappears. Each payload is one
 * file named after its id (`{id}.pb` / `{id}.json`: a resend after a crash
 * rewrites the same file), and `rejected.ndjson` lists why each was refused.
 * Both are fsync'd before the queue lets the payload go.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { QueueEntry } from './disk-queue.js';

export class DeadLetterDir {
  constructor(
    readonly dir: string,
    /** File extension of the sink's payload format. */
    private readonly ext: 'pb' | 'json',
  ) {}

  /** Stores the payload and its refusal; returns the payload's file. */
  write(entry: QueueEntry, status: number, reason: string): string {
    mkdirSync(this.dir, { recursive: true });
    const file = `${entry.id}.${this.ext}`;
    writeDurably(join(this.dir, file), entry.payload, 'w');
    const line = {
      id: entry.id,
      partition_key: entry.partitionKey,
      status,
      reason,
      rejected_at: new Date().toISOString(),
      file,
    };
    writeDurably(join(this.dir, 'rejected.ndjson'), Buffer.from(`${JSON.stringify(line)}\n`), 'a');
    return file;
  }
}

function writeDurably(path: string, data: Buffer, flags: 'w' | 'a'): void {
  const fd = openSync(path, flags);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
