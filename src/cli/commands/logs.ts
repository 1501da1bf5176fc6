import { UsageError } from "../../errors.js";
import { flagText, flagValue } from "../flag-access.js";
import { choices } from "../flags.js";
import type { Snapshot } from "../../model/snapshot.js";
import { stat } from "node:fs/promises";
import {
  compileSignatures,
  scanLogSet,
  type ReadOptions,
  type ScanOptions,
  type WindowBound,
} from "../../logs/index.js";
import { groupRotated, logFilesIn } from "../../logs/rotation.js";
import { formatSize } from "../../logs/reader.js";
import type { LogSourceResult } from "../../model/logs.js";
import type { ParsedArgs } from "../parse-flags.js";
import { advisoriesFor, reportFor } from "./shared.js";
import type { Command, CommandResult, Runtime } from "./types.js";

const GB = 1e9;

/** Progress lines (bytes, %, rate, ETA) for the runtime's progress hook, at most 4 a second. */
function progressOptions(path: string, rt: Runtime): ScanOptions {
  const report = rt.progress;
  if (report === undefined) return {};
  const started = Date.now();
  let last = 0;
  return {
    onProgress(done, total) {
      const now = Date.now();
      if (now - last < 250 && (total === undefined || done < total)) return;
      last = now;
      const seconds = Math.max((now - started) / 1000, 0.001);
      const rate = done / seconds;
      let line = `${path}: ${(done / GB).toFixed(2)} GB`;
      if (total !== undefined && total > 0) {
        const eta = rate > 0 ? Math.max(0, (total - done) / rate) : 0;
        line += ` of ${(total / GB).toFixed(2)} GB (${Math.min(100, (100 * done) / total).toFixed(0)}%), ETA ${eta.toFixed(0)}s`;
      }
      report(`${line}, ${(rate / 1e6).toFixed(0)} MB/s`);
    },
  };
}

/** --since/--until: an RFC 3339 time, or a duration before the log's last timestamp (flags.ts). */
function windowBound(args: ParsedArgs, name: "since" | "until"): WindowBound | undefined {
  // An empty value sets no bound.
  return flagText(args, name) === "" ? undefined : flagValue(args, name);
}

/**
 * The sources to read: '-' alone; a directory's files grouped into rotated sets; explicit files
 * grouped with the other explicit files of the same set (so `current current.1.gz` is one source).
 */
async function sourcesOf(positionals: readonly string[]): Promise<string[][]> {
  // Each group remembers the position of the argument that first named it: sources keep that order.
  const groups: { at: number; members: string[] }[] = [];
  const files: string[] = [];
  for (const [at, path] of positionals.entries()) {
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
    const at = Math.min(...s.members.map((m) => positionals.indexOf(m)));
    groups.push({ at, members: s.members });
  }
  return groups.sort((x, y) => x.at - y.at).map((g) => g.members);
}

/** One line for a source that was sampled or windowed (stderr notes and coverage). */
function coverageNote(r: LogSourceResult, label: string): string | undefined {
  const sample = r.scan.sample;
  if (sample === undefined) return undefined;
  const of = sample.totalBytes === undefined ? "" : ` of ${formatSize(sample.totalBytes)}`;
  if (!sample.stoppedEarly)
    return `${label}: --sample: read all ${formatSize(sample.bytesRead)}${of}; the evidence never became conclusive`;
  return `${label}: --sample: stopped early after ${formatSize(sample.bytesRead)}${of} (${sample.reason ?? "evidence conclusive"}); counts and rates cover only what was read`;
}

function windowNote(r: LogSourceResult, label: string): string | undefined {
  const w = r.scan.window;
  if (w === undefined) return undefined;
  return `${label}: only lines from ${w.since ?? "the start"} to ${w.until ?? "the end"} counted (${r.scan.lines} lines)`;
}

/** A window that cannot hold a line is a mistake, not "the signature was not seen". */
function checkWindow(args: ParsedArgs, since?: WindowBound, until?: WindowBound): void {
  if (since === undefined || until === undefined) return;
  const empty =
    "at" in since && "at" in until
      ? until.at <= since.at
      : "beforeEnd" in since && "beforeEnd" in until
        ? until.beforeEnd >= since.beforeEnd
        : false;
  if (empty)
    throw new UsageError(
      `logs: --until '${flagText(args, "until") ?? ""}' is not after --since '${flagText(args, "since") ?? ""}': the window holds no line`,
    );
}

