// Reading an uncompressed file: its --since/--until window found by binary search, then read
// straight into the bulk path's work buffer, as one range or split at a record start across two
// threads (parallel.ts).

import { readSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import type { LogScan } from "../model/logs.js";
import type { FastFeeder } from "./fast.js";
import { mergeScans } from "./merge.js";
import { scanRangeOnWorker, splitPoint, type RangeWorker } from "./parallel.js";
import {
  errorCode,
  errorText,
  formatSize,
  truncationProblem,
  type MemberResult,
  type Outcome,
} from "./read-outcome.js";
import type { SetRun } from "./sampling-progress.js";
import { offsetOfTime, type TimeWindow } from "./window.js";

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
export async function readPlain(
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
