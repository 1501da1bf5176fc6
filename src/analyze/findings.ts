// Groups per-subject verdicts into findings (one per advisory and status) and builds coverage, so the
// report states both what was found and what could not be looked at.

import type { Advisory, Remediation } from "../model/advisory.js";
import type { Coverage, Evidence, Finding, FindingRemediation, Report, Status } from "../model/finding.js";
import type { Snapshot } from "../model/snapshot.js";
import type { LogSourceResult } from "../model/logs.js";
import type { Diagnosis, DiagnosedVerdict } from "./diagnose.js";
import { trendCharts } from "./charts.js";
import { componentEcosystem, ecosystemWords } from "../versions/index.js";

const STATUS_ORDER: Status[] = ["affected", "at-risk", "unknown", "not-affected"];

function mergeEvidence(verdicts: DiagnosedVerdict[]): Evidence[] {
  const byKey = new Map<string, Evidence>();
  for (const v of verdicts) {
    for (const e of v.evidence) {
      const key = `${e.kind}\u0000${e.message}`;
      const prev = byKey.get(key);
      if (!prev) {
        byKey.set(key, { ...e, nodes: [...e.nodes] });
        continue;
      }
      for (const n of e.nodes) if (!prev.nodes.includes(n)) prev.nodes.push(n);
      if (prev.source !== e.source) delete prev.source;
    }
  }
  return [...byKey.values()];
}

function remediationsFor(advisory: Advisory, snapshot: Snapshot, status: Status): FindingRemediation[] {
  if (status === "not-affected" || status === "unknown") return [];
  const distribution = snapshot.distribution?.value;
  const plugins = new Set(snapshot.installs.map((i) => i.plugin));
  const fits = (r: Remediation): boolean =>
    (r.distributions.length === 0 || distribution === undefined || r.distributions.includes(distribution)) &&
    (plugins.size === 0 || r.plugins.some((p) => plugins.has(p)));
  return advisory.remediations.filter(fits).map((r) => ({
    id: r.id,
    title: r.title,
    kind: r.kind,
    summary: r.summary,
    steps: r.steps,
    ...(r.tradeoffs !== undefined ? { tradeoffs: r.tradeoffs } : {}),
    durable: r.durable,
  }));
}

export function buildFindings(snapshot: Snapshot, diagnosis: Diagnosis): Finding[] {
  const { advisory, verdicts } = diagnosis;
  const findings: Finding[] = [];
  for (const status of STATUS_ORDER) {
    const group = verdicts.filter((v) => v.status === status);
    if (group.length === 0) continue;
    const reasons: Evidence[] = [];
    for (const v of group) {
      // A reason that only restates an evidence line (version, condition) adds nothing.
      const said = v.evidence.map((e) => e.message);
      for (const r of v.reasons) {
        if (!said.some((m) => m.includes(r))) reasons.push({ kind: "note", message: r, nodes: [v.subject] });
      }
    }
    findings.push({
      advisoryId: advisory.id,
      title: advisory.title,
      status,
      severity: advisory.severity,
      nodes: group.filter((v) => v.kind !== "log").map((v) => v.subject),
      evidence: mergeEvidence([
        ...group,
        { subject: "", kind: "node", status, reasons: [], dependsOn: [], evidence: reasons },
      ]),
      remediations: remediationsFor(advisory, snapshot, status),
    });
  }
  return findings;
}

/** Checks every scan attempts, and how a gap in each is described when nothing more specific is known. */
/** "3 calico-node" or "3 calico-node and 3 kube-flannel": the read pod logs per container, first seen first. */
function logsScanned(podLogs: readonly LogSourceResult[]): string {
  const counts = new Map<string, number>();
  for (const l of podLogs) {
    if (l.source.kind !== "pod") continue;
    const n = counts.get(l.source.container) ?? 0;
    counts.set(l.source.container, n + (l.status !== "unreadable" ? 1 : 0));
  }
  if (counts.size === 0) return "0 calico-node";
  return [...counts].map(([container, n]) => `${n} ${container}`).join(" and ");
}

const CHECKS = ["nodes", "daemonsets", "pods", "felix-configuration", "cluster-information", "logs"] as const;

