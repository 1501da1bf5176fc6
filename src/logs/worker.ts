// Worker thread entry: scans one byte range of an uncompressed log file with the bulk path and
// posts its LogScan (see parallel.ts). Reads are synchronous: this thread does nothing else.

import { closeSync, openSync, readSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { FastFeeder } from "./fast.js";
import type { ScanOptions } from "./scan-types.js";
import { LogScanner } from "./scanner.js";
import { compileSignatures } from "./signatures.js";
import type { RangeJob, WorkerMessage } from "./parallel.js";

// 1 MiB reads and a small young generation keep the worker's share of RSS near 20 MB (no slower).
const CHUNK = 1024 * 1024;
const PROGRESS_STEP = 64 * 1024 * 1024;

function run(job: RangeJob): void {
  const set = compileSignatures(job.source);
  const options: ScanOptions = {};
  if (job.sampleLimit !== undefined) options.sampleLimit = job.sampleLimit;
  if (job.maxLineBytes !== undefined) options.maxLineBytes = job.maxLineBytes;
  if (job.maxRecordLines !== undefined) options.maxRecordLines = job.maxRecordLines;
  if (job.referenceTimeMs !== undefined) options.referenceTime = new Date(job.referenceTimeMs);
  const scanner = new LogScanner(set, options);
  const feeder = new FastFeeder(scanner, set, 2 * CHUNK);
  const fd = openSync(job.path, "r");
  try {
    let position = job.from;
    let reported = 0;
    while (position < job.to) {
      const room = feeder.reserve(Math.min(CHUNK, job.to - position));
      const n = readSync(fd, room, 0, room.length, position);
      if (n === 0) break;
      position += n;
      feeder.commit(n);
      if (position - job.from - reported >= PROGRESS_STEP) {
        reported = position - job.from;
        post({ kind: "progress", bytes: reported });
      }
    }
  } finally {
    closeSync(fd);
  }
  feeder.end();
  post({ kind: "done", scan: scanner.finish() });
}

function post(message: WorkerMessage): void {
  parentPort?.postMessage(message);
}

run(workerData as RangeJob);
