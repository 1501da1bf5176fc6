// What plan and apply share: reading the facts (cluster.yml text, a bundle or the live cluster
// through the live collector), diagnosing them, and building the Plan (src/report/plan.ts renders it).

import { readInputText, readStdinText } from "../../io/open-input.js";
import { InputError, UsageError } from "../../errors.js";
import { collectBundle } from "../../collect/bundle/collect-bundle.js";
import { parseRkeClusterConfig } from "../../collect/bundle/rke-config.js";
import { diagnose, type Diagnosis } from "../../analyze/diagnose.js";
import { buildReport } from "../../analyze/findings.js";
import { KubeClient } from "../../kube/client.js";
import { compileSignatures, type SignatureSet } from "../../logs/index.js";
import type { Advisory } from "../../model/advisory.js";
import type { Plan } from "../../model/plan.js";
import type { Snapshot } from "../../model/snapshot.js";
import { buildPlan, DEFAULT_PLAN_OPTIONS, type PlanOptions } from "../../remediate/index.js";
import type { ParsedArgs } from "../parse-flags.js";
import {
  liveSettings,
  parseDuration,
  parsePositive,
  readLiveSnapshot,
  refuseLiveFlagsWithBundle,
  resolveEndpointOutOfProcess,
} from "./live-options.js";
import { advisoriesFor } from "./shared.js";
import { kdmNotes, rancherVersionFor, tablesFor } from "./kdm-options.js";
import { toolVersion } from "../version.js";
import type { Runtime } from "./types.js";

const ADVISORY_ID = "CNID-2024-0001";

function str(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags[name];
  return typeof v === "string" && v !== "" ? v : undefined;
}

export function planOptions(args: ParsedArgs): PlanOptions {
  const d = DEFAULT_PLAN_OPTIONS;
  // Bounded like the live flags: a batch of 10^23 pods or a lease for centuries is a typo.
  const n = (name: string, fallback: number, max: number): number => {
    const v = str(args, name);
    return v === undefined ? fallback : parsePositive(v, name, { integer: true, range: { min: 1, max } });
  };
  const memory = str(args, "memory-limit") ?? d.memoryLimit;
  if (!/^[1-9][0-9]*(Mi|Gi)$/.test(memory))
    throw new UsageError(`--memory-limit must look like 512Mi or 1Gi (got '${memory}')`);
  const timeout = str(args, "batch-timeout");
  return {
    outputDir: str(args, "output-dir") ?? d.outputDir,
    maxUnavailable: n("max-unavailable", d.maxUnavailable, 100_000),
    batchTimeoutSeconds:
      timeout === undefined
        ? d.batchTimeoutSeconds
        : parseDuration(/^\d+$/.test(timeout) ? `${timeout}s` : timeout, "batch-timeout"),
    onlySymptomatic: args.flags["only-symptomatic"] === true,
    memoryLimit: memory,
    leaseTtlSeconds: n("lease-ttl", d.leaseTtlSeconds, 7 * 86400),
    image: str(args, "image") ?? d.image,
    schedule: str(args, "schedule") ?? d.schedule,
  };
}

export async function theAdvisory(args: ParsedArgs): Promise<Advisory> {
  const a = (await advisoriesFor(args)).find((x) => x.id === ADVISORY_ID);
  if (!a) throw new UsageError(`advisory ${ADVISORY_ID} is not among the loaded advisories`);
  return a;
}

/** Whether to talk to a cluster: asked for explicitly, or nothing else to plan from. */
export function wantsCluster(args: ParsedArgs, rt: Runtime): boolean {
  if (str(args, "bundle") !== undefined) return false;
  if (str(args, "kubeconfig") !== undefined || str(args, "context") !== undefined) return true;
  if ((rt.env.KUBECONFIG ?? "") !== "") return true;
  return str(args, "rke-config") === undefined;
}

/**
 * The API client apply's and rollback's steps use: the kubeconfig resolved in the loader child,
 * every request bounded by --request-timeout and paced by --qps/--burst. No overall --timeout: a
 * rolling restart runs as long as its batches need.
 */
export async function clusterClientFor(args: ParsedArgs, rt: Runtime): Promise<KubeClient> {
  const kubeconfig = str(args, "kubeconfig");
  const context = str(args, "context");
  const s = liveSettings(args);
  const endpoint = await resolveEndpointOutOfProcess(
    { ...(kubeconfig ? { kubeconfig } : {}), ...(context ? { context } : {}) },
    rt.env,
    s.timeoutMs + 15_000,
  );
  return KubeClient.fromEndpoint(endpoint, {
    timeoutMs: s.timeoutMs,
    qps: s.qps,
    burst: s.burst,
    maxSockets: 8,
    userAgent: `cnidoctor/${toolVersion()}`,
  });
}

