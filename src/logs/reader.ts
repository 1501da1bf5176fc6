// Reading log bytes: files, stdin and API streams; gzip by magic bytes; binary detection; splitting
// into lines in large blocks; and turning every failure into a status and a one-line problem.

import { constants, readSync } from "node:fs";
import { open, stat, type FileHandle } from "node:fs/promises";
import { Readable, pipeline } from "node:stream";
import { createGunzip } from "node:zlib";
import { inputProblem } from "../io/open-input.js";
import type { CaptureShape, LogCapture, LogScan, LogSource, LogSourceResult } from "../model/logs.js";
import { LogScanner, type ScanOptions, type SignatureMatch } from "./scanner.js";
import type { SignatureSet } from "./signatures.js";
import { FastFeeder } from "./fast.js";
import { planCapture, ShapedSink, type CapturePlan } from "./normalise.js";
import { mergeScans } from "./merge.js";
import { scanRangeOnWorker, splitPoint, type RangeWorker } from "./parallel.js";
import {
  lastStampIn,
  lastStampOfFile,
  offsetOfTime,
  WindowFilter,
  type ByteSink,
  type TimeWindow,
} from "./window.js";

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

/**
 * Buffers the first 64 KiB to plan the capture (binary data is refused), then streams into the sink
 * the plan chose: the fast path's, or the shaped path's (normalise.ts).
 */
class Intake {
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

/** Where a --since/--until bound lies: an instant, or a span before the log's last timestamp. */
export type WindowBound = { at: number } | { beforeEnd: number };

/** Options of scanLogFile/scanLogSet on top of the scanner's. */
export interface ReadOptions extends ScanOptions {
  /** Count only lines at or after this time (see window.ts for what a line's time is). */
  since?: WindowBound;
  /** Count only lines at or before this time. */
  until?: WindowBound;
  /** Stop reading once the evidence is conclusive (SAMPLE_RULE); the scan says how much was read. */
  sample?: boolean;
  /** Threads for a large uncompressed file (default 2; 1 disables the split). */
  threads?: number;
  /** @internal Smallest byte range worth splitting (default 64 MiB). */
  minParallelBytes?: number;
  /** @internal Split here (the next record start after it) instead of in the middle. */
  splitAt?: number;
  /** @internal Told where a file was split across threads. */
  onSplit?: (offset: number) => void;
}

/** --sample: symptom records that settle the question, and the time they must span. */
export const SAMPLE_MIN_SYMPTOMS = 20;
export const SAMPLE_MIN_SPAN_MS = 10 * 60_000;
const SAMPLE_RULE = `${SAMPLE_MIN_SYMPTOMS} symptom records spanning ${SAMPLE_MIN_SPAN_MS / 60_000} minutes`;

/** Counts symptom matches for --sample. */
class Sampler {
  private count = 0;
  private first = Number.POSITIVE_INFINITY;
  private last = Number.NEGATIVE_INFINITY;
  reached = false;

  note(match: SignatureMatch): void {
    if (match.role !== "symptom") return;
    this.count++;
    if (match.time !== undefined) {
      this.first = Math.min(this.first, match.time);
      this.last = Math.max(this.last, match.time);
    }
    this.reached = this.count >= SAMPLE_MIN_SYMPTOMS && this.last - this.first >= SAMPLE_MIN_SPAN_MS;
  }
}

const PROGRESS_STEP = 4 * 1024 * 1024;

/** What one read of a source (all its members) shares: progress, the sampler, the window. */
class SetRun {
  bytesRead = 0;
  private skipped = 0;
  private reported = 0;
  readonly sampler: Sampler | undefined;
  window: TimeWindow | undefined;

  constructor(
    readonly set: SignatureSet,
    readonly options: ReadOptions,
    readonly total: number | undefined,
  ) {
    this.sampler = options.sample === true ? new Sampler() : undefined;
  }

  get stop(): boolean {
    return this.sampler?.reached ?? false;
  }

  advance(n: number): void {
    this.bytesRead += n;
    if (this.bytesRead + this.skipped - this.reported >= PROGRESS_STEP) this.report();
  }

  /** Bytes a window's binary search passed over: progress counts them, bytesRead does not. */
  skipBytes(n: number): void {
    this.skipped += n;
  }

  report(): void {
    const done = this.bytesRead + this.skipped;
    if (this.options.onProgress === undefined || done === this.reported) return;
    this.reported = done;
    this.options.onProgress(done, this.total);
  }

