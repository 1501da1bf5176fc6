// What the human-readable writers (table, markdown) show, derived once from a Report: one summary
// per advisory, one row per node, the evidence worth reading first, the remediations and the gaps.
// Values come from the verdict's typed facts and Evidence.data, never from the sentences.

import type {
  Coverage,
  Evidence,
  Finding,
  FindingRemediation,
  Report,
  ReportColumn,
  Status,
  SubjectVerdict,
} from "../model/finding.js";

/** Most urgent first; the order findings and evidence are presented in. */
export const STATUS_ORDER: readonly Status[] = ["affected", "at-risk", "unknown", "not-affected"];

export interface AdvisorySummary {
  advisoryId: string;
  title: string;
  severity: string;
  counts: Record<Status, number>;
  total: number;
  /** The most urgent status any subject has. */
  worst: Status;
}

export interface NodeRow {
  subject: string;
  status: Status;
  calico: string;
  /** One cell per column of the advisory (`columns` of its verdict group), in order. */
  settings: string[];
  kernel: string;
  symptoms: string;
  lastSeen: string;
}

export interface EvidenceLine {
  status: Status;
  nodes: string[];
  message: string;
  source?: string;
}

const NONE = "—";
const UNKNOWN = "?";

function titleOf(report: Report, advisoryId: string): { title: string; severity: string } {
  const f = report.findings.find((x) => x.advisoryId === advisoryId);
  return { title: f?.title ?? "", severity: f?.severity ?? "" };
}

function emptyCounts(): Record<Status, number> {
  return { affected: 0, "at-risk": 0, "not-affected": 0, unknown: 0 };
}

export function advisorySummaries(report: Report): AdvisorySummary[] {
  const ids = [
    ...new Set([...report.verdicts.map((g) => g.advisoryId), ...report.findings.map((f) => f.advisoryId)]),
  ];
  return ids.map((advisoryId) => {
    const counts = emptyCounts();
    const group = report.verdicts.find((g) => g.advisoryId === advisoryId);
    if (group) for (const v of group.verdicts) counts[v.status]++;
    else
      for (const f of report.findings.filter((x) => x.advisoryId === advisoryId))
        counts[f.status] += f.nodes.length;
    const total = STATUS_ORDER.reduce((n, s) => n + counts[s], 0);
    const worst = STATUS_ORDER.find((s) => counts[s] > 0) ?? "not-affected";
    return { advisoryId, ...titleOf(report, advisoryId), counts, total, worst };
  });
}

function plural(n: number, word: string): string {
  return `${String(n)} ${word}${n === 1 ? "" : "s"}`;
}

/** "AFFECTED on 2 of 4 nodes (at risk on 2)" — the verdict words without the advisory name. */
export function verdictPhrase(s: AdvisorySummary, unit: string): { word: string; rest: string } {
  const of = `of ${plural(s.total, unit)}`;
  const others = STATUS_ORDER.filter((st) => st !== s.worst && st !== "not-affected" && s.counts[st] > 0).map(
    (st) => `${st === "at-risk" ? "at risk" : st} on ${String(s.counts[st])}`,
  );
  const tail = others.length > 0 ? ` (${others.join(", ")})` : "";
  switch (s.worst) {
    case "affected":
      return { word: "AFFECTED", rest: ` on ${String(s.counts.affected)} ${of}${tail}` };
    case "at-risk":
      return { word: "AT RISK", rest: ` on ${String(s.counts["at-risk"])} ${of}${tail}` };
    case "unknown":
      return { word: "UNKNOWN", rest: ` on ${String(s.counts.unknown)} ${of}${tail}` };
    case "not-affected":
      return { word: "NOT AFFECTED", rest: ` (${plural(s.total, unit)} checked)` };
  }
}

