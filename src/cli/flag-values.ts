// Flag values with their sane ranges, checked at parse time: a value that cannot work (a log cap
// the API rejects, a timer Node cannot arm, a rate that never lets a request through) is a one-line
// usage error naming the flag, never a silent loss of verdicts later. Light on purpose: the lean
// `logs` entry uses it without loading the Kubernetes client.

import { UsageError } from "../errors.js";
import { parseIso } from "../logs/time.js";

const UNIT_SECONDS: Readonly<Record<string, number>> = {
  ms: 0.001,
  s: 1,
  m: 60,
  h: 3600,
  d: 86400,
  w: 604_800,
};

/**
 * The one duration reader behind every duration flag: "1h30m", "500ms", "7d" → seconds, each part
 * with one of `units`; undefined when the text is not made of such parts. The flag types differ
 * only in the units they allow and what they add (a bare number, a minimum).
 */
function durationSeconds(text: string, units: readonly string[]): number | undefined {
  let total = 0;
  let rest = text;
  // Longest unit first, so "ms" is not read as "m" then a stray "s".
  const part = new RegExp(`^(\\d+(?:\\.\\d+)?)(${[...units].sort((a, b) => b.length - a.length).join("|")})`);
  for (let m = part.exec(rest); m; m = part.exec(rest)) {
    total += Number(m[1]) * (UNIT_SECONDS[m[2] ?? "s"] ?? 1);
    rest = rest.slice(m[0].length);
  }
  return rest !== "" || text === "" ? undefined : total;
}

export interface Range {
  min: number;
  max: number;
}

/** Ranges per flag. Durations in seconds, sizes in bytes. */
export const RANGES = {
  /** A log window past a year reads nothing a rotated container log still holds. */
  since: { min: 1, max: 366 * 86400 },
  /** logs --since/--until before the log's end: up to a century, so the window start stays a valid date. */
  logWindow: { min: 0, max: 100 * 366 * 86400 },
  /** The API takes limitBytes as an integer; beyond 1 TiB is not a cap but a typo. */
  logBytes: { min: 1, max: 2 ** 40 },
  concurrency: { min: 1, max: 1024 },
  /** Clusters of a fleet read at once; each holds its own sockets and snapshot. */
  clustersConcurrency: { min: 1, max: 256 },
  /** Below one request a second a scan of any size takes hours. */
  qps: { min: 1, max: 100_000 },
  burst: { min: 1, max: 100_000 },
  /** Node's timers hold at most 2^31-1 ms (~24.8 days); below a second every request times out. */
  requestTimeout: { min: 1, max: 3600 },
  /** Overall deadline of a scan/collect/plan/apply read. */
  timeout: { min: 1, max: 7 * 86400 },
  sample: { min: 0, max: 3600 },
  /** apply's post-check waits: none at all, up to the longest overall --timeout. */
  restartWait: { min: 0, max: 7 * 86400 },
  postCheckWindow: { min: 0, max: 3600 },
  /** Rolling restart: a batch of 10^23 pods or a lease for centuries is a typo. */
  maxUnavailable: { min: 1, max: 100_000 },
  leaseTtl: { min: 1, max: 7 * 86400 },
} as const satisfies Record<string, Range>;

