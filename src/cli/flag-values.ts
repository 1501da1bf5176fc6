// Flag values with their sane ranges, checked at parse time: a value that cannot work (a log cap
// the API rejects, a timer Node cannot arm, a rate that never lets a request through) is a one-line
// usage error naming the flag, never a silent loss of verdicts later. Light on purpose: the lean
// `logs` entry uses it without loading the Kubernetes client.

import { UsageError } from "../errors.js";

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };

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
  /** Below one request a second a scan of any size takes hours. */
  qps: { min: 1, max: 100_000 },
  burst: { min: 1, max: 100_000 },
  /** Node's timers hold at most 2^31-1 ms (~24.8 days); below a second every request times out. */
  requestTimeout: { min: 1, max: 3600 },
  /** Overall deadline of a scan/collect/plan/apply read. */
  timeout: { min: 1, max: 7 * 86400 },
  sample: { min: 0, max: 3600 },
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
  let total = 0;
  let rest = t;
  const part = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)/;
  for (let m = part.exec(rest); m; m = part.exec(rest)) {
    total += Number(m[1]) * (UNIT_SECONDS[m[2] ?? "s"] ?? 1);
    rest = rest.slice(m[0].length);
  }
  if (rest !== "" || t === "")
    throw new UsageError(`--${flag}: expected a duration like ${example} (got '${text}')`);
  return total;
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
