// Merging the LogScans of consecutive parts of one source (the files of a rotated set, oldest
// first, or the byte ranges of one file scanned on several threads) into the LogScan of the whole.
// Parts never share a record, so counts add up; first/last times come from the first/last part that
// has them, rates are recomputed over the merged span exactly as the scanner computes them, and the
// earliest samples are kept.

import type { FingerprintHit, LogFormat, LogScan, SignalStat } from "../model/logs.js";
import { FORMAT_BITS } from "./lines.js";
import type { SignatureSet } from "./signatures.js";

const HOUR_MS = 3_600_000;

function firstDefined<T>(values: readonly (T | undefined)[]): T | undefined {
  for (const v of values) if (v !== undefined) return v;
  return undefined;
}

function lastDefined<T>(values: readonly (T | undefined)[]): T | undefined {
  for (let i = values.length - 1; i >= 0; i--) {
    const v = values[i];
    if (v !== undefined) return v;
  }
  return undefined;
}

function mergeSignal(parts: readonly SignalStat[], sampleLimit: number): SignalStat {
  const head = parts[0];
  if (head === undefined) throw new Error("mergeSignal: no parts");
  const stat: SignalStat = {
    advisoryId: head.advisoryId,
    signatureId: head.signatureId,
    role: head.role,
    count: parts.reduce((n, p) => n + p.count, 0),
    samples: parts.flatMap((p) => p.samples).slice(0, sampleLimit),
  };
  const firstSeen = firstDefined(parts.map((p) => p.firstSeen));
  const lastSeen = lastDefined(parts.map((p) => p.lastSeen));
  if (firstSeen !== undefined && lastSeen !== undefined) {
    stat.firstSeen = firstSeen;
    stat.lastSeen = lastSeen;
    const span = Math.abs(Date.parse(lastSeen) - Date.parse(firstSeen));
    if (span >= 60_000) stat.ratePerHour = stat.count / (span / HOUR_MS);
  }
  return stat;
}

/**
 * The LogScan of parts read one after the other. `sampleLimit` is the scanners' sample cap (default
 * 3). Signals and fingerprints keep the set's order. One part is returned as it is.
 */
export function mergeScans(set: SignatureSet, parts: readonly LogScan[], sampleLimit = 3): LogScan {
  const only = parts[0];
  if (only === undefined) throw new Error("mergeScans: no parts");
  if (parts.length === 1) return only;
  const formats = new Set<LogFormat>(parts.flatMap((p) => p.formats));
  const signals: SignalStat[] = [];
  for (const sig of set.signatures) {
    const matching = parts.flatMap((p) =>
      p.signals.filter((s) => s.advisoryId === sig.advisoryId && s.signatureId === sig.signature.id),
    );
    if (matching.length > 0) signals.push(mergeSignal(matching, Math.max(0, sampleLimit)));
  }
  const fingerprints: FingerprintHit[] = [];
  for (const fp of set.fingerprints) {
    const matching = parts.flatMap((p) =>
      p.fingerprints.filter((f) => f.advisoryId === fp.advisoryId && f.fingerprintId === fp.fingerprint.id),
    );
    const head = matching[0];
    if (head !== undefined) {
      fingerprints.push({
        ...head,
        versions: [...head.versions],
        count: matching.reduce((n, f) => n + f.count, 0),
      });
    }
  }
  const scan: LogScan = {
    bytes: parts.reduce((n, p) => n + p.bytes, 0),
    lines: parts.reduce((n, p) => n + p.lines, 0),
    records: parts.reduce((n, p) => n + p.records, 0),
    formats: FORMAT_BITS.map(([name]) => name).filter((name) => formats.has(name)),
    signals,
    fingerprints,
  };
  const first = firstDefined(parts.map((p) => p.firstTimestamp));
  const last = lastDefined(parts.map((p) => p.lastTimestamp));
  if (first !== undefined) scan.firstTimestamp = first;
  if (last !== undefined) scan.lastTimestamp = last;
  const yearFrom = parts.find((p) => p.yearFrom !== undefined)?.yearFrom;
  if (yearFrom !== undefined) scan.yearFrom = yearFrom;
  const truncated = parts.reduce((n, p) => n + (p.truncatedLines ?? 0), 0);
  if (truncated > 0) scan.truncatedLines = truncated;
  return scan;
}
