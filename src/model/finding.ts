// Findings are what analyzers conclude; reporters and planners consume only these (plus the
// snapshot for context).

import type { TrendChart } from "./resources.js";

export type Status = "affected" | "at-risk" | "not-affected" | "unknown";

export type EvidenceKind =
  "version" | "condition" | "symptom" | "lookalike" | "fingerprint" | "node" | "distribution" | "note";

export interface Evidence {
  kind: EvidenceKind;
  /** One sentence an operator can read aloud. */
  message: string;
  /** Where it was read (object, field, file). */
  source?: string;
  /** Nodes it concerns; empty when cluster-wide. */
  nodes: string[];
  /** Structured values for machines (counts, versions, timestamps). */
  data?: Record<string, string | number | boolean | string[]>;
}

/** The verdict for one node (or one log source in logs-only mode). */
export interface SubjectVerdict {
  subject: string;
  kind: "node" | "log";
  status: Status;
  reasons: string[];
  evidence: Evidence[];
}

export interface Finding {
  advisoryId: string;
  title: string;
  status: Status;
  severity: string;
  nodes: string[];
  evidence: Evidence[];
  remediations: FindingRemediation[];
}

export interface FindingRemediation {
  id: string;
  title: string;
  kind: string;
  summary: string;
  steps: string[];
  tradeoffs?: string;
  durable: boolean;
}

export interface Coverage {
  check: string;
  status: "evaluated" | "not-evaluated";
  reason: string;
  subject?: string;
  /** A gap that could change a verdict; any such gap makes an otherwise clean scan exit 4. */
  material?: boolean;
}

export interface Report {
  schemaVersion: 1;
  tool: { name: string; version: string };
  generatedAt: string;
  target: { kind: string; name: string; distribution?: string; nodes: number };
  summary: Record<Status, number>;
  findings: Finding[];
  /** Per-node verdicts behind the findings, for tables and drill-down. */
  verdicts: { advisoryId: string; verdicts: SubjectVerdict[] }[];
  coverage: Coverage[];
  /** Per-node resource and log-rate chart data; present only when resource series were collected. */
  trends?: TrendChart[];
}