/** What the report's rows are: logs, pods, nodes, or "subject" when a capture names both. */
export function unitOf(report: Report): "log" | "pod" | "node" | "subject" {
  const kinds = new Set(report.verdicts.flatMap((g) => g.verdicts.map((v) => v.kind)));
  if (kinds.size === 1) return kinds.has("log") ? "log" : kinds.has("pod") ? "pod" : "node";
  return kinds.has("pod") ? "subject" : "node";
}

/** The first column's title for a unit: "Log", "Pod", "Subject" or "Node". */
export function unitTitle(unit: string): string {
  return `${unit.charAt(0).toUpperCase()}${unit.slice(1)}`;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** The running version from the version evidence (`calicoVersion`, `flannelVersion`, …), else the log's. */
function calicoOf(evidence: Evidence[]): string {
  for (const e of evidence) {
    if (e.kind !== "version" || e.data === undefined) continue;
    const key = Object.keys(e.data).find((k) => k.endsWith("Version"));
    const v = key !== undefined ? str(e.data[key]) : undefined;
    if (v) return v;
  }
  const fp = evidence.find((e) => e.kind === "fingerprint" && Array.isArray(e.data?.versions));
  const versions = fp?.data?.versions;
  if (Array.isArray(versions) && versions.length > 0) return `${versions.join("/")} (from log)`;
  return UNKNOWN;
}

/** The column's setting as "value · source", from the verdict's typed setting facts. */
function settingOf(v: SubjectVerdict, column: ReportColumn): string {
  const shown = v.facts?.settings.find((f) => f.condition === column.condition);
  if (shown === undefined) return UNKNOWN;
  return `${shown.value ?? UNKNOWN}${shown.source ? ` · ${shown.source}` : ""}`;
}

function kernelOf(evidence: Evidence[]): string {
  for (const e of evidence) {
    const kernel = e.kind === "node" ? str(e.data?.kernelVersion) : undefined;
    if (kernel) return kernel;
  }
  return UNKNOWN;
}

interface SymptomTotals {
  count: number;
  rate: number | undefined;
  lastSeen: string | undefined;
  lookalikes: number;
}

function symptomTotals(evidence: Evidence[]): SymptomTotals {
  const t: SymptomTotals = { count: 0, rate: undefined, lastSeen: undefined, lookalikes: 0 };
  for (const e of evidence) {
    const count = num(e.data?.count) ?? 0;
    if (e.kind === "lookalike") {
      t.lookalikes += count;
      continue;
    }
    if (e.kind !== "symptom" || e.data?.role === "context") continue;
    t.count += count;
    const rate = num(e.data?.ratePerHour);
    if (rate !== undefined) t.rate = (t.rate ?? 0) + rate;
    const last = str(e.data?.lastSeen);
    if (last !== undefined && (t.lastSeen === undefined || last > t.lastSeen)) t.lastSeen = last;
  }
  return t;
}

/** 2024-08-14T09:01:35.020Z → 2024-08-14 09:01:35 */
export function shortTime(iso: string): string {
  return iso.replace("T", " ").replace(/(\.\d+)?(Z|[+-]\d\d:\d\d)$/, "");
}

function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

function symptomsText(t: SymptomTotals, logsKnown: boolean): string {
  const parts: string[] = [];
  if (t.count > 0 || logsKnown) parts.push(formatCount(t.count));
  if (t.count > 0 && t.rate !== undefined) parts.push(`(${formatCount(Math.round(t.rate))}/h)`);
  if (t.lookalikes > 0) parts.push(`+${formatCount(t.lookalikes)} lookalike`);
  return parts.length > 0 ? parts.join(" ") : NONE;
}

export function nodeRow(v: SubjectVerdict, columns: readonly ReportColumn[] = []): NodeRow {
  const t = symptomTotals(v.evidence);
  const logsMissing = v.facts?.logsRead === false;
  return {
    subject: v.subject,
    status: v.status,
    calico: calicoOf(v.evidence),
    settings: columns.map((c) => settingOf(v, c)),
    kernel: kernelOf(v.evidence),
    symptoms: logsMissing && t.count === 0 ? UNKNOWN : symptomsText(t, true),
    lastSeen: t.lastSeen !== undefined ? shortTime(t.lastSeen) : NONE,
  };
}

/**
 * Rows per advisory, most urgent status first, then by name, with the advisory's setting columns
 * and the name of the release its version column shows.
 */
export function nodeRows(
  report: Report,
): { advisoryId: string; columns: readonly ReportColumn[]; version: string; rows: NodeRow[] }[] {
  return report.verdicts.map((g) => ({
    advisoryId: g.advisoryId,
    columns: g.columns ?? [],
    version: g.version ?? "Calico",
    rows: g.verdicts
      .map((v) => nodeRow(v, g.columns))
      .sort(
        (a, b) =>
          STATUS_ORDER.indexOf(a.status) - STATUS_ORDER.indexOf(b.status) ||
          (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0),
      ),
  }));
}

const EVIDENCE_ORDER: readonly Evidence["kind"][] = [
  "symptom",
  "version",
  "condition",
  "fingerprint",
  "lookalike",
  "distribution",
];
// Why a node is clear is usually a condition that fails; why it is unknown is in the verdict notes.
const NOT_AFFECTED_ORDER: readonly Evidence["kind"][] = ["condition", "lookalike", "version", "fingerprint"];
const UNKNOWN_ORDER: readonly Evidence["kind"][] = ["note", "version", "condition", "symptom"];

function evidenceOrder(status: Status): readonly Evidence["kind"][] {
  if (status === "not-affected") return NOT_AFFECTED_ORDER;
  if (status === "unknown") return UNKNOWN_ORDER;
  return EVIDENCE_ORDER;
}

function sortedFindings(report: Report): Finding[] {
  return [...report.findings].sort((a, b) => STATUS_ORDER.indexOf(a.status) - STATUS_ORDER.indexOf(b.status));
}

/** The evidence worth reading first: per finding (most urgent first) its strongest items. */
export function keyEvidence(report: Report, perFinding: number, total: number): EvidenceLine[] {
  const out: EvidenceLine[] = [];
  for (const f of sortedFindings(report)) {
    const order = evidenceOrder(f.status);
    // Context lines (related but not the signature itself) come after everything else.
    const rank = (e: Evidence): number => (e.data?.role === "context" ? order.length : order.indexOf(e.kind));
    const ranked = f.evidence.filter((e) => order.includes(e.kind)).sort((a, b) => rank(a) - rank(b));
    for (const e of ranked.slice(0, perFinding)) {
      out.push({
        status: f.status,
        nodes: e.nodes,
        message: e.message,
        ...(e.source !== undefined ? { source: e.source } : {}),
      });
    }
  }
  return out.slice(0, total);
}

/** Remediations of all findings, each once, in the order of the most urgent finding that lists it. */
export function remediations(report: Report): FindingRemediation[] {
  const seen = new Map<string, FindingRemediation>();
  for (const f of sortedFindings(report))
    for (const r of f.remediations) if (!seen.has(r.id)) seen.set(r.id, r);
  return [...seen.values()];
}

export function gaps(report: Report): Coverage[] {
  return report.coverage.filter((c) => c.status === "not-evaluated");
}

/** "a, b, c +2" */
export function nodeList(nodes: string[], max = 3): string {
  if (nodes.length === 0) return "cluster-wide";
  const head = nodes.slice(0, max).join(", ");
  return nodes.length > max ? `${head} +${String(nodes.length - max)}` : head;
}

export function targetLine(report: Report): string {
  const t = report.target;
  const dist = t.distribution !== undefined ? `, ${t.distribution}` : "";
  const nodes = t.kind === "logs" ? "" : `, ${plural(t.nodes, "node")}`;
  return `${t.kind} ${t.name}${dist}${nodes}`;
}

export function noMatchLine(report: Report): string {
  return `No known issue matched ${report.target.name} (${report.target.kind}).`;
}
