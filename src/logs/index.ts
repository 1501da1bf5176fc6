// The streaming log engine: formats, prefilter, multi-line records, signatures and fingerprints.
//
// Semantics worth knowing when writing advisory signatures:
// - A record is a line that starts one (Felix header, syslog line, any leading timestamp) plus the
//   following lines that do not; in CRI/docker logs the envelope is removed first and CRI "P" /
//   docker partial lines are joined into one logical line. A source may begin mid-record.
// - `header` runs on the record's first line; `all`/`any`/`none` run once each on the whole record
//   text (lines joined by "\n"), compiled without flags, so `^`/`$` anchor to the record's start/end.
// - `LogScan.signals` and `LogScan.fingerprints` list only what matched at least once.
// - `LogScan.bytes` counts the log text scanned (after gzip decompression).

export { compileSignatures, type SignatureSet } from "./signatures.js";
export { SignatureCompileError } from "./errors.js";
export { LogScanner } from "./scanner.js";
export type { ScanOptions, SignatureMatch } from "./scan-types.js";
export {
  scanLogFile,
  scanLogSet,
  scanLogStream,
  SAMPLE_MIN_SPAN_MS,
  SAMPLE_MIN_SYMPTOMS,
  type ReadOptions,
  type WindowBound,
  formatSize,
} from "./reader.js";
export { groupRotated, logFilesIn, rotationOf, type RotatedSet } from "./rotation.js";
