// Folds the log engine's per-source signal statistics into what one subject (a node's calico-node
// container, or one log file) shows.

import type { LogSourceResult, SignalStat } from "../model/logs.js";

export interface SymptomSummary {
  sources: LogSourceResult[];
  /** At least one source was read completely or in part. */
  logsRead: boolean;
  symptom: SignalStat[];
  corroborating: SignalStat[];
  context: SignalStat[];
  lookalike: SignalStat[];
  /**
   * Calico versions the Felix source line numbers point to: those every matched line allows (one
   * Felix logged them all), or, when no version allows them all (an upgrade inside the log), any.
   */
  fingerprintVersions: string[];
  fingerprintLines: string[];
  bytes: number;
}

function mergeStats(into: Map<string, SignalStat>, s: SignalStat): void {
  const prev = into.get(s.signatureId);
  if (!prev) {
    into.set(s.signatureId, { ...s, samples: [...s.samples] });
    return;
  }
  const first = [prev.firstSeen, s.firstSeen].filter((x): x is string => x !== undefined).sort()[0];
  const last = [prev.lastSeen, s.lastSeen]
    .filter((x): x is string => x !== undefined)
    .sort()
    .at(-1);
  const count = prev.count + s.count;
  const merged: SignalStat = { ...prev, count, samples: [...prev.samples, ...s.samples].slice(0, 3) };
  if (first !== undefined) merged.firstSeen = first;
  if (last !== undefined) merged.lastSeen = last;
  const rate = ratePerHour(count, first, last);
  if (rate === undefined) delete merged.ratePerHour;
  else merged.ratePerHour = rate;
  into.set(s.signatureId, merged);
}

export function ratePerHour(count: number, first?: string, last?: string): number | undefined {
  if (first === undefined || last === undefined) return undefined;
  const hours = (Date.parse(last) - Date.parse(first)) / 3_600_000;
  if (!(hours >= 1 / 60)) return undefined;
  return Math.round((count / hours) * 10) / 10;
}

export function summarizeSymptoms(advisoryId: string, sources: LogSourceResult[]): SymptomSummary {
  const byId = new Map<string, SignalStat>();
  const versionSets: string[][] = [];
  const lines = new Set<string>();
  let bytes = 0;
  for (const src of sources) {
    bytes += src.scan.bytes;
    for (const s of src.scan.signals) if (s.advisoryId === advisoryId && s.count > 0) mergeStats(byId, s);
    for (const f of src.scan.fingerprints) {
      if (f.advisoryId !== advisoryId || f.count === 0) continue;
      versionSets.push(f.versions);
      lines.add(`${f.file}:${f.line}`);
    }
  }
  const all = [...byId.values()];
  const union = [...new Set(versionSets.flat())];
  const common = union.filter((v) => versionSets.every((set) => set.includes(v)));
  const versions = common.length > 0 ? common : union;
  return {
    sources,
    logsRead: sources.some((s) => s.status !== "unreadable"),
    symptom: all.filter((s) => s.role === "symptom"),
    corroborating: all.filter((s) => s.role === "corroborating"),
    context: all.filter((s) => s.role === "context"),
    lookalike: all.filter((s) => s.role === "lookalike"),
    fingerprintVersions: versions.sort(),
    fingerprintLines: [...lines].sort(),
    bytes,
  };
}

export function totalCount(stats: SignalStat[]): number {
  return stats.reduce((n, s) => n + s.count, 0);
}
