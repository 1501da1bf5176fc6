// The streaming log engine: formats, prefilter, multi-line records, signatures and fingerprints.

export { compileSignatures, type SignatureSet } from "./signatures.js";
export { SignatureCompileError } from "./errors.js";
export { LogScanner, type ScanOptions } from "./scanner.js";
export { scanLogFile, scanLogStream } from "./reader.js";
