// Splitting a large uncompressed file in two at a record start: this thread scans the first part,
// a worker thread the second, and mergeScans() joins them (records never straddle the split: the
// first part ends exactly where the second begins, at a line that starts a record).

import type { FileHandle } from "node:fs/promises";
import { Worker } from "node:worker_threads";
import type { LogScan } from "../model/logs.js";
import type { ScanOptions } from "./scan-types.js";
import type { SignatureSet, SignatureSource } from "./signatures.js";
import { isoShapeBytes } from "./bytes.js";

const NEWLINE = 10;
const PROBE_BYTES = 64 * 1024;
/** How far past the requested split to look for a record start before giving up. */
const SEARCH_BYTES = 16 * 1024 * 1024;

/** What the worker needs: plain data only (RegExps do not cross threads; it recompiles the set). */
export interface RangeJob {
  path: string;
  from: number;
  to: number;
  source: readonly SignatureSource[];
  sampleLimit?: number;
  maxLineBytes?: number;
  maxRecordLines?: number;
  referenceTimeMs?: number;
}

export type WorkerMessage = { kind: "progress"; bytes: number } | { kind: "done"; scan: LogScan };

/** What a range read reports to its caller (sampling-progress.ts's SetRun). */
export interface RangeRun {
  readonly set: SignatureSet;
  readonly options: ScanOptions;
  advance(bytes: number): void;
}

/** Whether the file's head shows CRI or docker envelopes (their partial lines may straddle a split). */
function hasEnvelopes(head: Buffer): boolean {
  return (
    head.includes('{"log":"') ||
    head.includes(" stdout F ") ||
    head.includes(" stderr F ") ||
    head.includes(" stdout P ") ||
    head.includes(" stderr P ")
  );
}

/**
 * The offset of the first line at or after `near` that starts a plain Felix/ISO record (a leading
 * `YYYY-MM-DD HH:MM:SS` stamp, which no envelope has), inside (from, to); undefined when there is
 * none close by or the file carries envelopes.
 */
export async function splitPoint(
  handle: FileHandle,
  from: number,
  to: number,
  near: number,
): Promise<number | undefined> {
  const probe = Buffer.allocUnsafe(PROBE_BYTES);
  const head = (await handle.read(probe, 0, PROBE_BYTES, from)).bytesRead;
  if (hasEnvelopes(probe.subarray(0, head))) return undefined;
  const limit = Math.min(to, near + SEARCH_BYTES);
  let start = await nextLineStart(handle, Math.max(from + 1, near), limit, probe);
  while (start !== undefined && start < limit) {
    const n = (await handle.read(probe, 0, PROBE_BYTES, start)).bytesRead;
    const view = probe.subarray(0, n);
    let at = 0;
    for (;;) {
      const lineEnd = view.indexOf(NEWLINE, at);
      if (lineEnd < 0) break;
      if (isoShapeBytes(view, at, lineEnd) === 32) return start + at;
      at = lineEnd + 1;
    }
    start = at === 0 ? await nextLineStart(handle, start + n, limit, probe) : start + at;
  }
  return undefined;
}

/** The first offset >= `at` (and < `limit`) that follows a "\n". */
async function nextLineStart(
  handle: FileHandle,
  at: number,
  limit: number,
  probe: Buffer,
): Promise<number | undefined> {
  for (let pos = at - 1; pos < limit;) {
    const n = (await handle.read(probe, 0, PROBE_BYTES, pos)).bytesRead;
    if (n === 0) return undefined;
    const nl = probe.subarray(0, n).indexOf(NEWLINE);
    if (nl >= 0) return pos + nl + 1 < limit ? pos + nl + 1 : undefined;
    pos += n;
  }
  return undefined;
}

/** A running worker scanning [from, to) of a file. */
export interface RangeWorker {
  result: Promise<LogScan>;
  stop(): void;
}

/** Starts a worker thread that scans [from, to) of `path` and returns its LogScan. */
export function scanRangeOnWorker(
  path: string,
  from: number,
  to: number,
  run: RangeRun,
  referenceTime: Date,
): RangeWorker {
  const job: RangeJob = {
    path,
    from,
    to,
    source: run.set.source,
    referenceTimeMs: (run.options.referenceTime ?? referenceTime).getTime(),
  };
  const { sampleLimit, maxLineBytes, maxRecordLines } = run.options;
  if (sampleLimit !== undefined) job.sampleLimit = sampleLimit;
  if (maxLineBytes !== undefined) job.maxLineBytes = maxLineBytes;
  if (maxRecordLines !== undefined) job.maxRecordLines = maxRecordLines;
  const worker = new Worker(new URL("./worker.js", import.meta.url), {
    workerData: job,
    resourceLimits: { maxYoungGenerationSizeMb: 4 },
  });
  const result = new Promise<LogScan>((resolve, reject) => {
    let reported = 0;
    worker.on("message", (message: WorkerMessage) => {
      if (message.kind === "progress") {
        run.advance(message.bytes - reported);
        reported = message.bytes;
      } else {
        run.advance(to - from - reported);
        reported = to - from;
        resolve(message.scan);
      }
    });
    worker.on("error", reject);
    worker.on("exit", (code) => {
      reject(new Error(`log worker exited with code ${code}`));
    });
  });
  return {
    result,
    stop: () => {
      void worker.terminate();
    },
  };
}