  scanner(referenceTime: Date | undefined): LogScanner {
    const sampler = this.sampler;
    const { onMatch } = this.options;
    const options: ScanOptions = { ...this.options };
    if (referenceTime !== undefined) options.referenceTime = this.options.referenceTime ?? referenceTime;
    if (sampler !== undefined) {
      options.onMatch = (m) => {
        sampler.note(m);
        onMatch?.(m);
      };
    }
    return new LogScanner(this.set, options);
  }

  sink(scanner: LogScanner, capacity?: number): { feeder: FastFeeder; sink: ByteSink } {
    const feeder = new FastFeeder(scanner, this.set, capacity);
    return { feeder, sink: this.window === undefined ? feeder : new WindowFilter(feeder, this.window) };
  }
}

interface MemberResult {
  status: LogSourceResult["status"];
  problem?: string;
  scan?: LogScan;
  shapes?: CaptureShape[];
  captures?: LogCapture[];
  /** A plain read met shaped lines: the source should be read again on the shaped path. */
  reshape?: boolean;
}

function truncationProblem(label: string, scan: LogScan, limit: number): string | undefined {
  const n = scan.truncatedLines;
  if (n === undefined) return undefined;
  return `${label}: ${n} line${n === 1 ? "" : "s"} longer than ${formatSize(limit)} truncated for matching`;
}

async function* advanced(chunks: AsyncIterable<Buffer>, run: SetRun): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) {
    run.advance(chunk.length);
    yield chunk;
  }
}

/** A stream (stdin, an API stream, a gzip file, a shaped capture): gzip by magic bytes, plan, scan. */
async function readStream(
  stream: AsyncIterable<Uint8Array>,
  label: string,
  run: SetRun,
  referenceTime: Date | undefined,
  forceShaped = false,
): Promise<MemberResult> {
  let scanner: LogScanner | undefined;
  let shaped: ShapedSink | undefined;
  const intake = new Intake((plan) => {
    if (plan.shaped || forceShaped) {
      const unwrapped = (): LogScanner => {
        const s = run.scanner(referenceTime);
        s.watchShapes = false;
        return s;
      };
      shaped = new ShapedSink(plan, unwrapped, run.window);
      return shaped;
    }
    scanner = run.scanner(referenceTime);
    return run.sink(scanner).sink;
  });
  const iterator = stream[Symbol.asyncIterator]();
  let gzip = false;
  let outcome: Outcome = { status: "read" };
  try {
    const first = await peek(iterator);
    gzip = isGzip(first);
    const raw = advanced(tagged(first, iterator), run);
    for await (const chunk of gzip ? gunzip(raw) : raw) {
      if (!intake.push(chunk) || run.stop) break;
    }
  } catch (error) {
    outcome = failureOutcome(error, label, gzip, intake);
  } finally {
    await iterator.return?.();
  }
  intake.end();
  if (intake.binary) return { status: "unreadable", problem: `${label}: binary data, not a text log` };
  let scan: LogScan;
  let captures: LogCapture[] | undefined;
  let lineLimit: number;
  const sink = shaped;
  if (sink !== undefined) {
    const result = sink.result(run.set, run.options.sampleLimit);
    scan = result.scan;
    captures = result.captures;
    lineLimit = run.options.maxLineBytes ?? 1024 * 1024;
  } else {
    const plain = scanner ?? run.scanner(referenceTime);
    scan = plain.finish();
    lineLimit = plain.lineLimit;
  }
  if (outcome.status === "read") {
    const problem = truncationProblem(label, scan, lineLimit);
    if (problem !== undefined) outcome.problem = problem;
  }
  const out: MemberResult = { ...outcome, scan: settled(scan) };
  if (scan.shapedLines !== undefined) out.reshape = true;
  if (sink !== undefined) out.shapes = [...sink.shapes];
  if (captures !== undefined) out.captures = captures;
  return out;
}

/** The file from its start (positional reads: a second pass reads it again from the start). */
async function* fileChunks(handle: FileHandle): AsyncGenerator<Buffer> {
  let position = 0;
  for (;;) {
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, position);
    if (bytesRead === 0) return;
    position += bytesRead;
    yield bytesRead === CHUNK_BYTES ? buffer : buffer.subarray(0, bytesRead);
  }
}

const FAST_CHUNK_BYTES = 4 * 1024 * 1024;
const YIELD_BYTES = 16 * 1024 * 1024;

