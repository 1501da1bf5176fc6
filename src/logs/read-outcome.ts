// What reading one source came to: its status, and every failure turned into a one-line problem
// that names the source (read errors, gzip damage, truncated lines, an open that failed).

import type { CaptureShape, LogCapture, LogScan, LogSource, LogSourceResult } from "../model/logs.js";

/** A failure of the underlying source (as opposed to the gzip decoder). */
export class SourceError extends Error {
  constructor(override readonly cause: unknown) {
    super(errorText(cause));
  }
}

export function errorCode(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error) {
    const code = error.code;
    return typeof code === "string" ? code : undefined;
  }
  return undefined;
}

export function errorText(error: unknown): string {
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

export interface Outcome {
  status: LogSourceResult["status"];
  problem?: string;
}

/** The outcome of a read that threw after `scannedBytes` bytes came in. */
export function failureOutcome(error: unknown, label: string, gzip: boolean, scannedBytes: number): Outcome {
  const scanned = formatSize(scannedBytes);
  const status = scannedBytes > 0 ? "partial" : "unreadable";
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

/** The result of reading one member of a set (a file, or stdin). */
export interface MemberResult {
  status: LogSourceResult["status"];
  problem?: string;
  scan?: LogScan;
  shapes?: CaptureShape[];
  captures?: LogCapture[];
  /** A plain read met shaped lines: the source should be read again on the shaped path. */
  reshape?: boolean;
}

export function truncationProblem(label: string, scan: LogScan, limit: number): string | undefined {
  const n = scan.truncatedLines;
  if (n === undefined) return undefined;
  return `${label}: ${n} line${n === 1 ? "" : "s"} longer than ${formatSize(limit)} truncated for matching`;
}

/** A scan without the reader's internal fields. */
export function settled(scan: LogScan): LogScan {
  if (scan.shapedLines === undefined) return scan;
  const rest = { ...scan };
  delete rest.shapedLines;
  return rest;
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

export function combineStatus(results: readonly MemberResult[]): LogSourceResult["status"] {
  if (results.every((r) => r.status === "read")) return "read";
  if (results.every((r) => r.status === "unreadable")) return "unreadable";
  return "partial";
}
