import { UsageError } from "../../errors.js";
import type { WindowBound } from "../../logs/index.js";
import { logSourcesOf, sampleNote, windowNote } from "../../collect/logs/collect-logs.js";
import { analyse, collect, report, type Target } from "../../pipeline.js";
import type { ParsedArgs } from "../parse-flags.js";
import { flagText, flagValue } from "../flag-access.js";
import { choices } from "../flags.js";
import { advisoriesFor, pipelineBasics, renderReport } from "./shared.js";
import type { Command, CommandResult, Runtime } from "./types.js";

/** --since/--until: an RFC 3339 time, or a duration before the log's last timestamp (flags.ts). */
function windowBound(args: ParsedArgs, name: "since" | "until"): WindowBound | undefined {
  // An empty value sets no bound.
  return flagText(args, name) === "" ? undefined : flagValue(args, name);
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
  const target: Target = {
    kind: "logs",
    name: args.positionals.join(", "),
    sources: await logSourcesOf(args.positionals),
    ...(since !== undefined ? { since } : {}),
    ...(until !== undefined ? { until } : {}),
    ...(flagValue(args, "sample") ? { sample: true } : {}),
  };
  const input = { target, advisories, ...pipelineBasics(rt) };
  const snapshot = await collect(input);
  const results = snapshot.logs;
  const unreadable = results.filter((r) => r.status === "unreadable");
  if (unreadable.length > 0) {
    // An input that cannot be read at all is a usage-level failure: say which and stop.
    return {
      stdout: "",
      stderr: unreadable.map((r) => `cnidoctor: ${r.problem ?? "unreadable log"}`).join("\n"),
      exitCode: 2,
    };
  }
  const notes = results.flatMap((r) => [windowNote(r), sampleNote(r)].filter((n) => n !== undefined));
  const reported = renderReport(report(snapshot, analyse(snapshot, advisories), input), args, rt);
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
