// The Report in a fixed key order (the order of the type in src/model/finding.ts), with every list
// present as [] rather than null or missing. The machine-readable writers serialise this, so
// output does not depend on how the producer happened to build its objects.

import type {
  Coverage,
  Evidence,
  Finding,
  FindingRemediation,
  Report,
  Status,
  SubjectVerdict,
} from "../model/finding.js";

type Maybe<T> = T | null | undefined;

function arr<T>(list: Maybe<readonly T[]>): T[] {
  return list ? [...list] : [];
}

function evidence(e: Evidence): Evidence {
  return {
    kind: e.kind,
    message: e.message,
    ...(e.source !== undefined ? { source: e.source } : {}),
    nodes: arr(e.nodes),
    ...(e.data !== undefined ? { data: e.data } : {}),
  };
}

function remediation(r: FindingRemediation): FindingRemediation {
  return {
    id: r.id,
    title: r.title,
    kind: r.kind,
    summary: r.summary,
    steps: arr(r.steps),
    ...(r.tradeoffs !== undefined ? { tradeoffs: r.tradeoffs } : {}),
    durable: r.durable,
  };
}

function finding(f: Finding): Finding {
  return {
    advisoryId: f.advisoryId,
    title: f.title,
    status: f.status,
    severity: f.severity,
    nodes: arr(f.nodes),
    evidence: arr(f.evidence).map(evidence),
    remediations: arr(f.remediations).map(remediation),
  };
}

function verdict(v: SubjectVerdict): SubjectVerdict {
  return {
    subject: v.subject,
    kind: v.kind,
    status: v.status,
    reasons: arr(v.reasons),
    evidence: arr(v.evidence).map(evidence),
  };
}

function coverage(c: Coverage): Coverage {
  return {
    check: c.check,
    status: c.status,
    reason: c.reason,
    ...(c.subject !== undefined ? { subject: c.subject } : {}),
    ...(c.material !== undefined ? { material: c.material } : {}),
  };
}

export function canonicalReport(report: Report): Report {
  const summary: Record<Status, number> = {
    affected: report.summary.affected,
    "at-risk": report.summary["at-risk"],
    "not-affected": report.summary["not-affected"],
    unknown: report.summary.unknown,
  };
  return {
    schemaVersion: report.schemaVersion,
    tool: { name: report.tool.name, version: report.tool.version },
    generatedAt: report.generatedAt,
    target: {
      kind: report.target.kind,
      name: report.target.name,
      ...(report.target.distribution !== undefined ? { distribution: report.target.distribution } : {}),
      nodes: report.target.nodes,
    },
    summary,
    findings: arr(report.findings).map(finding),
    verdicts: arr(report.verdicts).map((g) => ({
      advisoryId: g.advisoryId,
      verdicts: arr(g.verdicts).map(verdict),
    })),
    coverage: arr(report.coverage).map(coverage),
    ...(report.trends !== undefined ? { trends: arr(report.trends) } : {}),
    ...(report.platform !== undefined ? { platform: report.platform } : {}),
  };
}
