// Reading log bytes: files, stdin and API streams; gzip by magic bytes; binary detection; splitting
// into lines in large blocks; and turning every failure into a status and a one-line problem.

import { open, type FileHandle } from "node:fs/promises";
import { Readable, pipeline } from "node:stream";
import { createGunzip } from "node:zlib";
import type { LogScan, LogSource, LogSourceResult } from "../model/logs.js";
import { LogScanner, type ScanOptions } from "./scanner.js";
import type { SignatureSet } from "./signatures.js";
import { FastFeeder } from "./fast.js";

const CHUNK_BYTES = 1024 * 1024;
const HEAD_BYTES = 64 * 1024;

/** A failure of the underlying source (as opposed to the gzip decoder). */
class SourceError extends Error {
  constructor(override readonly cause: unknown) {
    super(errorText(cause));
  }
}

function errorCode(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error) {
    const code = error.code;
    return typeof code === "string" ? code : undefined;
  }
  return undefined;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** "812 bytes", "64.0 kB", "1.2 MB", "3.4 GB" (decimal units). */
export function formatSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} bytes`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit] ?? "TB"}`;
}

export function sourceLabel(source: LogSource): string {
  if (source.kind === "file") return source.path === "-" ? "stdin" : source.path;
  const previous = source.previous ? " (previous)" : "";
  return `${source.namespace}/${source.pod}/${source.container}${previous}`;
}

/** NUL bytes, or mostly control characters, in the first 64 KiB mean this is not a text log. */
function looksBinary(head: Buffer): boolean {
  if (head.includes(0)) return true;
  let control = 0;
  for (const byte of head) {
    // Text control characters: \b \t \n \v \f \r and ESC (colour codes).
    if ((byte < 32 && !(byte >= 8 && byte <= 13) && byte !== 27) || byte === 127) control++;
  }
  return head.length > 0 && control / head.length > 0.3;
}

/** Buffers the first 64 KiB to rule out binary data, then streams into the splitter. */
class Intake {
  private head: Buffer[] = [];
  private headBytes = 0;
  private checked = false;
  binary = false;
  bytes = 0;
  private readonly splitter: FastFeeder;

  constructor(scanner: LogScanner, set: SignatureSet) {
    this.splitter = new FastFeeder(scanner, set);
  }

  /** Returns false once the data turned out to be binary (stop reading). */
  push(chunk: Buffer): boolean {
    this.bytes += chunk.length;
    if (this.checked) {
      this.splitter.feed(chunk);
      return true;
    }
    this.head.push(chunk);
    this.headBytes += chunk.length;
    return this.headBytes < HEAD_BYTES || this.release();
  }

  /** Ends the input (also after an error: whatever was read still counts). */
  end(): void {
    if (!this.checked && !this.release()) return;
    if (!this.binary) this.splitter.end();
  }

  private release(): boolean {
    this.checked = true;
    const all = this.head.length === 1 && this.head[0] ? this.head[0] : Buffer.concat(this.head);
    this.head = [];
    if (looksBinary(all.subarray(0, HEAD_BYTES))) {
      this.binary = true;
      return false;
    }
    if (all.length > 0) this.splitter.feed(all);
    return true;
  }
}

