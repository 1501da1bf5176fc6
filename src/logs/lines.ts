// Per-line format detection on a span [start, end) of a larger string, without allocating: the hot
// path calls this for every physical line, so results go into a reused object.

import type { LogFormat } from "../model/logs.js";
import { isoShape, klogShape, parseIso, parseLeading, syslogShape, type Stamp } from "./time.js";

export const ENV_NONE = 0;
export const ENV_CRI = 1;
export const ENV_DOCKER = 2;
export type EnvelopeKind = typeof ENV_NONE | typeof ENV_CRI | typeof ENV_DOCKER;

/** What starts a record: nothing, a Felix header, a syslog line, or some other leading timestamp. */
export const START_NONE = 0;
export const START_FELIX = 1;
export const START_SYSLOG = 2;
export const START_OTHER = 3;
/** A Felix header without a timestamp (`[INFO][60] felix/x.go 12: ...`, pasted from a terminal). */
export const START_BARE = 4;
export type StartKind =
  typeof START_NONE | typeof START_FELIX | typeof START_SYSLOG | typeof START_OTHER | typeof START_BARE;

/** Whether a start kind carries a timestamp (every kind but "none" and a bare Felix header). */
export function startStamped(kind: StartKind): boolean {
  return kind !== START_NONE && kind !== START_BARE;
}

/**
 * `[LEVEL][PID] file.go LINE:` at `at` (code(i) gives the character code at i, or -1 past the end):
 * Felix's header after its timestamp. LEVEL is upper-case letters, PID digits, the file a path
 * ending in ".go".
 */
export function bareFelixAt(code: (i: number) => number, at: number): boolean {
  if (code(at) !== 91) return false;
  let i = at + 1;
  while (code(i) >= 65 && code(i) <= 90) i++;
  if (i === at + 1 || i > at + 8 || code(i) !== 93 || code(i + 1) !== 91) return false;
  i += 2;
  const pid = i;
  while (code(i) >= 48 && code(i) <= 57) i++;
  if (i === pid || code(i) !== 93 || code(i + 1) !== 32) return false;
  i += 2;
  const file = i;
  // The file: non-space characters ending in ".go", then " LINE:".
  while (i - file < 120) {
    const c = code(i);
    if (c <= 32) break;
    i++;
  }
  if (i - file < 4 || code(i) !== 32) return false;
  if (code(i - 3) !== 46 || code(i - 2) !== 103 || code(i - 1) !== 111) return false;
  i++;
  const line = i;
  while (code(i) >= 48 && code(i) <= 57) i++;
  return i > line && code(i) === 58;
}

export const FORMAT_BITS: readonly [LogFormat, number][] = [
  ["felix", 1],
  ["cri", 2],
  ["docker-json", 4],
  ["syslog", 8],
  ["plain", 16],
];
export const BIT_FELIX = 1;
export const BIT_CRI = 2;
export const BIT_DOCKER = 4;
export const BIT_SYSLOG = 8;
export const BIT_PLAIN = 16;

export class LineInfo {
  envelope: EnvelopeKind = ENV_NONE;
  /** Start of the message text (for docker json, of its still-escaped form). */
  msgStart = 0;
  /** A CRI "P" line or a docker line whose log value lacks the trailing newline. */
  partial = false;
  /** 0 stdout, 1 stderr. */
  stream: 0 | 1 = 0;
}

const DOCKER_PREFIX = '{"log":"';
const DOCKER_STREAM = '","stream":"';

function classifyCri(text: string, start: number, end: number, out: LineInfo): boolean {
  // `<RFC3339Nano> <stdout|stderr> <F|P> <message>`
  const space = text.indexOf(" ", start + 19);
  if (space < 0 || space > start + 40 || space + 9 > end) return false;
  const s = text.charCodeAt(space + 4);
  const isStream =
    text.startsWith("std", space + 1) && (s === 111 || s === 101) && text.charCodeAt(space + 7) === 32;
  const flag = text.charCodeAt(space + 8);
  if (!isStream || (flag !== 70 && flag !== 80)) return false;
  const after = text.charCodeAt(space + 9);
  if (space + 9 < end && after !== 32) return false;
  out.envelope = ENV_CRI;
  out.stream = s === 111 ? 0 : 1;
  out.partial = flag === 80;
  out.msgStart = Math.min(space + 10, end);
  return true;
}

