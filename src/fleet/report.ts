// The fleet report: one entry per cluster, reduced as each cluster finishes to its summary and the
// detail its output format shows (the JSON a single scan prints, or its HTML or Markdown report),
// as text or in a spill file, so no Snapshot or full Report outlives its cluster. The JSON/YAML schema is documented in the README
// ("Fleet report") and stays stable: fields are added, never renamed.

import type { Report, Status } from "../model/finding.js";
import type { Snapshot } from "../model/snapshot.js";
import { exitCodeFor } from "../analyze/findings.js";
import { compareNames } from "../kube/merge.js";

export type ClusterOutcome = "scanned" | "gap" | "interrupted";
export type GapReason = "unreachable" | "timeout" | "forbidden" | "credentials" | "error";
export type ExitCode = 0 | 3 | 4;

export interface AdvisoryCounts {
  id: string;
  affected: number;
  atRisk: number;
  unknown: number;
  notAffected: number;
}

export interface ClusterSummary {
  distribution: string | null;
  kubernetesVersion: string | null;
  plugin: string | null;
  calicoVersion: string | null;
  rancherManaged: boolean | null;
  advisories: AdvisoryCounts[];
  /** The title of the first remediation of the most urgent finding; null when nothing needs one. */
  firstStep: string | null;
}

export interface FleetCluster {
  context: string;
  server: string;
  outcome: ClusterOutcome;
  exitCode: ExitCode;
  summary: ClusterSummary;
  gap?: { reason: GapReason; message: string };
  /**
   * What the output format shows of the cluster beyond its summary, rendered while its Report was
   * at hand: the JSON a single scan prints (JSON, YAML), its HTML section, or its Markdown report.
   * Held as text, or spilled to a file so that a fleet's memory does not grow with its size.
   */
  detail?: Detail;
}

export type Detail = { text: string } | { file: string };

export interface FleetReport {
  schemaVersion: 1;
  kind: "fleet";
  generatedAt: string;
  tool: { name: string; version: string };
  summary: {
    clusters: number;
    worstExitCode: ExitCode;
    /** Per advisory: clusters with an affected or at-risk node, and nodes per status fleet-wide. */
    byAdvisory: Record<string, AdvisoryTotals>;
  };
  clusters: FleetCluster[];
}

export interface AdvisoryTotals {
  clustersAffected: number;
  clustersAtRisk: number;
  affected: number;
  atRisk: number;
  unknown: number;
  notAffected: number;
}

const EMPTY_SUMMARY: ClusterSummary = {
  distribution: null,
  kubernetesVersion: null,
  plugin: null,
  calicoVersion: null,
  rancherManaged: null,
  advisories: [],
  firstStep: null,
};

const URGENT: readonly Status[] = ["affected", "at-risk"];
const STATUS_RANK: readonly Status[] = ["affected", "at-risk", "unknown", "not-affected"];

function joined(values: readonly (string | undefined)[]): string | null {
  const set = [...new Set(values.filter((v): v is string => v !== undefined && v !== ""))];
  return set.length > 0 ? set.join(", ") : null;
}

/** The value most nodes report (the first such in node order on a tie); null when none does. */
function commonest(values: readonly (string | undefined)[]): string | null {
  const counts = new Map<string, number>();
  for (const v of values) if (v !== undefined && v !== "") counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: string | null = null;
  for (const [v, n] of counts) if (best === null || n > (counts.get(best) ?? 0)) best = v;
  return best;
}

/** What the fleet table shows of one cluster, read from its snapshot and report before both are dropped. */
export function clusterSummary(snapshot: Snapshot, report: Report): ClusterSummary {
  const advisories = report.verdicts.map((g) => {
    const c: AdvisoryCounts = { id: g.advisoryId, affected: 0, atRisk: 0, unknown: 0, notAffected: 0 };
    for (const v of g.verdicts) {
      if (v.status === "affected") c.affected++;
      else if (v.status === "at-risk") c.atRisk++;
      else if (v.status === "unknown") c.unknown++;
      else c.notAffected++;
    }
    return c;
  });
  const urgent = [...report.findings]
    .filter((f) => URGENT.includes(f.status))
    .sort((a, b) => STATUS_RANK.indexOf(a.status) - STATUS_RANK.indexOf(b.status));
  const first = urgent.flatMap((f) => f.remediations)[0];
  return {
    distribution: snapshot.distribution?.value ?? null,
    kubernetesVersion:
      snapshot.kubernetesVersion?.value ?? commonest(snapshot.nodes.map((n) => n.kubeletVersion)),
    plugin: joined(snapshot.installs.map((i) => i.plugin)),
    calicoVersion:
      joined(snapshot.installs.map((i) => i.version?.value.text)) ??
      snapshot.clusterCalicoVersion?.value ??
      null,
    rancherManaged: snapshot.rancherManaged?.value ?? null,
    advisories,
    firstStep: first?.title ?? null,
  };
}

export function scannedCluster(
  context: string,
  server: string,
  snapshot: Snapshot,
  report: Report,
  detail: Detail | undefined,
): FleetCluster {
  return {
    context,
    server,
    outcome: "scanned",
    exitCode: exitCodeFor(report),
    summary: clusterSummary(snapshot, report),
    ...(detail !== undefined ? { detail } : {}),
  };
}

export function gapCluster(
  context: string,
  server: string,
  reason: GapReason,
  message: string,
): FleetCluster {
  return { context, server, outcome: "gap", exitCode: 4, summary: EMPTY_SUMMARY, gap: { reason, message } };
}

export function interruptedCluster(context: string, server: string): FleetCluster {
  return { context, server, outcome: "interrupted", exitCode: 4, summary: EMPTY_SUMMARY };
}

/** Worst first: something affected or at risk (3), then something not evaluated (4), then clean (0). */
export function worstExitCode(codes: readonly ExitCode[]): ExitCode {
  if (codes.includes(3)) return 3;
  if (codes.includes(4)) return 4;
  return 0;
}

export function fleetReport(
  clusters: readonly FleetCluster[],
  tool: { name: string; version: string },
  now: Date,
): FleetReport {
  const sorted = [...clusters].sort((a, b) => compareNames(a.context, b.context));
  const byAdvisory: Record<string, AdvisoryTotals> = {};
  for (const c of sorted)
    for (const a of c.summary.advisories) {
      const t = (byAdvisory[a.id] ??= {
        clustersAffected: 0,
        clustersAtRisk: 0,
        affected: 0,
        atRisk: 0,
        unknown: 0,
        notAffected: 0,
      });
      if (a.affected > 0) t.clustersAffected++;
      else if (a.atRisk > 0) t.clustersAtRisk++;
      t.affected += a.affected;
      t.atRisk += a.atRisk;
      t.unknown += a.unknown;
      t.notAffected += a.notAffected;
    }
  return {
    schemaVersion: 1,
    kind: "fleet",
    generatedAt: now.toISOString(),
    tool,
    summary: {
      clusters: sorted.length,
      worstExitCode: worstExitCode(sorted.map((c) => c.exitCode)),
      byAdvisory: Object.fromEntries(Object.entries(byAdvisory).sort(([a], [b]) => compareNames(a, b))),
    },
    clusters: sorted,
  };
}
