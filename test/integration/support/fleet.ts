// The fleet JSON contract (issue 20) as the integration test and the benchmark read it, and what
// differs between two scans of the same cluster made a moment apart.

export interface AdvisoryCounts {
  id: string;
  affected: number;
  atRisk: number;
  unknown: number;
  notAffected: number;
}

export interface FleetCluster {
  context: string;
  server: string;
  outcome: "scanned" | "gap" | "interrupted";
  exitCode: number;
  summary: {
    distribution?: string;
    kubernetesVersion?: string;
    plugin?: string;
    calicoVersion?: string;
    rancherManaged?: boolean;
    advisories: AdvisoryCounts[];
    firstStep?: string;
  };
  gap?: { reason: "unreachable" | "timeout" | "forbidden" | "credentials" | "error"; message: string };
  report?: unknown;
}

export interface FleetJson {
  schemaVersion: number;
  kind: string;
  generatedAt: string;
  summary: { clusters: number; worstExitCode: number; byAdvisory: unknown };
  clusters: FleetCluster[];
}

/** Worst of several scan exit codes: 3 (found something) over 4 (could not evaluate) over 0. */
export function fleetExitCode(codes: readonly number[]): number {
  if (codes.includes(3)) return 3;
  if (codes.includes(4)) return 4;
  return 0;
}

/**
 * Keys whose values are when the scan ran or how long it took. Everything else a report holds
 * comes from the cluster, which the test leaves unchanged between the two scans.
 */
const VOLATILE_KEY = /^(generatedAt|startedAt|finishedAt|now|durationMs|elapsedMs|tookMs)$/;

/** A deep copy of a report with the volatile keys' values replaced by "<masked>". */
export function maskVolatile(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskVolatile);
  if (value !== null && typeof value === "object")
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, VOLATILE_KEY.test(k) ? "<masked>" : maskVolatile(v)]),
    );
  return value;
}
