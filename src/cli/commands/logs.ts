import { UsageError } from "../../errors.js";
import type { Snapshot } from "../../model/snapshot.js";
import { compileSignatures, scanLogFile } from "../../logs/index.js";
import type { ParsedArgs } from "../args.js";
import { advisoriesFor, reportFor } from "./shared.js";
import type { Command, CommandResult, Runtime } from "./types.js";

async function logs(args: ParsedArgs, rt: Runtime): Promise<CommandResult> {
  if (args.positionals.length === 0) throw new UsageError("logs: give at least one log file ('-' for stdin)");
  const advisories = await advisoriesFor(args);
  const set = compileSignatures(advisories);
  const results = [];
  for (const path of args.positionals) results.push(await scanLogFile(path, set));
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
