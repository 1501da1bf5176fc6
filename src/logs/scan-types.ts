// The types the log engine's modules share: scanner and reader options, matches, and the line
// kernel's runs.

import type { SignatureRole } from "../model/logs.js";

export interface ScanOptions {
  /** Max sample lines kept per signature (default 3). */
  sampleLimit?: number;
  /** A physical line longer than this is truncated for matching and counted in `LogScan`-level stats (default 1 MiB). */
  maxLineBytes?: number;
  /** A multi-line record stops growing after this many lines (default 400). */
  maxRecordLines?: number;
  /**
   * When the source has syslog/klog stamps (no year) and no full timestamp to borrow a year from,
   * the year is the latest one that does not put them after this time (scanLogFile passes the
   * file's mtime). Without either, such stamps are omitted.
   */
  referenceTime?: Date;
  /**
   * A full time near the lines (the container's start), which gives syslog/klog stamps their year
   * before referenceTime does, when the source has no full timestamp of its own.
   */
  yearNear?: Date;
  /**
   * The last resort for the year of syslog/klog stamps (the current time: a log read from stdin
   * has no modification time). Whichever of these gave the year is reported in `LogScan.yearFrom`.
   */
  fallbackTime?: Date;
  /**
   * Called once per record that matches a signature, as soon as the record is complete (the next
   * record starts, or flush() is called): how incremental consumers such as the node agent see
   * matches without waiting for finish().
   */
  onMatch?: (match: SignatureMatch) => void;
  /**
   * Called as the source is read (about every 4 MiB, and at the end) with the bytes read so far and,
   * for a regular file, its size (for gzip both count compressed bytes). The library never prints.
   */
  onProgress?: (bytesRead: number, totalBytes: number | undefined) => void;
}

/** One matched record, as reported to ScanOptions.onMatch. */
export interface SignatureMatch {
  advisoryId: string;
  signatureId: string;
  role: SignatureRole;
  /** The record's time (ms since the epoch) when it carried a full timestamp. */
  time?: number;
}

/** Kinds of a run of lines found by the line kernel (see kernel.ts and line-kernel.wat). */
export const RUN_OTHER = 0;
export const RUN_FELIX = 1;
export const RUN_CRI_FELIX = 2;
export const RUN_CONTINUATION = 3;

/**
 * Runs of consecutive lines of one kind over a buffer (RUN_FELIX, RUN_CRI_FELIX: record starts
 * with no hit; RUN_CONTINUATION: plain lines that start no record and hold no hit; RUN_OTHER: the
 * rest), produced a batch at a time: next(from) classifies lines from `from` (a line start) and
 * returns where it stopped; the batch then holds `count` runs, each with its first line's start,
 * its kind, and that line's index in the batch (`lines` is how many lines the batch has).
 */
export interface LineRuns {
  next(from: number): number;
  readonly count: number;
  readonly lines: number;
  runStart(i: number): number;
  runKind(i: number): number;
  runLine(i: number): number;
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
