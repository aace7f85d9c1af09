/**
 * Files: NDJSON (one JSON payload per line) or varint length-delimited
 * protobuf payloads, appended to `samples-{n}.ndjson` / `samples-{n}.pb`
 * and fsync'd; a file is rotated beyond `maxFileBytes`, and only the newest
 * `maxFiles` are kept.
 */
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Static } from '@sinclair/typebox';
import type { FileSinkSchema } from '../../../config/monitoring-config.js';
import type { Destination, DestinationModule, QueueRecord, SendOutcome } from '../../delivery/destination.js';
import { varint } from '../sample-builder.js';

export const fileSink: DestinationModule<Static<typeof FileSinkSchema>> = {
  limits: { maxEvents: 256, maxBytes: 8 * 1024 * 1024, maxRecordBytes: Number.POSITIVE_INFINITY },
  create: (config) => new FileSink(config),
};

class FileSink implements Destination {
  private fd: number | undefined;
  private fileNo = 0;
  private fileBytes = 0;
  private readonly ext: string;

  constructor(private readonly config: Static<typeof FileSinkSchema>) {
    this.ext = config.format === 'json' ? 'ndjson' : 'pb';
    mkdirSync(config.directory, { recursive: true });
    for (const n of this.files()) this.fileNo = Math.max(this.fileNo, n);
    if (this.fileNo > 0) this.fileBytes = statSync(this.path(this.fileNo)).size;
    else this.fileNo = 1;
  }

  private path(n: number): string {
    return join(this.config.directory, `samples-${String(n).padStart(6, '0')}.${this.ext}`);
  }

  private files(): number[] {
    const re = new RegExp(`^samples-(\\d+)\\.${this.ext}$`);
    return readdirSync(this.config.directory)
      .map((f) => re.exec(f)?.[1])
      .filter((x): x is string => x !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }

  async send(batch: readonly QueueRecord[]): Promise<SendOutcome> {
    try {
      this.write(batch);
      return { ok: true };
    } catch (err) {
      return { ok: false, kind: 'retry', reason: 'io', message: `cannot write: ${(err as Error).message}` };
    }
  }

  private write(batch: readonly QueueRecord[]): void {
    for (const e of batch) {
      const framed =
        this.config.format === 'json'
          ? Buffer.concat([e.payload, Buffer.from('\n')])
          : Buffer.concat([varint(e.payload.length), e.payload]);
      if (this.fileBytes > 0 && this.fileBytes + framed.length > this.config.maxFileBytes) this.rotate();
      this.fd ??= openSync(this.path(this.fileNo), 'a');
      writeSync(this.fd, framed);
      this.fileBytes += framed.length;
    }
    if (this.fd !== undefined) fsyncSync(this.fd);
  }

  private rotate(): void {
    if (this.fd !== undefined) {
      fsyncSync(this.fd);
      closeSync(this.fd);
    }
    this.fd = undefined;
    this.fileNo++;
    this.fileBytes = 0;
    const all = this.files();
    for (const n of all.slice(0, Math.max(0, all.length + 1 - this.config.maxFiles)))
      unlinkSync(this.path(n));
  }

  async close(): Promise<void> {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
