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

/** One Felix setting a condition read, as the writers show it. */
export interface SettingFact {
  /** The advisory condition's id. */
  condition: string;
  /** The Felix setting (FelixConfiguration field name). */
  field: string;
  /** The value the condition was decided on; undefined when it could not be determined. */
  value?: string;
  /** Where it was read (or the default that was assumed). */
  source?: string;
}

/**
 * The typed facts behind a verdict, so writers fill their columns from fields rather than from
 * the sentences in `reasons` and `evidence`. Not serialised: the JSON report carries the evidence.
 */
export interface VerdictFacts {
  /** False when the subject's calico-node log could not be read, so its symptom count is unknown. */
  logsRead: boolean;
  /** The Felix settings the advisory's conditions read, in condition order. */
  settings: SettingFact[];
  /** The reasons (a subset of `reasons`) that call out calico-node CPU or memory. */
  resourceCallouts: string[];
}

/** The verdict for one node (or one log source in logs-only mode). */
export interface SubjectVerdict {
  subject: string;
  /** log: a whole log file; pod or node: a subject a capture names, or a scanned node. */
  kind: "node" | "pod" | "log";
  status: Status;
  reasons: string[];
  evidence: Evidence[];
  /** Absent for a node with no calico-node pod (nothing was read for it). */
  facts?: VerdictFacts;
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

/** The version gate's answer for the platform release a cluster runs (as `cnidoctor check` gives it). */
export interface PlatformGate {
  /** What was checked, e.g. "RKE2 v1.30.2+rke2r1 (rke2-calico)". */
  checked: string;
  advisoryId: string;
  verdict: "affected" | "conditional" | "not-affected" | "unknown";
  calicoVersion?: string;
  reason: string;
  /** The smallest fixed alternative of the same minor (offered by the cluster's Rancher when known). */
  fixed?: { version: string; offeredBy?: string };
  unverified?: boolean;
}

/** The platform around the CNI: distribution release, the Rancher that manages it, the KDM data used. */
export interface Platform {
  release?: string;
  releaseFrom?: string;
  rancher?: { version?: string; versionFrom?: string; provisioning?: string; provisioningFrom?: string };
  /** Set when --kdm extended the version tables: its origin and where it overrode them. */
  kdm?: { origin: string; overrides: string[] };
  gate: PlatformGate[];
}

/** A per-node table column showing one setting fact (SettingFact.condition). */
export interface ReportColumn {
  title: string;
  condition: string;
}

export interface Report {
  schemaVersion: 1;
  tool: { name: string; version: string };
  generatedAt: string;
  target: { kind: string; name: string; distribution?: string; nodes: number };
  summary: Record<Status, number>;
  findings: Finding[];
  /**
   * Per-node verdicts behind the findings, for tables and drill-down. `columns` are the advisory's
   * per-node setting columns (presentation data for the human-readable writers; like a verdict's
   * facts, the machine-readable writers leave them out). `version` names the release the version
   * column shows, e.g. "flannel" (absent: Calico); presentation too.
   */
  verdicts: { advisoryId: string; columns?: ReportColumn[]; version?: string; verdicts: SubjectVerdict[] }[];
  coverage: Coverage[];
  /** Per-node resource and log-rate chart data; present only when resource series were collected. */
  trends?: TrendChart[];
  /** Present when the scan had platform facts to judge (Rancher, --rancher or --kdm). */
  platform?: Platform;
}
