// The log-file collector: `logs FILE|DIR|-...` read into the same Snapshot the bundle and live
// collectors fill (no nodes or installs; one LogSourceResult per source), so the rest of the
// pipeline does not care where the lines came from.

import { stat } from "node:fs/promises";
import { UsageError } from "../../errors.js";
import {
  formatSize,
  groupRotated,
  logFilesIn,
  scanLogSet,
  type ReadOptions,
  type ScanOptions,
  type SignatureSet,
  type WindowBound,
} from "../../logs/index.js";
import type { LogSourceResult } from "../../model/logs.js";
import type { Snapshot } from "../../model/snapshot.js";

export interface LogFilesOptions {
  /** Each entry is one source: a file, '-' (stdin), or the members of one rotated set. */
  sources: readonly (readonly string[])[];
  /** Shown as the report's target. */
  name: string;
  signatures: SignatureSet;
  now: Date;
  since?: WindowBound;
  until?: WindowBound;
  /** Stop each source once its evidence is conclusive. */
  sample?: boolean;
  /** Hooks for one source's progress (bytes read of its total), given its label. */
  progressFor?: (label: string) => ScanOptions;
}

/**
 * The sources to read: '-' alone; a directory's files grouped into rotated sets; explicit files
 * grouped with the other explicit files of the same set (so `current current.1.gz` is one source).
 */
export async function logSourcesOf(paths: readonly string[]): Promise<string[][]> {
  // Each group remembers the position of the argument that first named it: sources keep that order.
  const groups: { at: number; members: string[] }[] = [];
  const files: string[] = [];
  for (const [at, path] of paths.entries()) {
    if (path === "-") {
      groups.push({ at, members: ["-"] });
      continue;
    }
    const isDir = await stat(path).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!isDir) {
      files.push(path);
      continue;
    }
    const inside = await logFilesIn(path).catch(() => []);
    if (inside.length === 0) throw new UsageError(`logs: ${path}: no log files in this directory`);
    for (const s of await groupRotated(inside)) groups.push({ at, members: s.members });
  }
  for (const s of await groupRotated(files)) {
    const at = Math.min(...s.members.map((m) => paths.indexOf(m)));
    groups.push({ at, members: s.members });
  }
  return groups.sort((x, y) => x.at - y.at).map((g) => g.members);
}

/** How a source is named in gaps and notes: its file path ('-' has none). */
export function sourceLabel(r: LogSourceResult): string {
  return r.source.kind === "file" ? r.source.path : "";
}

/** One line for a source read with `sample`: how much was read and why it stopped. */
export function sampleNote(r: LogSourceResult): string | undefined {
  const sample = r.scan.sample;
  if (sample === undefined) return undefined;
  const label = sourceLabel(r);
  const of = sample.totalBytes === undefined ? "" : ` of ${formatSize(sample.totalBytes)}`;
  if (!sample.stoppedEarly)
    return `${label}: --sample: read all ${formatSize(sample.bytesRead)}${of}; the evidence never became conclusive`;
  return `${label}: --sample: stopped early after ${formatSize(sample.bytesRead)}${of} (${sample.reason ?? "evidence conclusive"}); counts and rates cover only what was read`;
}

/** One line for a source read inside a --since/--until window. */
export function windowNote(r: LogSourceResult): string | undefined {
  const w = r.scan.window;
  if (w === undefined) return undefined;
  return `${sourceLabel(r)}: only lines from ${w.since ?? "the start"} to ${w.until ?? "the end"} counted (${r.scan.lines} lines)`;
}

export async function collectLogFiles(o: LogFilesOptions): Promise<Snapshot> {
  const logs: LogSourceResult[] = [];
  for (const members of o.sources) {
    // A log without a year in its stamps and without a modification time (stdin) takes today's.
    const options: ReadOptions = { ...o.progressFor?.(members.at(-1) ?? "-"), fallbackTime: o.now };
    if (o.since !== undefined) options.since = o.since;
    if (o.until !== undefined) options.until = o.until;
    if (o.sample === true) options.sample = true;
    logs.push(await scanLogSet([...members], o.signatures, options));
  }
  const gaps: Snapshot["gaps"] = logs
    .filter((r) => r.status === "partial")
    .map((r) => ({ check: "logs", reason: r.problem ?? "read in part", subject: sourceLabel(r) }));
  // A source cut short by `sample` was not read whole: optional coverage, said with its figures.
  for (const r of logs) {
    if (r.scan.sample?.stoppedEarly !== true) continue;
    gaps.push({ check: "logs", reason: sampleNote(r) ?? "", subject: sourceLabel(r), optional: true });
  }
  return {
    target: { kind: "logs", name: o.name },
    collectedAt: o.now.toISOString(),
    nodes: [],
    installs: [],
    logs,
    gaps,
  };
}
