// Opening a log source and getting its bytes: a file opened without blocking (never a FIFO or
// device), read in large chunks; a stream's first bytes checked for gzip's magic and decompressed;
// and the first 64 KiB held back to plan the capture (normalise.ts: binary data is refused, text
// encodings such as a UTF-8 BOM or UTF-16LE and capture shapes are recognised there).

import { constants } from "node:fs";
import { open, stat, type FileHandle } from "node:fs/promises";
import { Readable, pipeline } from "node:stream";
import { createGunzip } from "node:zlib";
import { inputProblem } from "../io/open-input.js";
import { planCapture, type CapturePlan } from "./normalise.js";
import { openProblem, SourceError } from "./read-outcome.js";
import type { ByteSink } from "./window.js";

export const CHUNK_BYTES = 1024 * 1024;
export const HEAD_BYTES = 64 * 1024;

/**
 * Opens a log file for reading, or says why it cannot be read. Never opens a FIFO or device: the
 * open itself can block forever.
 */
export async function openLogFile(path: string): Promise<FileHandle | { problem: string }> {
  try {
    const st = await stat(path);
    if (st.isDirectory()) return { problem: `${path}: is a directory` };
    const problem = inputProblem(st, "log");
    if (problem !== undefined) return { problem: `${path}: ${problem}` };
    return await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    return { problem: openProblem(path, error) };
  }
}

/**
 * Buffers the first 64 KiB to plan the capture (binary data is refused), then streams into the sink
 * the plan chose: the fast path's, or the shaped path's (normalise.ts).
 */
export class Intake {
  private head: Buffer[] = [];
  private headBytes = 0;
  private checked = false;
  private splitter: ByteSink | undefined;
  binary = false;
  bytes = 0;

  constructor(private readonly choose: (plan: CapturePlan) => ByteSink) {}

  /** Returns false once the data turned out to be binary (stop reading). */
  push(chunk: Buffer): boolean {
    this.bytes += chunk.length;
    if (this.checked) {
      this.splitter?.feed(chunk);
      return true;
    }
    this.head.push(chunk);
    this.headBytes += chunk.length;
    return this.headBytes < HEAD_BYTES || this.release();
  }

  /** Ends the input (also after an error: whatever was read still counts). */
  end(): void {
    if (!this.checked && !this.release()) return;
    if (!this.binary) this.splitter?.end();
  }

  private release(): boolean {
    this.checked = true;
    const all = this.head.length === 1 && this.head[0] ? this.head[0] : Buffer.concat(this.head);
    this.head = [];
    const plan = planCapture(all.subarray(0, HEAD_BYTES));
    if (plan === undefined) {
      this.binary = true;
      return false;
    }
    this.splitter = this.choose(plan);
    if (all.length > 0) this.splitter.feed(all);
    return true;
  }
}

function toBuffer(chunk: Uint8Array | string): Buffer {
  if (typeof chunk === "string") return Buffer.from(chunk, "utf8");
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** The source's chunks, with read errors tagged as SourceError. */
export async function* tagged(first: Buffer[], rest: AsyncIterator<Uint8Array>): AsyncGenerator<Buffer> {
  yield* first;
  for (;;) {
    let next: IteratorResult<Uint8Array>;
    try {
      next = await rest.next();
    } catch (error) {
      throw new SourceError(error);
    }
    if (next.done) return;
    yield toBuffer(next.value);
  }
}

export function gunzip(source: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  const gz = createGunzip({ chunkSize: CHUNK_BYTES });
  // Errors surface through iteration of `gz`; pipeline destroys both ends on failure.
  return pipeline(Readable.from(source), gz, () => undefined) as AsyncIterable<Buffer>;
}

export async function peek(iterator: AsyncIterator<Uint8Array>): Promise<Buffer[]> {
  const first: Buffer[] = [];
  let size = 0;
  while (size < 2) {
    let next: IteratorResult<Uint8Array>;
    try {
      next = await iterator.next();
    } catch (error) {
      throw new SourceError(error);
    }
    if (next.done) break;
    const chunk = toBuffer(next.value);
    first.push(chunk);
    size += chunk.length;
  }
  return first;
}

export function isGzip(first: Buffer[]): boolean {
  const head = first.length === 1 && first[0] ? first[0] : Buffer.concat(first);
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** The file from its start (positional reads: a second pass reads it again from the start). */
export async function* fileChunks(handle: FileHandle): AsyncGenerator<Buffer> {
  let position = 0;
  for (;;) {
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, position);
    if (bytesRead === 0) return;
    position += bytesRead;
    yield bytesRead === CHUNK_BYTES ? buffer : buffer.subarray(0, bytesRead);
  }
}