function toBuffer(chunk: Uint8Array | string): Buffer {
  if (typeof chunk === "string") return Buffer.from(chunk, "utf8");
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** The source's chunks, with read errors tagged as SourceError. */
async function* tagged(first: Buffer[], rest: AsyncIterator<Uint8Array>): AsyncGenerator<Buffer> {
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

/** Reports the source's bytes (compressed, for gzip) to options.onProgress about every 4 MiB. */
async function* counted(
  chunks: AsyncIterable<Buffer>,
  options: ScanOptions | undefined,
  size: number | undefined,
): AsyncGenerator<Buffer> {
  const report = options?.onProgress;
  if (report === undefined) {
    yield* chunks;
    return;
  }
  let total = 0;
  let reported = 0;
  for await (const chunk of chunks) {
    total += chunk.length;
    if (total - reported >= 4 * 1024 * 1024) {
      reported = total;
      report(total, size);
    }
    yield chunk;
  }
  report(total, size);
}

function gunzip(source: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  const gz = createGunzip({ chunkSize: CHUNK_BYTES });
  // Errors surface through iteration of `gz`; pipeline destroys both ends on failure.
  return pipeline(Readable.from(source), gz, () => undefined) as AsyncIterable<Buffer>;
}

interface Outcome {
  status: LogSourceResult["status"];
  problem?: string;
}

function failureOutcome(error: unknown, label: string, gzip: boolean, intake: Intake): Outcome {
  const scanned = formatSize(intake.bytes);
  const status = intake.bytes > 0 ? "partial" : "unreadable";
  if (error instanceof SourceError) {
    const code = errorCode(error.cause);
    if (code === "EISDIR") return { status: "unreadable", problem: `${label}: is a directory` };
    return { status, problem: `${label}: read error after ${scanned}: ${code ?? error.message}` };
  }
  if (gzip) {
    const code = errorCode(error);
    if (code === "Z_BUF_ERROR" || /unexpected end/i.test(errorText(error))) {
      return { status, problem: `${label}: truncated gzip stream after ${scanned}` };
    }
    return { status, problem: `${label}: corrupt gzip stream after ${scanned} (${errorText(error)})` };
  }
  return { status, problem: `${label}: read error after ${scanned}: ${errorText(error)}` };
}

async function peek(iterator: AsyncIterator<Uint8Array>): Promise<Buffer[]> {
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

function isGzip(first: Buffer[]): boolean {
  const head = first.length === 1 && first[0] ? first[0] : Buffer.concat(first);
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

function emptyScan(set: SignatureSet, options?: ScanOptions): LogScan {
  return new LogScanner(set, options).finish();
}

async function runScan(
  stream: AsyncIterable<Uint8Array>,
  source: LogSource,
  set: SignatureSet,
  options: ScanOptions | undefined,
  size?: number,
): Promise<LogSourceResult> {
  const label = sourceLabel(source);
  const scanner = new LogScanner(set, options);
  const intake = new Intake(scanner, set);
  const iterator = stream[Symbol.asyncIterator]();
  let gzip = false;
  let outcome: Outcome = { status: "read" };
  try {
    const first = await peek(iterator);
    gzip = isGzip(first);
    const raw = counted(tagged(first, iterator), options, size);
    for await (const chunk of gzip ? gunzip(raw) : raw) {
      if (!intake.push(chunk)) break;
    }
  } catch (error) {
    outcome = failureOutcome(error, label, gzip, intake);
  } finally {
    await iterator.return?.();
  }
  intake.end();
  if (intake.binary) {
    return {
      source,
      status: "unreadable",
      problem: `${label}: binary data, not a text log`,
      scan: emptyScan(set, options),
    };
  }
  const scan = scanner.finish();
  if (outcome.status === "read" && scan.truncatedLines !== undefined) {
    const n = scan.truncatedLines;
    outcome.problem = `${label}: ${n} line${n === 1 ? "" : "s"} longer than ${formatSize(scanner.lineLimit)} truncated for matching`;
  }
  return { source, ...outcome, scan };
}

/** Same as scanLogFile, for an already-open byte stream (used for API log streams). */
export function scanLogStream(
  stream: AsyncIterable<Uint8Array>,
  source: LogSource,
  set: SignatureSet,
  options?: ScanOptions,
): Promise<LogSourceResult> {
  return runScan(stream, source, set, options);
}

async function* fileChunks(handle: FileHandle): AsyncGenerator<Buffer> {
  for (;;) {
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, null);
    if (bytesRead === 0) return;
    yield bytesRead === CHUNK_BYTES ? buffer : buffer.subarray(0, bytesRead);
  }
}

const FAST_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * An uncompressed file, read straight into the bulk path's work buffer (no per-chunk allocation).
 * Returns undefined for gzip, which takes the stream path.
 */
async function scanPlainFile(
  handle: FileHandle,
  source: LogSource,
  set: SignatureSet,
  options: ScanOptions,
  size: number | undefined,
): Promise<LogSourceResult | undefined> {
  const label = sourceLabel(source);
  const scanner = new LogScanner(set, options);
  const feeder = new FastFeeder(scanner, set, 2 * FAST_CHUNK_BYTES);
  let position = 0;
  let outcome: Outcome = { status: "read" };
  try {
    const head = feeder.reserve(HEAD_BYTES);
    const first = (await handle.read(head, 0, HEAD_BYTES, 0)).bytesRead;
    if (first >= 2 && head[0] === 0x1f && head[1] === 0x8b) return undefined;
    if (looksBinary(head.subarray(0, first))) {
      return {
        source,
        status: "unreadable",
        problem: `${label}: binary data, not a text log`,
        scan: emptyScan(set, options),
      };
    }
    feeder.commit(first);
    position = first;
    for (;;) {
      const room = feeder.reserve(FAST_CHUNK_BYTES);
      const { bytesRead } = await handle.read(room, 0, FAST_CHUNK_BYTES, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      feeder.commit(bytesRead);
      options.onProgress?.(position, size);
    }
  } catch (error) {
    const code = errorCode(error);
    outcome = {
      status: position > 0 ? "partial" : "unreadable",
      problem: `${label}: read error after ${formatSize(position)}: ${code ?? errorText(error)}`,
    };
  }
  feeder.end();
  const scan = scanner.finish();
  if (outcome.status === "read" && scan.truncatedLines !== undefined) {
    const n = scan.truncatedLines;
    outcome.problem = `${label}: ${n} line${n === 1 ? "" : "s"} longer than ${formatSize(scanner.lineLimit)} truncated for matching`;
  }
  return { source, ...outcome, scan };
}

/** One line for an error opening a log; exported for tests (root cannot provoke EACCES). */
export function openProblem(path: string, error: unknown): string {
  switch (errorCode(error)) {
    case "ENOENT":
    case "ENOTDIR":
      return `${path}: no such file`;
    case "EACCES":
    case "EPERM":
      return `${path}: permission denied`;
    case "EISDIR":
      return `${path}: is a directory`;
    default:
      return `${path}: cannot open (${errorCode(error) ?? errorText(error)})`;
  }
}

/**
 * Reads a file ('-' = stdin; gzip recognised by its magic bytes), streaming in large chunks,
 * splitting lines, decoding formats, and scanning. Never throws for bad input: problems become
 * status "partial"/"unreadable" with a one-line `problem` naming the file.
 */
export async function scanLogFile(
  path: string,
  set: SignatureSet,
  options?: ScanOptions,
): Promise<LogSourceResult> {
  const source: LogSource = { kind: "file", path };
  if (path === "-") return runScan(process.stdin, source, set, options);
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    return { source, status: "unreadable", problem: openProblem(path, error), scan: emptyScan(set, options) };
  }
  try {
    const stat = await handle.stat();
    if (stat.isDirectory()) {
      return {
        source,
        status: "unreadable",
        problem: `${path}: is a directory`,
        scan: emptyScan(set, options),
      };
    }
    const withTime: ScanOptions = { ...options, referenceTime: options?.referenceTime ?? stat.mtime };
    const plain = await scanPlainFile(handle, source, set, withTime, stat.isFile() ? stat.size : undefined);
    return (
      plain ??
      (await runScan(fileChunks(handle), source, set, withTime, stat.isFile() ? stat.size : undefined))
    );
  } catch (error) {
    return { source, status: "unreadable", problem: openProblem(path, error), scan: emptyScan(set, options) };
  } finally {
    await handle.close().catch(() => undefined);
  }
}