/** Reads buf[from, to) of an uncompressed file straight into the bulk path's work buffer. */
export async function readPlainRange(
  handle: FileHandle,
  from: number,
  to: number,
  feeder: FastFeeder,
  run: SetRun,
): Promise<number> {
  let position = from;
  let sinceYield = 0;
  while (position < to && !run.stop) {
    const room = feeder.reserve(Math.min(FAST_CHUNK_BYTES, to - position));
    // A synchronous read: an awaited one leaves this thread idle while a pool thread copies, and
    // that pool thread then competes with the scan threads for the cores (measured: ~15 % idle).
    const bytesRead = readSync(handle.fd, room, 0, room.length, position);
    if (bytesRead === 0) break;
    position += bytesRead;
    feeder.commit(bytesRead);
    run.advance(bytesRead);
    sinceYield += bytesRead;
    if (sinceYield >= YIELD_BYTES) {
      // Let timers and the worker's progress messages through now and then.
      sinceYield = 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  return position;
}

/** The byte range of an uncompressed file inside the run's window (the whole file without one). */
async function windowRange(
  handle: FileHandle,
  size: number,
  window: TimeWindow | undefined,
): Promise<[number, number]> {
  if (window === undefined) return [0, size];
  const from = window.sinceMs === undefined ? 0 : await offsetOfTime(handle, size, window.sinceMs);
  const to = window.untilMs === undefined ? size : await offsetOfTime(handle, size, window.untilMs + 1);
  return [from, Math.max(from, to)];
}

/** An uncompressed file: window by binary search, then one range, or two on two threads. */
async function readPlain(
  handle: FileHandle,
  path: string,
  size: number,
  run: SetRun,
  referenceTime: Date,
): Promise<MemberResult> {
  const [from, to] = await windowRange(handle, size, run.window);
  run.skipBytes(size - (to - from));
  const parts: LogScan[] = [];
  let position = from;
  let outcome: Outcome = { status: "read" };
  let lineLimit = 0;
  let worker: RangeWorker | undefined;
  try {
    const split = await planSplit(handle, path, from, to, run);
    if (split !== undefined) run.options.onSplit?.(split);
    worker = split === undefined ? undefined : scanRangeOnWorker(path, split, to, run, referenceTime);
    // A worker that fails is replaced by this thread (the error is only seen when awaited).
    worker?.result.catch(() => undefined);
    const scanner = run.scanner(referenceTime);
    lineLimit = scanner.lineLimit;
    const { feeder } = run.sink(scanner, 2 * FAST_CHUNK_BYTES);
    try {
      position = await readPlainRange(handle, from, split ?? to, feeder, run);
    } finally {
      feeder.end();
      parts.push(scanner.finish());
    }
    if (worker !== undefined && split !== undefined) {
      parts.push(await worker.result.catch(() => scanRangeHere(handle, split, to, run, referenceTime)));
      position = to;
    }
  } catch (error) {
    worker?.stop();
    const code = errorCode(error);
    outcome = {
      status: position > from ? "partial" : "unreadable",
      problem: `${path}: read error after ${formatSize(position)}: ${code ?? errorText(error)}`,
    };
  }
  const scan = mergeScans(run.set, parts, run.options.sampleLimit);
  if (outcome.status === "read") {
    const problem = truncationProblem(path, scan, lineLimit);
    if (problem !== undefined) outcome.problem = problem;
  }
  return { ...outcome, scan, ...(parts.some((p) => p.shapedLines !== undefined) ? { reshape: true } : {}) };
}

/** A scan without the reader's internal fields. */
function settled(scan: LogScan): LogScan {
  if (scan.shapedLines === undefined) return scan;
  const { shapedLines: _, ...rest } = scan;
  return rest;
}

/** Part of a file scanned on this thread (when the worker failed). */
async function scanRangeHere(
  handle: FileHandle,
  from: number,
  to: number,
  run: SetRun,
  referenceTime: Date,
): Promise<LogScan> {
  const scanner = run.scanner(referenceTime);
  const { feeder } = run.sink(scanner, 2 * FAST_CHUNK_BYTES);
  await readPlainRange(handle, from, to, feeder, run);
  feeder.end();
  return scanner.finish();
}

/** Where to split [from, to) across two threads, or undefined to read it on one. */
async function planSplit(
  handle: FileHandle,
  path: string,
  from: number,
  to: number,
  run: SetRun,
): Promise<number | undefined> {
  const { options } = run;
  if ((options.threads ?? 2) < 2 || run.sampler !== undefined || options.onMatch !== undefined)
    return undefined;
  if (path === "-" || to - from < (options.minParallelBytes ?? 64 * 1024 * 1024)) return undefined;
  if (run.set.source.length === 0 && run.set.signatures.length > 0) return undefined;
  return splitPoint(handle, from, to, options.splitAt ?? from + Math.floor((to - from) / 2));
}

/** Scans one member of a set: a file path (or '-'). */
async function scanMember(path: string, run: SetRun): Promise<MemberResult> {
  if (path === "-") return readStream(process.stdin, "stdin", run, run.options.referenceTime);
  let handle: FileHandle;
  try {
    // Never open a FIFO or device: the open itself can block forever.
    const st = await stat(path);
    if (st.isDirectory()) return { status: "unreadable", problem: `${path}: is a directory` };
    const problem = inputProblem(st, "log");
    if (problem !== undefined) return { status: "unreadable", problem: `${path}: ${problem}` };
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    return { status: "unreadable", problem: openProblem(path, error) };
  }
  try {
    const stat = await handle.stat();
    if (stat.isDirectory()) return { status: "unreadable", problem: `${path}: is a directory` };
    const head = Buffer.allocUnsafe(HEAD_BYTES);
    const first = (await handle.read(head, 0, HEAD_BYTES, 0)).bytesRead;
    let result: MemberResult;
    if (!stat.isFile() || (first >= 2 && head[0] === 0x1f && head[1] === 0x8b)) {
      result = await readStream(fileChunks(handle), path, run, stat.mtime);
    } else {
      const plan = planCapture(head.subarray(0, first));
      if (plan === undefined)
        return { status: "unreadable", problem: `${path}: binary data, not a text log` };
      // A capture the fast path cannot read as it is streams through the shaped path (normalise.ts).
      if (plan.shaped) return await readStream(fileChunks(handle), path, run, stat.mtime);
      result = await readPlain(handle, path, stat.size, run, stat.mtime);
    }
    // Planned plain from its head, but a shaped record came later: read it again, shaped. Only
    // files can be read twice; a pipe keeps its plain reading.
    if (result.reshape !== true || !stat.isFile()) {
      const { reshape: _, ...rest } = result;
      return rest.scan === undefined ? rest : { ...rest, scan: settled(rest.scan) };
    }
    return await readStream(fileChunks(handle), path, run, stat.mtime, true);
  } catch (error) {
    return { status: "unreadable", problem: openProblem(path, error) };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** The last full timestamp of a set: of its newest member that has one (gzip is decompressed). */
async function endOfSet(members: readonly string[]): Promise<number | undefined> {
  for (let i = members.length - 1; i >= 0; i--) {
    const path = members[i];
    if (path === undefined || path === "-") continue;
    const found = await lastStampOfPath(path).catch(() => undefined);
    if (found !== undefined) return found;
  }
  return undefined;
}

async function lastStampOfPath(path: string): Promise<number | undefined> {
  if (inputProblem(await stat(path), "log") !== undefined) return undefined;
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = await handle.stat();
    const magic = Buffer.alloc(2);
    await handle.read(magic, 0, 2, 0);
    if (magic[0] !== 0x1f || magic[1] !== 0x8b) return await lastStampOfFile(handle, stat.size);
    // gzip: keep the last MiB of the decompressed text.
    let tail = Buffer.alloc(0);
    try {
      for await (const chunk of gunzip(fileChunks(handle))) {
        tail = Buffer.concat([
          tail.length > CHUNK_BYTES ? tail.subarray(tail.length - CHUNK_BYTES) : tail,
          chunk,
        ]);
      }
    } catch {
      // a truncated member: what was decompressed still has times
    }
    return lastStampIn(tail, false) ?? lastStampIn(tail, true);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

async function resolveWindow(
  members: readonly string[],
  options: ReadOptions,
): Promise<TimeWindow | undefined> {
  const { since, until } = options;
  if (since === undefined && until === undefined) return undefined;
  let end: number | undefined;
  if ((since !== undefined && "beforeEnd" in since) || (until !== undefined && "beforeEnd" in until)) {
    end = (await endOfSet(members)) ?? options.referenceTime?.getTime() ?? Date.now();
  }
  const at = (bound: WindowBound): number => ("at" in bound ? bound.at : (end ?? 0) - bound.beforeEnd);
  const window: TimeWindow = {};
  if (since !== undefined) window.sinceMs = at(since);
  if (until !== undefined) window.untilMs = at(until);
  return window;
}

async function totalSize(members: readonly string[]): Promise<number | undefined> {
  let total = 0;
  for (const path of members) {
    if (path === "-") return undefined;
    try {
      const s = await stat(path);
      if (!s.isFile()) return undefined;
      total += s.size;
    } catch {
      // counted as 0: the member's problem is reported when it is read
    }
  }
  return total;
}

function combineStatus(results: readonly MemberResult[]): LogSourceResult["status"] {
  if (results.every((r) => r.status === "read")) return "read";
  if (results.every((r) => r.status === "unreadable")) return "unreadable";
  return "partial";
}

/**
 * Reads the files of one rotated set, oldest first (see rotation.ts), as ONE source: counts, first
 * and last times and rates span the whole set; no record spans two files. A member that cannot be
 * read, or only in part, makes the source partial with a one-line problem naming it (problems of
 * several members are joined with "; "). With one member this is scanLogFile.
 */
export async function scanLogSet(
  members: readonly string[],
  set: SignatureSet,
  options: ReadOptions = {},
  source: LogSource = members.length === 1
    ? { kind: "file", path: members[0] ?? "-" }
    : { kind: "file", path: members.at(-1) ?? "-", members: [...members] },
): Promise<LogSourceResult> {
  const run = new SetRun(set, options, await totalSize(members));
  run.window = await resolveWindow(members, options);
  const results: MemberResult[] = [];
  for (const path of members) {
    if (run.stop) break;
    results.push(await scanMember(path, run));
  }
  run.report();
  const scans = results.flatMap((r) => (r.scan === undefined ? [] : [r.scan]));
  const scan = scans.length === 0 ? emptyScan(set, options) : mergeScans(set, scans, options.sampleLimit);
  const status = combineStatus(results);
  const problems = results.flatMap((r) => (r.problem === undefined ? [] : [r.problem]));
  const window = run.window;
  if (window !== undefined) {
    scan.window = {};
    if (window.sinceMs !== undefined) scan.window.since = new Date(window.sinceMs).toISOString();
    if (window.untilMs !== undefined) scan.window.until = new Date(window.untilMs).toISOString();
  }
  if (run.sampler !== undefined) {
    scan.sample = { stoppedEarly: run.stop, bytesRead: run.bytesRead };
    if (run.total !== undefined) scan.sample.totalBytes = run.total;
    if (run.stop) scan.sample.reason = SAMPLE_RULE;
  }
  const result: LogSourceResult = { source, status, scan };
  if (problems.length > 0) result.problem = problems.join("; ");
  addCaptures(result, results, set, options.sampleLimit);
  return result;
}

/** The shapes met and the per-subject scans of a set's members (subjects merged across members). */
function addCaptures(
  result: LogSourceResult,
  members: readonly MemberResult[],
  set: SignatureSet,
  sampleLimit: number | undefined,
): void {
  const shapes = new Set(members.flatMap((m) => m.shapes ?? []));
  if (shapes.size > 0) result.shapes = [...shapes].sort();
  if (!members.some((m) => m.captures !== undefined)) return;
  const bySubject = new Map<string, LogCapture[]>();
  for (const m of members) {
    const parts = m.captures ?? (m.scan === undefined ? [] : [{ subject: {}, scan: m.scan }]);
    for (const c of parts) {
      const key = JSON.stringify([c.subject.pod, c.subject.container, c.subject.node]);
      const list = bySubject.get(key) ?? [];
      list.push(c);
      bySubject.set(key, list);
    }
  }
  result.captures = [...bySubject.values()].map((list) => ({
    subject: list[0]?.subject ?? {},
    scan:
      list.length === 1 && list[0]
        ? list[0].scan
        : mergeScans(
            set,
            list.map((c) => c.scan),
            sampleLimit,
          ),
  }));
}

/** Same as scanLogFile, for an already-open byte stream (used for API log streams). */
export async function scanLogStream(
  stream: AsyncIterable<Uint8Array>,
  source: LogSource,
  set: SignatureSet,
  options?: ScanOptions,
): Promise<LogSourceResult> {
  const run = new SetRun(set, options ?? {}, undefined);
  const result = await readStream(stream, sourceLabel(source), run, options?.referenceTime);
  run.report();
  const out: LogSourceResult = {
    source,
    status: result.status,
    scan: result.scan ?? emptyScan(set, options),
  };
  if (result.problem !== undefined) out.problem = result.problem;
  addCaptures(out, [result], set, options?.sampleLimit);
  return out;
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
export function scanLogFile(
  path: string,
  set: SignatureSet,
  options?: ReadOptions,
): Promise<LogSourceResult> {
  return scanLogSet([path], set, options);
}