export function buildCoverage(snapshot: Snapshot, diagnoses: Diagnosis[]): Coverage[] {
  const material = new Set(diagnoses.flatMap((d) => d.verdicts.flatMap((v) => v.dependsOn)));
  const coverage: Coverage[] = snapshot.gaps.map((g) => {
    const isMaterial = g.optional !== true || material.has(g.check);
    return {
      check: g.check,
      status: "not-evaluated" as const,
      reason: isMaterial ? g.reason : `${g.reason}; no verdict depended on it`,
      material: isMaterial,
      ...(g.subject !== undefined ? { subject: g.subject } : {}),
    };
  });
  if (snapshot.target.kind === "logs") {
    const read = snapshot.logs.filter((l) => l.status !== "unreadable");
    coverage.unshift({
      check: "logs",
      status: "evaluated",
      reason: `${read.length} of ${snapshot.logs.length} log source(s) scanned`,
    });
    coverage.push({
      check: "calico-version",
      status: "not-evaluated",
      reason: "log files alone carry no image version or Felix settings",
      material: true,
    });
    return coverage;
  }
  const gapChecks = new Set(snapshot.gaps.filter((g) => g.subject === undefined).map((g) => g.check));
  const podLogs = snapshot.logs.filter((l) => l.source.kind === "pod");
  // A cluster with a flannel install says so; Calico/Canal-only wording stays as it was.
  const flannel = snapshot.installs.some((i) => i.plugin === "flannel");
  const describe: Record<(typeof CHECKS)[number], string> = {
    nodes: `${snapshot.nodes.length} node(s) read`,
    daemonsets: `${snapshot.installs.length} ${flannel ? "Calico/Canal/flannel" : "Calico/Canal"} DaemonSet(s) found`,
    pods: `${snapshot.installs.reduce((n, i) => n + i.pods.length, 0)} ${flannel ? "CNI" : "calico-node"} pod(s) read`,
    "felix-configuration": `${snapshot.felixConfigurations?.length ?? 0} FelixConfiguration object(s) read`,
    "cluster-information": snapshot.clusterCalicoVersion
      ? `calicoVersion ${snapshot.clusterCalicoVersion.value}`
      : "no ClusterInformation calicoVersion",
    logs: `${logsScanned(podLogs)} log source(s) scanned, ${podLogs.reduce((n, l) => n + l.scan.bytes, 0)} bytes`,
  };
  const evaluated: Coverage[] = CHECKS.filter((c) => !gapChecks.has(c)).map((c) => ({
    check: c,
    status: "evaluated",
    reason: describe[c],
  }));
  const resources = snapshot.resources;
  if (resources !== undefined && resources.length > 0 && !gapChecks.has("resource-usage")) {
    const sources = [...new Set(resources.map((r) => r.from.source))].sort().join(", ");
    const pods = new Set(resources.map((r) => `${r.namespace}/${r.pod}`)).size;
    evaluated.push({
      check: "resource-usage",
      status: "evaluated",
      reason: `${resources.length} CPU/memory/restart series of ${pods} pod(s) from ${sources}`,
    });
  }
  const viaPrometheus = (snapshot.agentFacts ?? []).filter(
    (f) => f.source?.kind === "prometheus" && f.missing === undefined,
  );
  const promUrl = viaPrometheus[0]?.source?.url;
  if (promUrl !== undefined && !gapChecks.has("node-agent"))
    evaluated.push({
      check: "node-agent",
      status: "evaluated",
      reason: `node facts of ${viaPrometheus.length} node(s) from the node agent's series in Prometheus ${promUrl}`,
    });
  return [...evaluated, ...coverage];
}

function trendsOf(snapshot: Snapshot, diagnoses: Diagnosis[]): Pick<Report, "trends"> {
  const trends = trendCharts(
    snapshot,
    diagnoses.map((d) => d.advisory),
  );
  return trends !== undefined ? { trends } : {};
}

export function buildReport(args: {
  snapshot: Snapshot;
  diagnoses: Diagnosis[];
  tool: { name: string; version: string };
  now: Date;
}): Report {
  const { snapshot, diagnoses } = args;
  const findings = diagnoses.flatMap((d) => buildFindings(snapshot, d));
  const summary: Record<Status, number> = { affected: 0, "at-risk": 0, "not-affected": 0, unknown: 0 };
  for (const d of diagnoses) for (const v of d.verdicts) summary[v.status]++;
  return {
    schemaVersion: 1,
    tool: args.tool,
    generatedAt: args.now.toISOString(),
    target: {
      kind: snapshot.target.kind,
      name: snapshot.target.name,
      ...(snapshot.distribution ? { distribution: snapshot.distribution.value } : {}),
      nodes:
        snapshot.target.kind === "logs"
          ? 0
          : new Set(diagnoses.flatMap((d) => d.verdicts.map((v) => v.subject))).size,
    },
    summary,
    findings,
    verdicts: diagnoses.map((d) => ({
      advisoryId: d.advisory.id,
      ...(d.advisory.presentation?.columns !== undefined ? { columns: d.advisory.presentation.columns } : {}),
      ...(componentEcosystem(d.advisory.component) !== "calico"
        ? { version: ecosystemWords(componentEcosystem(d.advisory.component)).product }
        : {}),
      verdicts: d.verdicts.map((v) => ({
        subject: v.subject,
        kind: v.kind,
        status: v.status,
        reasons: v.reasons,
        evidence: v.evidence,
        ...(v.facts !== undefined ? { facts: v.facts } : {}),
      })),
    })),
    coverage: buildCoverage(snapshot, diagnoses),
    ...trendsOf(snapshot, diagnoses),
  };
}

/** The documented exit codes: 3 affected/at-risk; 4 nothing found but something could not be evaluated; else 0. */
export function exitCodeFor(report: Report): 0 | 3 | 4 {
  if (report.findings.some((f) => f.status === "affected" || f.status === "at-risk")) return 3;
  if (report.findings.some((f) => f.status === "unknown")) return 4;
  if (report.coverage.some((c) => c.status === "not-evaluated" && c.material === true)) return 4;
  return 0;
}
