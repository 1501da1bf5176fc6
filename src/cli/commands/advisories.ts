import { stringify as toYaml } from "yaml";
import { UsageError } from "../../errors.js";
import type { Advisory } from "../../model/advisory.js";
import { loadAdvisoryFile } from "../../advisories/load.js";
import { componentEcosystem } from "../../versions/index.js";
import type { ParsedArgs } from "../parse-flags.js";
import { advisoriesFor, outputFormat } from "./shared.js";
import type { Command, CommandResult } from "./types.js";

/** An entry listed by ranges only (every release from one on): the ranges as text. */
function rangesText(p: Advisory["affected"][number]): string[] {
  return (p.ranges ?? []).map((r) =>
    r.fixed !== undefined
      ? `>= ${r.introduced}, < ${r.fixed}`
      : r.lastAffected !== undefined
        ? `${r.introduced} .. ${r.lastAffected}`
        : `>= ${r.introduced} (no fixed release)`,
  );
}

function advisoryLine(a: Advisory): string {
  const ecosystem = componentEcosystem(a.component);
  const versions = a.affected.find((x) => x.ecosystem === ecosystem)?.versions?.join(", ") ?? "";
  return `${a.id.padEnd(16)} ${a.severity.padEnd(8)} ${a.title}${versions ? ` [${ecosystem} ${versions}]` : ""}`;
}

async function runAdvisories(args: ParsedArgs): Promise<CommandResult> {
  const [sub, ...rest] = args.positionals;
  const fmt = outputFormat(args);
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
      `  ${p.ecosystem}/${p.package}: ${(p.versions ?? rangesText(p)).join(", ")}${p.fixedIn ? `  (fixed: ${Object.values(p.fixedIn).join(", ")})` : ""}`,
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

export const advisoriesCommand: Command = {
  name: "advisories",
  usage: "cnidoctor advisories list | show ID | validate FILE...",
  summary: "List, show and validate the known-issue advisories (data files checked against the schema).",
  examples: [
    "cnidoctor advisories list",
    "cnidoctor advisories show CNID-2024-0001",
    "cnidoctor advisories validate ./my-advisory.yaml",
  ],
  run: (args) => runAdvisories(args),
};