function human(seconds: number): string {
  if (seconds >= 86400 && seconds % 86400 === 0) return `${seconds / 86400}d`;
  if (seconds >= 3600 && seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

function checkRange(
  value: number,
  range: Range,
  flag: string,
  text: string,
  show: (n: number) => string,
): number {
  if (!Number.isFinite(value) || value < range.min || value > range.max)
    throw new UsageError(
      `--${flag}: must be between ${show(range.min)} and ${show(range.max)} (got '${text}')`,
    );
  return value;
}

/** "1h", "30m", "2h30m", "90s", "45" (seconds) → seconds, unchecked. */
export function parseDurationSeconds(text: string, flag: string, example = "30s, 15m, 1h"): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
  const seconds = durationSeconds(t, ["ms", "s", "m", "h", "d"]);
  if (seconds === undefined)
    throw new UsageError(`--${flag}: expected a duration like ${example} (got '${text}')`);
  return seconds;
}

/** A duration in seconds within `range`. */
export function parseDuration(text: string, flag: string, range: Range = RANGES.logWindow): number {
  return checkRange(parseDurationSeconds(text, flag), range, flag, text, human);
}

const SIZE: Record<string, number> = {
  "": 1,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  KiB: 2 ** 10,
  MiB: 2 ** 20,
  GiB: 2 ** 30,
};

/** "16Mi", "1Gi", "500000", "10MB" → bytes, within `range`. */
export function parseSize(text: string, flag: string, range: Range = RANGES.logBytes): number {
  const m = /^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$/.exec(text.trim());
  const factor = m ? SIZE[m[2] ?? ""] : undefined;
  if (!m || factor === undefined)
    throw new UsageError(`--${flag}: expected a size like 16Mi, 1Gi or a byte count (got '${text}')`);
  return checkRange(Math.floor(Number(m[1]) * factor), range, flag, text, (n) =>
    n >= 2 ** 30 && n % 2 ** 30 === 0 ? `${n / 2 ** 30}Gi` : String(n),
  );
}

/** A number (whole when `integer`), > 0 (or ≥ 0 with allowZero), and within `range` when given. */
export function parsePositive(
  text: string,
  flag: string,
  opts: { integer: boolean; allowZero?: boolean; range?: Range },
): number {
  const n = Number(text);
  const ok =
    text.trim() !== "" &&
    Number.isFinite(n) &&
    (opts.allowZero === true ? n >= 0 : n > 0) &&
    (!opts.integer || Number.isInteger(n));
  if (!ok)
    throw new UsageError(
      `--${flag}: expected ${opts.integer ? "a whole number" : "a number"}${opts.allowZero === true ? " ≥ 0" : " > 0"} (got '${text}')`,
    );
  return opts.range ? checkRange(n, opts.range, flag, text, String) : n;
}

/** Where a flag value is read: the flag's name and the command it was given to. */
export interface FlagSite {
  flag: string;
  command: string;
}

/** What kind of value a flag takes (help and the README show it); `parse` turns the text into it. */
export type ValueKind =
  "boolean" | "string" | "list" | "enum" | "duration" | "size" | "int" | "number" | "time" | "address";

/**
 * A flag's value type: checked and converted once, by the flag table's accessor (flag-access.ts).
 * Every error is a one-line UsageError naming the flag (exit 2).
 */
export interface ValueType<T> {
  readonly kind: ValueKind;
  /** Allowed range (durations in seconds, sizes in bytes). */
  readonly range?: Range;
  readonly parse: (text: string, at: FlagSite) => T;
}

export const bool = (): ValueType<boolean> => ({ kind: "boolean", parse: (t) => t === "true" });

/** Text taken as given (an empty string too: the command says what that means). */
export const text = (): ValueType<string> => ({ kind: "string", parse: (t) => t });

/** Comma-separated items, trimmed, empty ones dropped. */
export const list = (): ValueType<string[]> => ({
  kind: "list",
  parse: (t) =>
    t
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== ""),
});

/** One of `values` (the parser already refused others, with the table's list). */
export function oneOf<const V extends readonly string[]>(values: V): ValueType<V[number]> {
  return {
    kind: "enum",
    parse: (t, at) => {
      if (!values.includes(t))
        throw new UsageError(`${at.command}: --${at.flag} must be one of ${values.join(", ")} (got '${t}')`);
      return t;
    },
  };
}

/** A duration in seconds within `range` ("1h", "2h30m", "90" seconds). */
export const duration = (range: Range = RANGES.logWindow): ValueType<number> => ({
  kind: "duration",
  range,
  parse: (t, at) => parseDuration(t, at.flag, range),
});

/** A byte count within `range` ("16Mi", "1Gi", "500000"). */
export const size = (range: Range = RANGES.logBytes): ValueType<number> => ({
  kind: "size",
  range,
  parse: (t, at) => parseSize(t, at.flag, range),
});

/** A whole number > 0 within `range`. */
export const int = (range: Range): ValueType<number> => ({
  kind: "int",
  range,
  parse: (t, at) => parsePositive(t, at.flag, { integer: true, range }),
});

/** A number > 0 within `range`. */
export const number = (range: Range): ValueType<number> => ({
  kind: "number",
  range,
  parse: (t, at) => parsePositive(t, at.flag, { integer: false, range }),
});

