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

/** When the scan ran. */
const TIME_KEYS = new Set(["generatedAt"]);
/**
 * Live measurements: [unix seconds, value] samples of calico-node's memory and CPU, which the
 * harness makes grow and jitter over time (kwok-config.ts). Their number is kept, their values not.
 */
const SAMPLE_KEYS = new Set(["memoryMiB", "cpuCores"]);

/**
 * A deep copy of a report with what differs between two scans of an unchanged cluster made a
 * moment apart masked: the generation time and the resource samples. Everything else comes from
 * the cluster's objects and logs, which the test leaves alone.
 */
export function maskVolatile(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskVolatile);
  if (value !== null && typeof value === "object")
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => {
        if (TIME_KEYS.has(k)) return [k, "<time>"];
        if (SAMPLE_KEYS.has(k) && Array.isArray(v)) return [k, v.map(() => "<sample>")];
        return [k, maskVolatile(v)];
      }),
    );
  return value;
}
