// What planners get: facts already read (a Snapshot, its diagnosis, file contents) and the
// operator's options. Planners are pure functions of these; they never read or write anything.

import type { Advisory } from "../model/advisory.js";
import type { CalicoInstall, Snapshot } from "../model/snapshot.js";
import type { Step } from "../model/plan.js";
import type { Diagnosis } from "../analyze/diagnose.js";
import type { Fact } from "../model/provenance.js";
import type { VersionTables } from "../versions/tables.js";
import { toolVersion } from "../cli/version.js";

/** Where `npm run image` publishes the image (docs/packaging.md); its tag is the package version. */
export const IMAGE_REPOSITORY = "ghcr.io/cnidoctor/cnidoctor";

export interface PlanOptions {
  /** Where generated files (HelmChartConfig, CronJob manifests) are written. */
  outputDir: string;
  /** Pods restarted per batch by the rolling restart. */
  maxUnavailable: number;
  batchTimeoutSeconds: number;
  onlySymptomatic: boolean;
  /** Memory limit for calico-node, e.g. "1Gi". */
  memoryLimit: string;
  leaseTtlSeconds: number;
  /** Image the scheduled-restart CronJob runs (must contain the cnidoctor CLI). */
  image: string;
  /** Cron schedule of the scheduled restart. */
  schedule: string;
}

export const DEFAULT_PLAN_OPTIONS: PlanOptions = {
  outputDir: ".",
  maxUnavailable: 1,
  batchTimeoutSeconds: 300,
  onlySymptomatic: false,
  memoryLimit: "1Gi",
  leaseTtlSeconds: 900,
  // This version's image, so a generated CronJob runs the same code that planned it.
  image: `${IMAGE_REPOSITORY}:${toolVersion()}`,
  schedule: "17 */6 * * *",
};

export interface PlanFacts {
  advisory: Advisory;
  /** Cluster facts (live or bundle); absent when only a cluster.yml was given. */
  snapshot?: Snapshot;
  diagnosis?: Diagnosis;
  /** An RKE cluster.yml or Rancher cluster spec, read as text. */
  rkeConfig?: { path: string; text: string };
  /** The version tables (shipped, or extended by --kdm); the shipped ones when absent. */
  tables?: VersionTables;
  /** The Rancher version that manages the cluster: --rancher, else what the cluster shows. */
  rancherVersion?: Fact<string>;
  options: PlanOptions;
}

/** What a planner gives back: steps, and plan-level notes. */
export interface PlannerResult {
  steps: Step[];
  notes: string[];
}

/**
 * A planner: facts in, steps (and plan-level notes) out. `implements` names the advisory
 * remediations (`remediations[].id` in advisories/*.yaml) whose steps it emits; every step's
 * remediationId is one of them, and a test ties these to the shipped advisories both ways.
 */
export interface Planner {
  readonly name: string;
  readonly implements: readonly string[];
  plan(facts: PlanFacts): PlannerResult;
  /** Set on a planner made of per-install planners (perInstall), so tests can check each one. */
  readonly parts?: readonly InstallPlanner[];
}

/** A planner for one calico-node install: its steps for that install only. */
export interface InstallPlanner {
  readonly name: string;
  readonly implements: readonly string[];
  planInstall(facts: PlanFacts, install: CalicoInstall): Step[];
}