/** Text matching `pattern`; otherwise "--FLAG must look like HINT". */
export const matching = (pattern: RegExp, hint: string): ValueType<string> => ({
  kind: "string",
  parse: (t, at) => {
    if (!pattern.test(t)) throw new UsageError(`--${at.flag} must look like ${hint} (got '${t}')`);
    return t;
  },
});

/** A Prometheus range-query window, in seconds (at least a minute; units s, m, h, d, w). */
export const promWindow = (): ValueType<number> => ({
  kind: "duration",
  parse: (t, at) => {
    const seconds = durationSeconds(t.trim(), ["s", "m", "h", "d", "w"]);
    if (seconds === undefined || seconds < 60)
      throw new UsageError(
        `${at.command}: --${at.flag} must be a duration of at least 1m like 6h, 24h or 7d (got '${t}')`,
      );
    return Math.round(seconds);
  },
});

/** The agent's durations, in milliseconds: every part has a unit ("30m", "1h30m", "500ms"). */
export const interval = (): ValueType<number> => ({
  kind: "duration",
  parse: (t, at) => {
    const seconds = durationSeconds(t, ["ms", "s", "m", "h"]);
    if (seconds === undefined)
      throw new UsageError(
        `${at.command}: --${at.flag} must be a duration like 30s, 10m or 1h30m (got '${t}')`,
      );
    return Math.round(seconds * 1000);
  },
});

/** "127.0.0.1:9808", ":9808", "[::1]:9808" → host (all interfaces when empty) and port. */
export const address = (): ValueType<{ host: string; port: number }> => ({
  kind: "address",
  parse: (t, at) => {
    const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(t);
    const port = Number(m?.[3]);
    if (!m || !Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError(`${at.command}: --${at.flag} must be HOST:PORT or :PORT (got '${t}')`);
    const host = m[1] ?? m[2] ?? "";
    return { host: host === "" ? "0.0.0.0" : host, port };
  },
});

/**
 * The start or end of a window: an RFC 3339 time, or a duration back from the window's end, in ms.
 * For files (`logs`) the end is the log's last timestamp, known only once read; for a cluster it
 * is now, so a time becomes a duration back from now here.
 */
export type When = { at: number } | { beforeEnd: number };

export function when(ranges: {
  cluster: Range;
  files: Range;
  fileCommands: readonly string[];
}): ValueType<When> {
  return {
    kind: "time",
    range: ranges.cluster,
    parse: (t, at) =>
      ranges.fileCommands.includes(at.command)
        ? fileWhen(t, at, ranges.files)
        : clusterWhen(t, at.flag, ranges.cluster),
  };
}

function rfc3339(t: string): number | undefined {
  const iso = parseIso(t.trim(), 0);
  return iso !== undefined && iso.stamp.kind === "full" && iso.end === t.trim().length
    ? iso.stamp.ms
    : undefined;
}

function fileWhen(t: string, at: FlagSite, range: Range): When {
  const ms = rfc3339(t);
  if (ms !== undefined) return { at: ms };
  if (/^\d{4}-/.test(t.trim()))
    throw new UsageError(
      `${at.command}: --${at.flag}: expected an RFC 3339 time like 2024-08-09T08:00:00Z or a duration like 2h (got '${t}')`,
    );
  try {
    return { beforeEnd: parseDuration(t, at.flag, range) * 1000 };
  } catch (e) {
    if (e instanceof UsageError)
      throw new UsageError(
        `${at.command}: ${e.message.replace("a duration like", "an RFC 3339 time or a duration like")}`,
      );
    throw e;
  }
}

function clusterWhen(t: string, flag: string, range: Range): When {
  const ms = rfc3339(t);
  if (ms === undefined) return { beforeEnd: Math.ceil(parseDuration(t, flag, range)) * 1000 };
  const back = Math.ceil((Date.now() - ms) / 1000);
  if (back < range.min || back > range.max)
    throw new UsageError(
      `--${flag}: ${t} must be between ${human(range.min)} and ${human(range.max)} ago (it is ${back < 0 ? "in the future" : `${human(back)} ago`})`,
    );
  return { beforeEnd: back * 1000 };
}
