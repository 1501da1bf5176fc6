// Timestamps found at the start of log lines, parsed without Date.parse (which is lenient and slow).
// Syslog and klog stamps carry no year: they stay "yearless" until the scan ends and a year can be
// chosen from the source's other timestamps or the file's modification time.

/** A parsed timestamp: either a full instant or a month/day/time still waiting for its year. */
export type Stamp =
  { kind: "full"; ms: number } | { kind: "yearless"; month: number; day: number; msOfDay: number };

const DIGIT_0 = 48;
const MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function isDigit(code: number): boolean {
  return code >= DIGIT_0 && code <= DIGIT_0 + 9;
}

function digits(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = 0; i < count; i++) {
    const code = text.charCodeAt(at + i);
    if (!isDigit(code)) return -1;
    value = value * 10 + code - DIGIT_0;
  }
  return value;
}

/** Shape test for `YYYY-MM-DD?HH:MM:SS` at `at`; returns the separator char code or 0. */
export function isoShape(text: string, at: number): number {
  if (!isDigit(text.charCodeAt(at))) return 0;
  if (text.charCodeAt(at + 4) !== 45 || text.charCodeAt(at + 7) !== 45) return 0;
  if (text.charCodeAt(at + 13) !== 58 || text.charCodeAt(at + 16) !== 58) return 0;
  const sep = text.charCodeAt(at + 10);
  return sep === 32 || sep === 84 ? sep : 0;
}

/** Shape test for a BSD syslog stamp `Mmm dd HH:MM:SS` (day may be space-padded). */
export function syslogShape(text: string, at: number): boolean {
  const first = text.charCodeAt(at);
  if (first < 65 || first > 83) return false;
  return (
    text.charCodeAt(at + 3) === 32 &&
    text.charCodeAt(at + 6) === 32 &&
    text.charCodeAt(at + 9) === 58 &&
    text.charCodeAt(at + 12) === 58 &&
    isDigit(text.charCodeAt(at + 7))
  );
}

/** Shape test for a klog header `Lmmdd HH:MM:SS.uuuuuu` (L one of I, W, E, F). */
export function klogShape(text: string, at: number): boolean {
  const level = text.charCodeAt(at);
  if (level !== 73 && level !== 87 && level !== 69 && level !== 70) return false;
  return text.charCodeAt(at + 5) === 32 && text.charCodeAt(at + 8) === 58 && digits(text, at + 1, 4) >= 0;
}

interface Clock {
  ms: number;
  /** Index just past the parsed text. */
  end: number;
}

/** Parses `HH:MM:SS[.fraction]` at `at` into milliseconds of the day. */
function parseClock(text: string, at: number): Clock | undefined {
  const h = digits(text, at, 2);
  const m = digits(text, at + 3, 2);
  const s = digits(text, at + 6, 2);
  if (h < 0 || m < 0 || s < 0 || h > 23 || m > 59 || s > 60) return undefined;
  let ms = 0;
  let end = at + 8;
  if (text.charCodeAt(end) === 46 || text.charCodeAt(end) === 44) {
    end++;
    let scale = 100;
    while (isDigit(text.charCodeAt(end))) {
      ms += (text.charCodeAt(end) - DIGIT_0) * scale;
      scale /= 10;
      end++;
    }
    ms = Math.floor(ms);
  }
  return { ms: ((h * 60 + m) * 60 + s) * 1000 + ms, end };
}

/** Parses a zone suffix (Z, +hh:mm, +hhmm, -hh) at `at`; returns the offset in ms and the end index. */
function parseZone(text: string, at: number): { offset: number; end: number } {
  const c = text.charCodeAt(at);
  if (c === 90) return { offset: 0, end: at + 1 };
  if (c !== 43 && c !== 45) return { offset: 0, end: at };
  const sign = c === 43 ? 1 : -1;
  const hh = digits(text, at + 1, 2);
  if (hh < 0) return { offset: 0, end: at };
  let end = at + 3;
  if (text.charCodeAt(end) === 58) end++;
  const mm = digits(text, end, 2);
  if (mm >= 0) end += 2;
  return { offset: sign * (hh * 60 + Math.max(mm, 0)) * 60_000, end };
}

