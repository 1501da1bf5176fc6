// Terminal writer: a verdict line per advisory, a per-node table, the evidence to read first, the
// remediation titles, what could not be evaluated, and where the details are. Colour only when asked.

import { platformLines } from "./platform.js";
import type { Report } from "../model/finding.js";
import type { Paint } from "./text.js";
import { padEnd, paint, truncate, width } from "./text.js";
import type { ReportColumn } from "../model/finding.js";
import type { NodeRow } from "./view.js";
import {
  advisorySummaries,
  gaps,
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

interface Column {
  title: string;
  max: number;
  value: (row: NodeRow) => string;
}

/** The fixed columns around the advisory's own setting columns, which follow the version (CALICO). */
function columnsFor(settings: readonly ReportColumn[], version: string): Column[] {
  return [
    { title: "NODE", max: 32, value: (r) => r.subject },
    { title: "STATUS", max: 12, value: (r) => r.status },
    { title: version.toUpperCase(), max: 20, value: (r) => r.calico },
    ...settings.map((c, i): Column => ({
      title: `${c.title.toUpperCase()} (SOURCE)`,
      max: 44,
      value: (r) => r.settings[i] ?? "",
    })),
    { title: "KERNEL", max: 24, value: (r) => r.kernel },
    { title: "SYMPTOMS", max: 24, value: (r) => r.symptoms },
    { title: "LAST SEEN", max: 19, value: (r) => r.lastSeen },
  ];
}

const LINE_MAX = 160;

function table(
  rows: NodeRow[],
  settings: readonly ReportColumn[],
  version: string,
  p: Paint,
  unit: string,
): string[] {
  const COLUMNS = columnsFor(settings, version);
  const titles = COLUMNS.map((c, i) => (i === 0 ? unitTitle(unit).toUpperCase() : c.title));
  const cells = rows.map((r) => COLUMNS.map((c) => truncate(c.value(r), c.max)));
  const widths = COLUMNS.map((c, i) =>
    Math.min(c.max, Math.max(titles[i]?.length ?? 0, ...cells.map((row) => width(row[i] ?? "")))),
  );
  const line = (values: string[], colour: (i: number, padded: string) => string): string =>
    values
      .map((v, i) => {
        const last = i === values.length - 1;
        const padded = last ? v : padEnd(v, widths[i] ?? 0);
        return colour(i, padded);
      })
      .join("  ")
      .trimEnd();
  const out = [line(titles, (_i, t) => p.bold(t))];
  rows.forEach((r, ri) => {
    out.push(line(cells[ri] ?? [], (i, t) => (i === 1 ? p.status(r.status, t) : t)));
  });
  return out;
}

function summaryLines(report: Report, p: Paint): string[] {
  const unit = unitOf(report);
  return advisorySummaries(report).map((s) => {
    const { word, rest } = verdictPhrase(s, unit);
    const name = [s.advisoryId, s.title].filter((x) => x !== "").join(" ");
    return `${p.bold(name)} — ${p.status(s.worst, word)}${rest}`;
  });
}

function evidenceSection(report: Report, p: Paint): string[] {
  const lines = keyEvidence(report, 4, 10);
  if (lines.length === 0) return [];
  const out = ["", p.bold("Evidence")];
  for (const e of lines) {
    const where = e.source !== undefined && !e.message.includes(e.source) ? ` [${e.source}]` : "";
    const text = truncate(`${nodeList(e.nodes)}: ${e.message}${where}`, LINE_MAX - 15);
    out.push(`  ${p.status(e.status, padEnd(e.status, 12))} ${text}`);
  }
  return out;
}

function remediationSection(report: Report, p: Paint): string[] {
  const list = remediations(report);
  if (list.length === 0) return [];
  return [
    "",
    p.bold("Remediation"),
    ...list.map((r, i) =>
      truncate(
        `  ${String(i + 1)}. ${r.title} (${r.kind}, ${r.durable ? "durable" : "temporary"})`,
        LINE_MAX,
      ),
    ),
  ];
}

function coverageSection(report: Report, p: Paint, withEvaluated: boolean): string[] {
  const out: string[] = [];
  if (withEvaluated) {
    const done = report.coverage.filter((c) => c.status === "evaluated");
    if (done.length > 0) {
      out.push("", p.bold("Checked"));
      for (const c of done) out.push(truncate(`  ${c.check}: ${c.reason}`, LINE_MAX));
    }
  }
  const missing = gaps(report);
  if (missing.length > 0) {
    out.push("", p.bold("Not evaluated"));
    for (const c of missing) {
      const subject = c.subject !== undefined ? ` (${c.subject})` : "";
      out.push(truncate(`  not evaluated: ${c.check}${subject} — ${c.reason}`, LINE_MAX));
    }
  }
  return out;
}

export function renderTable(report: Report, options: { color: boolean }): string {
  const p = paint(options.color);
  const groups = nodeRows(report).filter((g) => g.rows.length > 0);
  const empty = report.findings.length === 0 && groups.length === 0;
  const lines: string[] = empty ? [p.bold(noMatchLine(report))] : summaryLines(report, p);
  lines.push(
    p.dim(`${targetLine(report)} · ${report.tool.name} ${report.tool.version} · ${report.generatedAt}`),
  );
  const unit = unitOf(report);
  for (const g of groups) {
    lines.push("");
    if (groups.length > 1) lines.push(p.bold(g.advisoryId));
    lines.push(...table(g.rows, g.columns, g.version, p, unit));
  }
  lines.push(...evidenceSection(report, p));
  lines.push(...remediationSection(report, p));
  const platform = platformLines(report.platform);
  if (platform.length > 0) lines.push("", p.bold("Platform"), ...platform.map((l) => `  ${l}`));
  lines.push(...coverageSection(report, p, empty));
  lines.push("", p.dim("Details (every evidence line, remediation steps, coverage): run again with -o json"));
  return `${lines.join("\n")}\n`;
}
