// Byte-level twins of the line classifiers in lines.ts and time.ts, for the bulk path that never
// decodes text. They are only used on ASCII buffers, where a byte offset is a character offset, and
// they read nothing at or past `lim` (the line's "\n"), exactly like the string versions on a line
// pushed alone: a line's shape never depends on the line after it.

import {
  bareFelixAt,
  START_BARE,
  ENV_CRI,
  ENV_DOCKER,
  ENV_NONE,
  START_FELIX,
  START_NONE,
  START_OTHER,
  START_SYSLOG,
  type LineInfo,
  type StartKind,
} from "./lines.js";

/** The byte at i, or -1 at or past lim. */
function at(b: Buffer, i: number, lim: number): number {
  return i < lim ? (b[i] ?? -1) : -1;
}

function isDigitCode(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** `YYYY-MM-DD?HH:MM:SS` shape at i: the separator code (32 or 84) or 0. */
export function isoShapeBytes(b: Buffer, i: number, lim: number): number {
  if (!isDigitCode(at(b, i, lim))) return 0;
  if (at(b, i + 4, lim) !== 45 || at(b, i + 7, lim) !== 45) return 0;
  if (at(b, i + 13, lim) !== 58 || at(b, i + 16, lim) !== 58) return 0;
  const sep = at(b, i + 10, lim);
  return sep === 32 || sep === 84 ? sep : 0;
}

function syslogShapeBytes(b: Buffer, i: number, lim: number): boolean {
  const first = at(b, i, lim);
  if (first < 65 || first > 83) return false;
  return (
    at(b, i + 3, lim) === 32 &&
    at(b, i + 6, lim) === 32 &&
    at(b, i + 9, lim) === 58 &&
    at(b, i + 12, lim) === 58 &&
    isDigitCode(at(b, i + 7, lim))
  );
}

function klogShapeBytes(b: Buffer, i: number, lim: number): boolean {
  const level = at(b, i, lim);
  if (level !== 73 && level !== 87 && level !== 69 && level !== 70) return false;
  if (at(b, i + 5, lim) !== 32 || at(b, i + 8, lim) !== 58) return false;
  for (let k = 1; k <= 4; k++) if (!isDigitCode(at(b, i + k, lim))) return false;
  return true;
}

/** startKind() on bytes. */
export function startKindBytes(b: Buffer, i: number, lim: number): StartKind {
  const first = at(b, i, lim);
  if (isDigitCode(first)) {
    const sep = isoShapeBytes(b, i, lim);
    if (sep === 0) return START_NONE;
    if (sep === 32) {
      let k = i + 19;
      const c = at(b, k, lim);
      if (c === 46 || c === 44) {
        k++;
        while (isDigitCode(at(b, k, lim))) k++;
      }
      if (at(b, k, lim) === 32 && at(b, k + 1, lim) === 91) return START_FELIX;
    }
    return START_OTHER;
  }
  if (first === 91) {
    // `[` then a digit is a libbpf type-dump line (thousands per storm): no closure for those.
    const next = at(b, i + 1, lim);
    if (!(next >= 65 && next <= 90)) return START_NONE;
    return bareFelixAt((k) => at(b, k, lim), i) ? START_BARE : START_NONE;
  }
  if (syslogShapeBytes(b, i, lim)) return START_SYSLOG;
  return klogShapeBytes(b, i, lim) ? START_OTHER : START_NONE;
}

const STD = [115, 116, 100]; // "std"

function classifyCriBytes(b: Buffer, start: number, end: number, lim: number, out: LineInfo): void {
  let space = -1;
  for (let k = start + 19; k < lim && k <= start + 41; k++) {
    if (b[k] === 32) {
      space = k;
      break;
    }
  }
  if (space < 0 || space > start + 40 || space + 9 > end) return;
  const s = at(b, space + 4, lim);
  const isStream =
    at(b, space + 1, lim) === STD[0] &&
    at(b, space + 2, lim) === STD[1] &&
    at(b, space + 3, lim) === STD[2] &&
    (s === 111 || s === 101) &&
    at(b, space + 7, lim) === 32;
  const flag = at(b, space + 8, lim);
  if (!isStream || (flag !== 70 && flag !== 80)) return;
  if (space + 9 < end && at(b, space + 9, lim) !== 32) return;
  out.envelope = ENV_CRI;
  out.stream = s === 111 ? 0 : 1;
  out.partial = flag === 80;
  out.msgStart = Math.min(space + 10, end);
}

const DOCKER_PREFIX = Buffer.from('{"log":"', "latin1");
const DOCKER_STREAM = Buffer.from('","stream":"', "latin1");

function classifyDockerBytes(b: Buffer, start: number, end: number, lim: number, out: LineInfo): void {
  const close = b.indexOf(DOCKER_STREAM, start + DOCKER_PREFIX.length - 2);
  if (close < 0 || close >= end) return;
  let slashes = 0;
  if (at(b, close - 1, lim) === 110) {
    for (let k = close - 2; k >= start + DOCKER_PREFIX.length && b[k] === 92; k--) slashes++;
  }
  out.envelope = ENV_DOCKER;
  out.partial = slashes % 2 === 0;
  out.stream = at(b, close + DOCKER_STREAM.length + 3, lim) === 111 ? 0 : 1;
  out.msgStart = start + DOCKER_PREFIX.length;
}

function startsWithBytes(b: Buffer, prefix: Buffer, i: number, lim: number): boolean {
  if (i + prefix.length > lim) return false;
  for (let k = 0; k < prefix.length; k++) if (b[i + k] !== prefix[k]) return false;
  return true;
}

/**
 * classifyLine() on bytes: the physical line is [start, end) without a trailing CR; `lim` is the
 * position of its "\n" (bytes up to it, CR included, may be read, as in the string version).
 */
export function classifyBytes(b: Buffer, start: number, end: number, lim: number, out: LineInfo): void {
  out.envelope = ENV_NONE;
  out.partial = false;
  out.stream = 0;
  out.msgStart = start;
  const first = at(b, start, lim);
  if (first === 123) {
    if (startsWithBytes(b, DOCKER_PREFIX, start, lim)) classifyDockerBytes(b, start, end, lim, out);
  } else if (isDigitCode(first) && isoShapeBytes(b, start, lim) === 84) {
    classifyCriBytes(b, start, end, lim, out);
  }
}
