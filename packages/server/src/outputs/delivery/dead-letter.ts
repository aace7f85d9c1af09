/**
 * A destination's dead-letter directory: records it refused for good, kept
 * byte for byte so nothing acknowledged disappears. Each record is one file
 * named after its id (`{id}.pb` / `{id}.json`: a resend after a crash
 * rewrites the same file), and `rejected.ndjson` lists why each was refused.
 * Both are fsync'd before the queue lets the record go.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { QueueRecord } from './destination.js';

export class DeadLetterDir {
  constructor(
    readonly dir: string,
    /** File extension of the destination's payload format. */
    private readonly ext: string,
  ) {}

  /** Stores the record and its refusal; returns the record's file. */
  write(record: QueueRecord, status: string, reason: string): string {
    mkdirSync(this.dir, { recursive: true });
    const file = `${record.id}.${this.ext}`;
    writeDurably(join(this.dir, file), record.payload, 'w');
    const line = {
      id: record.id,
      partition_key: record.key,
      status: /^\d+$/.test(status) ? Number(status) : status,
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
