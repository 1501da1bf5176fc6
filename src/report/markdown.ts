// Markdown writer for tickets: heading, summary table, per-node table, evidence bullets, remediation
// steps and coverage. Plain GitHub-flavoured Markdown; no colour, no HTML.

import type { Report } from "../model/finding.js";
import { platformLines } from "./platform.js";
import {
  STATUS_ORDER,
  advisorySummaries,
  keyEvidence,
  nodeList,
  nodeRows,
  noMatchLine,
  remediations,
  targetLine,
  unitOf,
  unitTitle,
  verdictPhrase,
} from "./view.js";

/** A table cell: one line, pipes escaped. */
function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").replace(/\|/g, "\\|");
}

function row(values: string[]): string {
  return `| ${values.map(cell).join(" | ")} |`;
}

function tableLines(header: string[], rows: string[][]): string[] {
  return [row(header), `|${header.map(() => "---").join("|")}|`, ...rows.map(row)];
}

function code(text: string): string {
  return text === "" || text === "—" || text === "?" ? text : `\`${text.replace(/`/g, "'")}\``;
}

function summarySection(report: Report): string[] {
  const unit = unitOf(report);
  const summaries = advisorySummaries(report);
  if (summaries.length === 0) return [noMatchLine(report)];
  const rows = summaries.map((s) => {
    const { word, rest } = verdictPhrase(s, unit);
    return [s.advisoryId, s.title, s.severity, `**${word}**${rest}`];
  });
  const totals = STATUS_ORDER.map((s) => `${s} ${String(report.summary[s])}`).join(", ");
  return [...tableLines(["Advisory", "Title", "Severity", "Verdict"], rows), "", `Totals: ${totals}.`];
}

function nodesSection(report: Report): string[] {
  const out: string[] = [];
  const groups = nodeRows(report).filter((g) => g.rows.length > 0);
  const first = unitTitle(unitOf(report));
  for (const g of groups) {
    out.push("", groups.length > 1 ? `## ${first}s — ${g.advisoryId}` : `## ${first}s`, "");
    const rows = g.rows.map((r) => [
      r.subject,
      `**${r.status}**`,
      code(r.calico),
      ...r.settings,
      code(r.kernel),
      r.symptoms,
      r.lastSeen,
    ]);
    out.push(
      ...tableLines(
        [
          first,
          "Status",
          g.version,
          ...g.columns.map((c) => `${c.title} (source)`),
          "Kernel",
          "Symptoms",
          "Last seen",
        ],
        rows,
      ),
    );
  }
  return out;
}

function evidenceSection(report: Report): string[] {
  const lines = keyEvidence(report, 6, 30);
  if (lines.length === 0) return [];
  return [
    "",
    "## Evidence",
    "",
    ...lines.map((e) => {
      const source = e.source !== undefined && !e.message.includes(e.source) ? ` — _${e.source}_` : "";
      return `- **${e.status}** (${nodeList(e.nodes, 6)}): ${e.message.replace(/\s*\n\s*/g, " ")}${source}`;
    }),
  ];
}

function remediationSection(report: Report): string[] {
  const list = remediations(report);
  if (list.length === 0) return [];
  const out = ["", "## Remediation"];
  list.forEach((r, i) => {
    out.push(
      "",
      `### ${String(i + 1)}. ${r.title}`,
      "",
      `_${r.kind}, ${r.durable ? "durable" : "temporary"}_ — ${r.summary}`,
    );
    if (r.steps.length > 0) out.push("", ...r.steps.map((s, n) => `${String(n + 1)}. ${s}`));
    if (r.tradeoffs !== undefined) out.push("", `Trade-offs: ${r.tradeoffs}`);
  });
  return out;
}

function coverageSection(report: Report): string[] {
  if (report.coverage.length === 0) return ["", "## Coverage", "", "No checks were recorded."];
  const rows = report.coverage.map((c) => [
    c.check + (c.subject !== undefined ? ` (${c.subject})` : ""),
    c.status === "evaluated" ? "evaluated" : "**not evaluated**",
    c.reason,
  ]);
  return ["", "## Coverage", "", ...tableLines(["Check", "Status", "Detail"], rows)];
}

export function renderMarkdown(report: Report): string {
  const lines = [
    `# cnidoctor report: ${report.target.name}`,
    "",
    `${targetLine(report)}. Generated ${report.generatedAt} by ${report.tool.name} ${report.tool.version}.`,
    "",
    "## Summary",
    "",
    ...summarySection(report),
    ...nodesSection(report),
    ...evidenceSection(report),
    ...remediationSection(report),
    ...(report.platform !== undefined
      ? ["", "## Platform", "", ...platformLines(report.platform).map((l) => `- ${l.trim()}`)]
      : []),
    ...coverageSection(report),
  ];
  return `${lines.join("\n")}\n`;
}