async function logs(args: ParsedArgs, rt: Runtime): Promise<CommandResult> {
  if (args.positionals.length === 0) throw new UsageError("logs: give at least one log file ('-' for stdin)");
  const since = windowBound(args, "since");
  const until = windowBound(args, "until");
  checkWindow(args, since, until);
  if (
    args.positionals.includes("-") &&
    ((since !== undefined && "beforeEnd" in since) || (until !== undefined && "beforeEnd" in until))
  ) {
    throw new UsageError(
      "logs: a --since/--until duration needs files (stdin has no known end): give an RFC 3339 time",
    );
  }
  const advisories = await advisoriesFor(args);
  const set = compileSignatures(advisories);
  const results = [];
  for (const members of await sourcesOf(args.positionals)) {
    const label = members.at(-1) ?? "-";
    const options: ReadOptions = { ...progressOptions(label, rt) };
    if (since !== undefined) options.since = since;
    if (until !== undefined) options.until = until;
    if (flagValue(args, "sample")) options.sample = true;
    results.push(await scanLogSet(members, set, options));
  }
  const unreadable = results.filter((r) => r.status === "unreadable");
  if (unreadable.length > 0) {
    // An input that cannot be read at all is a usage-level failure: say which and stop.
    return {
      stdout: "",
      stderr: unreadable.map((r) => `cnidoctor: ${r.problem ?? "unreadable log"}`).join("\n"),
      exitCode: 2,
    };
  }
  const snapshot: Snapshot = {
    target: { kind: "logs", name: args.positionals.join(", ") },
    collectedAt: rt.now.toISOString(),
    nodes: [],
    installs: [],
    logs: results,
    gaps: results
      .filter((r) => r.status === "partial")
      .map((r) => ({
        check: "logs",
        reason: r.problem ?? "read in part",
        subject: r.source.kind === "file" ? r.source.path : "",
      })),
  };
  const notes: string[] = [];
  for (const r of results) {
    const label = r.source.kind === "file" ? r.source.path : "";
    const window = windowNote(r, label);
    if (window !== undefined) notes.push(window);
    const sampled = coverageNote(r, label);
    if (sampled === undefined) continue;
    notes.push(sampled);
    if (r.scan.sample?.stoppedEarly === true)
      snapshot.gaps.push({ check: "logs", reason: sampled, subject: label, optional: true });
  }
  const reported = reportFor(snapshot, advisories, args, rt);
  const noteText = notes.map((n) => `cnidoctor: note: ${n}`).join("\n");
  const out =
    notes.length === 0
      ? reported
      : { ...reported, stderr: [reported.stderr, noteText].filter((t) => t !== "").join("\n") };
  // A log read only in part (truncated gzip, over-long line) is bad input: the report of what was
  // read still goes to stdout, the problem to stderr, and the exit code says the input was faulty.
  const problems = results.filter((r) => r.status === "partial" || r.problem !== undefined);
  if (problems.length === 0) return out;
  return {
    ...out,
    stderr: [
      ...problems.map((r) => `cnidoctor: ${r.problem ?? "log read in part"}`),
      ...(notes.length > 0 ? [noteText] : []),
    ].join("\n"),
    exitCode: 2,
  };
}

export const logsCommand: Command = {
  name: "logs",
  usage: `cnidoctor logs FILE|DIR... [--since T|DUR] [--until T|DUR] [--sample] [-o ${choices("output", "logs")}]`,
  summary:
    "Scan calico-node log files alone (plain Felix, CRI, docker json-file, .gz; '-' reads stdin); a rotated set (current, current.1, current.2.gz) is one source.",
  examples: [
    "cnidoctor logs /var/log/pods/kube-system_canal-*/calico-node/0.log",
    "kubectl logs -n kube-system ds/canal -c calico-node | cnidoctor logs -",
    "cnidoctor logs /var/log/calico/felix/ --since 2h --sample",
  ],
  run: logs,
};
