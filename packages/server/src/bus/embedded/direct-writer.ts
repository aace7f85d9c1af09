/**
 * Writes the log's batches with O_DIRECT, through one page-aligned staging
 * buffer.
 *
 * Why: a buffered append sends every byte through page-cache pages the kernel
 * must first allocate, and on the machines measured (docs/benchmarks.md,
 * "Ingest") that cost more CPU per beacon than parsing it. With O_DIRECT the
 * device reads straight from the staging buffer, which is allocated once:
 * the only work left per record is one memcpy.
 *
 * O_DIRECT wants the buffer address, the file offset and the length aligned
 * to the device's block size; ALIGN covers every common device. Wasm memory
 * is the one page-aligned buffer JavaScript can allocate. Each batch
 * therefore starts on a boundary and ends with a padding record up to the
 * next one, so a block that holds an acknowledged record is never written
 * again (a torn rewrite could otherwise destroy it).
 */
import type { FileHandle } from 'node:fs/promises';

/** Block size every O_DIRECT write is aligned to. */
export const ALIGN = 4096;
/** Record header: u32 LE length, u32 LE checksum. */
export const HEADER_BYTES = 8;
/** A header whose length field is this is padding; its second field is the padding's whole length. */
export const PAD_MARK = 0xffffffff;
/** Wasm memory grows in pages of 64 KiB. */
const WASM_PAGE = 65536;
const STAGING_BYTES = 4 * 1024 * 1024;

/** The part of the WebAssembly global used here (the project's TypeScript libs do not declare it). */
declare const WebAssembly: {
  Memory: new (descriptor: { initial: number; maximum?: number }) => { buffer: ArrayBuffer };
};

/** Padding (header included) that takes `size` bytes of data to the next boundary; 0 when already there. */
export function padAfter(size: number): number {
  const rest = size % ALIGN;
  if (rest === 0) return 0;
  const pad = ALIGN - rest;
  // A padding record needs room for its header; if there is none, it runs to the boundary after.
  return pad < HEADER_BYTES ? pad + ALIGN : pad;
}

/** Whether a padding header at file offset `offset` claiming `pad` bytes can be one this writer wrote. */
export function isValidPad(offset: number, pad: number, fileBytes: number): boolean {
  return (
    pad >= HEADER_BYTES &&
    pad < ALIGN + HEADER_BYTES &&
    (offset + pad) % ALIGN === 0 &&
    offset + pad <= fileBytes
  );
}

export class DirectWriter {
  private readonly staging: Buffer;
  private staged = 0;
  private at = 0;

  constructor() {
    const pages = STAGING_BYTES / WASM_PAGE;
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    this.staging = Buffer.from(memory.buffer);
  }

  /**
   * Writes `buffers` (headers and payloads, `total` bytes) at the aligned
   * offset `at`, followed by padding to the next boundary. Returns the bytes
   * written, padding included.
   */
  async writeBatch(fh: FileHandle, buffers: readonly Buffer[], total: number, at: number): Promise<number> {
    if (at % ALIGN !== 0) throw new Error(`direct write at unaligned offset ${at}`);
    this.at = at;
    this.staged = 0;
    for (const b of buffers) await this.put(fh, b);
    const pad = padAfter(total);
    if (pad > 0) {
      const padding = Buffer.alloc(pad);
      padding.writeUInt32LE(PAD_MARK, 0);
      padding.writeUInt32LE(pad, 4);
      await this.put(fh, padding);
    }
    if (this.staged > 0) await this.flushStaging(fh);
    return total + pad;
  }

  private async put(fh: FileHandle, src: Buffer): Promise<void> {
    let offset = 0;
    while (offset < src.length) {
      const n = Math.min(src.length - offset, this.staging.length - this.staged);
      src.copy(this.staging, this.staged, offset, offset + n);
      this.staged += n;
      offset += n;
      if (this.staged === this.staging.length) await this.flushStaging(fh);
    }
  }

  private async flushStaging(fh: FileHandle): Promise<void> {
    let done = 0;
    while (done < this.staged) {
      const { bytesWritten } = await fh.write(this.staging, done, this.staged - done, this.at + done);
      if (bytesWritten <= 0) throw new Error('log write made no progress');
      done += bytesWritten;
    }
    this.at += this.staged;
    this.staged = 0;
  }
}