export interface Facts {
  advisory: Advisory;
  signatures: SignatureSet;
  snapshot?: Snapshot;
  diagnosis?: Diagnosis;
  inputs: string[];
}

/** Reads the cluster (live collector or bundle) and diagnoses it; undefined when no cluster is used. */
export async function readCluster(
  args: ParsedArgs,
  rt: Runtime,
  advisory: Advisory,
  signatures: SignatureSet,
): Promise<Snapshot | undefined> {
  const bundle = str(args, "bundle");
  refuseLiveFlagsWithBundle(args, args.command);
  if (bundle !== undefined)
    return collectBundle(bundle, { container: "calico-node", signatures, now: rt.now });
  if (!wantsCluster(args, rt)) return undefined;
  return readLiveSnapshot(args, rt, { container: "calico-node", signatures });
}

export async function gatherFacts(args: ParsedArgs, rt: Runtime): Promise<Facts> {
  const advisory = await theAdvisory(args);
  const signatures = compileSignatures([advisory]);
  const snapshot = await readCluster(args, rt, advisory, signatures);
  const inputs: string[] = [];
  if (snapshot) inputs.push(`${snapshot.target.kind} ${snapshot.target.name}`);
  return {
    advisory,
    signatures,
    inputs,
    ...(snapshot ? { snapshot, diagnosis: diagnose(snapshot, advisory) } : {}),
  };
}

/**
 * The parts of the cluster that could not be read and could change the plan (the scan's material
 * coverage gaps), one line each; empty when everything needed was read. A plan built on a partial
 * read is not "nothing to change": plan exits 4 and apply changes nothing.
 */
export function unreadParts(facts: Facts, now: Date): string[] {
  if (facts.snapshot === undefined || facts.diagnosis === undefined) return [];
  const report = buildReport({
    snapshot: facts.snapshot,
    diagnoses: [facts.diagnosis],
    tool: { name: "cnidoctor", version: toolVersion() },
    now,
  });
  return report.coverage
    .filter((c) => c.status === "not-evaluated" && c.material === true)
    .map((c) => `${c.check}${c.subject !== undefined ? ` ${c.subject}` : ""}: ${c.reason}`);
}

/** One stderr line summing up unreadParts. */
export function unreadLine(command: string, unread: readonly string[], outcome: string): string {
  const more = unread.length > 1 ? ` (and ${unread.length - 1} more gaps)` : "";
  return `cnidoctor: ${command}: the cluster was only partly read, ${outcome}: ${unread[0] ?? ""}${more}`;
}

/** How a cluster.yml read from stdin (`--rke-config -`) is named in plans and messages. */
export const STDIN_LABEL = "<stdin>";

export async function makePlan(args: ParsedArgs, rt: Runtime, facts: Facts): Promise<Plan> {
  const path = str(args, "rke-config");
  let rkeConfig: { path: string; text: string } | undefined;
  if (path !== undefined) {
    try {
      // `-`: read-only commands take cluster.yml from stdin (apply refuses it before this).
      rkeConfig =
        path === "-"
          ? { path: STDIN_LABEL, text: await readStdinText("rke-config") }
          : { path, text: await readInputText(path, "rke-config") };
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw new InputError(
        path,
        (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : "cannot be read",
      );
    }
  }
  if (rkeConfig !== undefined) {
    // A cluster.yml that cannot be parsed is bad input, not "nothing to change".
    const parsed = parseRkeClusterConfig(rkeConfig.path, rkeConfig.text);
    if ("problem" in parsed) throw new InputError(rkeConfig.path, parsed.problem);
  }
  const inputs = [...facts.inputs, ...(rkeConfig !== undefined ? [`cluster.yml ${rkeConfig.path}`] : [])];
  const tables = await tablesFor(args);
  if (tables.kdmOrigin !== undefined) inputs.push(`KDM ${tables.kdmOrigin.replace(/^--kdm /, "")}`);
  const rancherVersion = rancherVersionFor(args, facts.snapshot);
  const plan = buildPlan(
    {
      advisory: facts.advisory,
      options: planOptions(args),
      tables,
      ...(rancherVersion !== undefined ? { rancherVersion } : {}),
      ...(facts.snapshot ? { snapshot: facts.snapshot } : {}),
      ...(facts.diagnosis ? { diagnosis: facts.diagnosis } : {}),
      ...(rkeConfig ? { rkeConfig } : {}),
    },
    inputs,
    rt.now,
  );
  return { ...plan, notes: [...kdmNotes(tables), ...plan.notes] };
}