export interface ParsedStamp {
  stamp: Stamp;
  /** Index just past the timestamp text. */
  end: number;
}

/** Parses an ISO-8601/RFC 3339 style stamp at `at` (Felix writes no zone: taken as UTC). */
export function parseIso(text: string, at: number): ParsedStamp | undefined {
  if (isoShape(text, at) === 0) return undefined;
  const year = digits(text, at, 4);
  const month = digits(text, at + 5, 2);
  const day = digits(text, at + 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  const clock = parseClock(text, at + 11);
  if (!clock) return undefined;
  const zone = parseZone(text, clock.end);
  const ms = Date.UTC(year, month - 1, day) + clock.ms - zone.offset;
  return { stamp: { kind: "full", ms }, end: zone.end };
}

/** Parses a BSD syslog stamp (`May 24 14:39:03`) at `at`. */
export function parseSyslog(text: string, at: number): ParsedStamp | undefined {
  if (!syslogShape(text, at)) return undefined;
  const month = MONTH_NAMES.indexOf(text.slice(at, at + 3));
  const dayText = text.charCodeAt(at + 4) === 32 ? digits(text, at + 5, 1) : digits(text, at + 4, 2);
  if (month < 0 || dayText < 1 || dayText > 31) return undefined;
  const clock = parseClock(text, at + 7);
  if (!clock) return undefined;
  return { stamp: { kind: "yearless", month, day: dayText, msOfDay: clock.ms }, end: clock.end };
}

/** Parses a klog header stamp (`I0526 10:15:17.684123`) at `at`. */
export function parseKlog(text: string, at: number): ParsedStamp | undefined {
  if (!klogShape(text, at)) return undefined;
  const month = digits(text, at + 1, 2);
  const day = digits(text, at + 3, 2);
  if (month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  const clock = parseClock(text, at + 6);
  if (!clock) return undefined;
  return { stamp: { kind: "yearless", month: month - 1, day, msOfDay: clock.ms }, end: clock.end };
}

/** Any leading timestamp this engine understands, or undefined. */
export function parseLeading(text: string, at: number): ParsedStamp | undefined {
  return parseIso(text, at) ?? parseSyslog(text, at) ?? parseKlog(text, at);
}

const DAY_MS = 86_400_000;

function withYear(stamp: Extract<Stamp, { kind: "yearless" }>, year: number): number {
  return Date.UTC(year, stamp.month, stamp.day) + stamp.msOfDay;
}

/**
 * Picks the year of a yearless stamp. With `near` (a full timestamp from the same source) the year
 * that puts the stamp closest to it wins; with `notAfter` (a file's mtime) the latest year that does
 * not put the stamp after that time (a day of slack for clock skew).
 */
export interface YearHint {
  near?: number;
  notAfter?: number;
}

export function resolveStamp(stamp: Stamp | undefined, hint: YearHint): number | undefined {
  if (!stamp) return undefined;
  if (stamp.kind === "full") return stamp.ms;
  if (hint.near !== undefined) {
    const base = new Date(hint.near).getUTCFullYear();
    let best: number | undefined;
    for (const year of [base - 1, base, base + 1]) {
      const ms = withYear(stamp, year);
      if (best === undefined || Math.abs(ms - hint.near) < Math.abs(best - hint.near)) best = ms;
    }
    return best;
  }
  if (hint.notAfter !== undefined) {
    const base = new Date(hint.notAfter).getUTCFullYear();
    const ms = withYear(stamp, base);
    return ms <= hint.notAfter + DAY_MS ? ms : withYear(stamp, base - 1);
  }
  return undefined;
}

export function toIso(ms: number | undefined): string | undefined {
  return ms === undefined || !Number.isFinite(ms) ? undefined : new Date(ms).toISOString();
}
