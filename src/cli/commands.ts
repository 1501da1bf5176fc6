// The commands. Each returns the text to print and the exit code; only main.ts prints and exits.

import { UsageError } from "../errors.js";
import type { Advisory } from "../model/advisory.js";
import type { Report } from "../model/finding.js";
import type { Snapshot } from "../model/snapshot.js";
import { loadAdvisories, loadAdvisoryFile, SHIPPED_ADVISORIES_DIR } from "../advisories/load.js";
import { compileSignatures, scanLogFile } from "../logs/index.js";
import { collectBundle } from "../collect/bundle/collect-bundle.js";
import { diagnose } from "../analyze/diagnose.js";
import { buildReport, exitCodeFor } from "../analyze/findings.js";
import { renderReport } from "../report/index.js";
import { stringify as toYaml } from "yaml";
import type { OutputFormat } from "./flags.js";
import type { ParsedArgs } from "./args.js";
import { helpText } from "./help.js";
import { toolVersion } from "./version.js";

export interface CommandResult {
  stdout: string;
  stderr?: string;
  exitCode: number;
}

export interface Runtime {
  now: Date;
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
}

function useColor(args: ParsedArgs, rt: Runtime): boolean {
  if (args.flags["no-color"] === true) return false;
  if (args.flags.color === true) return true;
  return rt.isTTY && (rt.env.NO_COLOR ?? "") === "";
}

function format(args: ParsedArgs): OutputFormat {
  return (args.flags.output as OutputFormat | undefined) ?? "table";
}

async function advisoriesFor(args: ParsedArgs): Promise<Advisory[]> {
  const dir = typeof args.flags.advisories === "string" ? args.flags.advisories : SHIPPED_ADVISORIES_DIR;
  return loadAdvisories(dir);
}

function finish(snapshot: Snapshot, advisories: Advisory[], args: ParsedArgs, rt: Runtime): CommandResult {
  const diagnoses = advisories.map((a) => diagnose(snapshot, a));
  const report: Report = buildReport({
    snapshot,
    diagnoses,
    tool: { name: "cnidoctor", version: toolVersion() },
    now: rt.now,
  });
  return {
    stdout: renderReport(report, format(args), { color: useColor(args, rt) }),
    exitCode: exitCodeFor(report),
  };
}

async function scan(args: ParsedArgs, rt: Runtime): Promise<CommandResult> {
  const bundle = args.flags.bundle;
  if (args.positionals.length > 0)
    throw new UsageError(`scan: unexpected argument '${args.positionals[0] ?? ""}'`);
  if (typeof bundle !== "string") {
    throw new UsageError(
      "scan: give --bundle DIR (a `kubectl cluster-info dump --all-namespaces --output-directory DIR`); scanning a live cluster directly is not part of this release",
    );
  }
  const advisories = await advisoriesFor(args);
  const snapshot = await collectBundle(bundle, {
    container: "calico-node",
    signatures: compileSignatures(advisories),
    now: rt.now,
  });
  return finish(snapshot, advisories, args, rt);
}

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
  const out = finish(snapshot, advisories, args, rt);
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

function advisoryLine(a: Advisory): string {
  const calico = a.affected.find((x) => x.ecosystem === "calico")?.versions?.join(", ") ?? "";
  return `${a.id.padEnd(16)} ${a.severity.padEnd(8)} ${a.title}${calico ? ` [calico ${calico}]` : ""}`;
}

async function advisoriesCommand(args: ParsedArgs): Promise<CommandResult> {
  const [sub, ...rest] = args.positionals;
  const fmt = format(args);
  if (sub === "list") {
    const list = await advisoriesFor(args);
    if (fmt === "json")
      return {
        stdout: `${JSON.stringify(
          list.map((a) => ({ id: a.id, severity: a.severity, title: a.title, aliases: a.aliases })),
          null,
          2,
        )}\n`,
        exitCode: 0,
      };
    return { stdout: `${list.map(advisoryLine).join("\n")}\n`, exitCode: 0 };
  }
  if (sub === "show") {
    const id = rest[0];
    if (id === undefined) throw new UsageError("advisories show: give an advisory id or alias");
    const list = await advisoriesFor(args);
    const a = list.find((x) => x.id === id || x.aliases.includes(id));
    if (!a)
      throw new UsageError(
        `advisories show: no advisory '${id}' (known: ${list.map((x) => x.id).join(", ")})`,
      );
    if (fmt === "json") return { stdout: `${JSON.stringify(a, null, 2)}\n`, exitCode: 0 };
    if (fmt === "yaml") return { stdout: toYaml(a), exitCode: 0 };
    return { stdout: showText(a), exitCode: 0 };
  }
  if (sub === "validate") {
    if (rest.length === 0) throw new UsageError("advisories validate: give one or more advisory files");
    const lines: string[] = [];
    for (const file of rest) {
      const a = await loadAdvisoryFile(file);
      lines.push(
        `${file}: ok (${a.id}, ${a.signatures.length} signatures, ${a.conditions.length} conditions)`,
      );
    }
    return { stdout: `${lines.join("\n")}\n`, exitCode: 0 };
  }
  throw new UsageError(`advisories: expected list, show ID or validate FILE (got '${sub ?? ""}')`);
}

function showText(a: Advisory): string {
  const lines = [
    `${a.id}  ${a.title}`,
    `severity: ${a.severity}   aliases: ${a.aliases.join(", ")}`,
    "",
    a.summary,
    "",
    "Affected:",
  ];
  for (const p of a.affected)
    lines.push(
      `  ${p.ecosystem}/${p.package}: ${(p.versions ?? []).join(", ")}${p.fixedIn ? `  (fixed: ${Object.values(p.fixedIn).join(", ")})` : ""}`,
    );
  lines.push("", "Conditions:", ...a.conditions.map((c) => `  ${c.id}: ${c.description}`));
  lines.push("", "Log signatures:", ...a.signatures.map((s) => `  [${s.role}] ${s.id}: ${s.description}`));
  lines.push(
    "",
    "Remediations:",
    ...a.remediations.map((r) => `  ${r.id} (${r.kind}${r.durable ? "" : ", temporary"}): ${r.summary}`),
  );
  lines.push(
    "",
    "References:",
    ...a.references.map((r) => `  ${r.url}${r.note !== undefined ? ` — ${r.note}` : ""}`),
    "",
  );
  return lines.join("\n");
}

export async function runCommand(args: ParsedArgs, rt: Runtime): Promise<CommandResult> {
  if (args.flags.help === true) return { stdout: helpText(args.command), exitCode: 0 };
  switch (args.command) {
    case "scan":
      return scan(args, rt);
    case "logs":
      return logs(args, rt);
    case "advisories":
      return advisoriesCommand(args);
    case "version":
      return { stdout: `cnidoctor ${toolVersion()}\n`, exitCode: 0 };
    default:
      return { stdout: helpText(args.positionals[0]), exitCode: 0 };
  }
}