function classifyDocker(text: string, start: number, end: number, out: LineInfo): boolean {
  const close = text.indexOf(DOCKER_STREAM, start + DOCKER_PREFIX.length - 2);
  if (close < 0 || close >= end) return false;
  // The log value ends in an escaped newline unless the line was split (partial).
  let slashes = 0;
  if (text.charCodeAt(close - 1) === 110) {
    for (let i = close - 2; i >= start + DOCKER_PREFIX.length && text.charCodeAt(i) === 92; i--) slashes++;
  }
  out.envelope = ENV_DOCKER;
  out.partial = slashes % 2 === 0;
  out.stream = text.charCodeAt(close + DOCKER_STREAM.length + 3) === 111 ? 0 : 1;
  out.msgStart = start + DOCKER_PREFIX.length;
  return true;
}

/** Detects the envelope (CRI, docker json-file or none) of the physical line [start, end). */
export function classifyLine(text: string, start: number, end: number, out: LineInfo): void {
  out.envelope = ENV_NONE;
  out.partial = false;
  out.stream = 0;
  out.msgStart = start;
  const first = text.charCodeAt(start);
  if (first === 123) {
    if (text.startsWith(DOCKER_PREFIX, start)) classifyDocker(text, start, end, out);
  } else if (first >= 48 && first <= 57 && isoShape(text, start) === 84) {
    classifyCri(text, start, end, out);
  }
}

/** Whether the message at `at` begins a record, and as what. */
export function startKind(text: string, at: number): StartKind {
  const first = text.charCodeAt(at);
  if (first >= 48 && first <= 57) {
    const sep = isoShape(text, at);
    if (sep === 0) return START_NONE;
    if (sep === 32) {
      let i = at + 19;
      if (text.charCodeAt(i) === 46 || text.charCodeAt(i) === 44) {
        i++;
        while (text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
      }
      if (text.charCodeAt(i) === 32 && text.charCodeAt(i + 1) === 91) return START_FELIX;
    }
    return START_OTHER;
  }
  if (first === 91) {
    // `[` then a digit is a libbpf type-dump line (thousands per storm): no closure for those.
    const next = text.charCodeAt(at + 1);
    if (!(next >= 65 && next <= 90)) return START_NONE;
    return bareFelixAt((i) => (i < text.length ? text.charCodeAt(i) : -1), at) ? START_BARE : START_NONE;
  }
  if (syslogShape(text, at)) return START_SYSLOG;
  return klogShape(text, at) ? START_OTHER : START_NONE;
}

export function startFormatBit(kind: StartKind): number {
  if (kind === START_FELIX || kind === START_BARE) return BIT_FELIX;
  if (kind === START_SYSLOG) return BIT_SYSLOG;
  return kind === START_OTHER ? BIT_PLAIN : 0;
}

interface DockerRecord {
  log?: unknown;
  time?: unknown;
}

/** The decoded message of one physical line (envelope removed, docker json unescaped). */
export function messageOf(line: string, info: LineInfo): string {
  if (info.envelope === ENV_CRI) return line.slice(info.msgStart);
  if (info.envelope === ENV_DOCKER) {
    try {
      const parsed = JSON.parse(line) as DockerRecord;
      if (typeof parsed.log === "string") {
        return parsed.log.endsWith("\n") ? parsed.log.slice(0, -1) : parsed.log;
      }
    } catch {
      // Not valid JSON after all (e.g. truncated): keep the raw text.
    }
  }
  return line;
}

/** The timestamp of one physical line: envelope time first, else a leading timestamp of the message. */
export function stampOf(line: string, info: LineInfo): Stamp | undefined {
  if (info.envelope === ENV_CRI) return parseIso(line, 0)?.stamp;
  if (info.envelope === ENV_DOCKER) {
    const at = line.lastIndexOf('"time":"');
    const stamp = at >= 0 ? parseIso(line, at + 8)?.stamp : undefined;
    if (stamp) return stamp;
  }
  return parseLeading(line, info.msgStart)?.stamp;
}
