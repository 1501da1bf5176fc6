import { UsageError } from "../../errors.js";
import type { Snapshot } from "../../model/snapshot.js";
import { compileSignatures, scanLogFile, type ScanOptions } from "../../logs/index.js";
import type { ParsedArgs } from "../args.js";
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

async function logs(args: ParsedArgs, rt: Runtime): Promise<CommandResult> {
  if (args.positionals.length === 0) throw new UsageError("logs: give at least one log file ('-' for stdin)");
  const advisories = await advisoriesFor(args);
  const set = compileSignatures(advisories);
  const results = [];
  for (const path of args.positionals) results.push(await scanLogFile(path, set, progressOptions(path, rt)));
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
  const out = reportFor(snapshot, advisories, args, rt);
  // A log read only in part (truncated gzip, over-long line) is bad input: the report of what was
  // read still goes to stdout, the problem to stderr, and the exit code says the input was faulty.
  const problems = results.filter((r) => r.status === "partial" || r.problem !== undefined);
  if (problems.length === 0) return out;
  return {
    ...out,
    stderr: problems.map((r) => `cnidoctor: ${r.problem ?? "log read in part"}`).join("\n"),
    exitCode: 2,
  };
}

export const logsCommand: Command = {
  name: "logs",
  usage: "cnidoctor logs FILE... [-o table|json|yaml|markdown]",
  summary: "Scan calico-node log files alone (plain Felix, CRI, docker json-file, .gz; '-' reads stdin).",
  examples: [
    "cnidoctor logs /var/log/pods/kube-system_canal-*/calico-node/0.log",
    "kubectl logs -n kube-system ds/canal -c calico-node | cnidoctor logs -",
  ],
  run: logs,
};
