// What plan and apply share: reading the facts (cluster.yml text, a bundle or the live cluster
// through the pipeline's collectors), diagnosing them, and building the Plan (src/report/plan.ts renders it).

import { readInputText, readStdinText } from "../../io/open-input.js";
import { InputError, UsageError } from "../../errors.js";
import { parseRkeClusterConfig } from "../../collect/bundle/rke-config.js";
import type { Diagnosis } from "../../analyze/diagnose.js";
import { analyse, collectScope, collectTarget, report, type Target } from "../../pipeline.js";
import { KubeClient } from "../../kube/client.js";
import { compileSignatures, type SignatureSet } from "../../logs/index.js";
import type { Advisory } from "../../model/advisory.js";
import type { Plan } from "../../model/plan.js";
import type { Snapshot } from "../../model/snapshot.js";
import { buildPlan, DEFAULT_PLAN_OPTIONS, PLANNERS, type PlanOptions } from "../../remediate/index.js";
import type { ParsedArgs } from "../parse-flags.js";
import { flagValue } from "../flag-access.js";
import type { FlagName } from "../flags.js";
import { liveTarget, refuseLiveFlagsWithBundle, resolveEndpointOutOfProcess } from "./live-options.js";
import { advisoriesFor } from "./shared.js";
import { kdmNotes, rancherVersionFor, tablesFor } from "./kdm-options.js";
import { toolVersion } from "../version.js";
import type { Runtime } from "./types.js";

/** A text flag, absent when empty. */
function str(
  args: ParsedArgs,
  name: FlagName & ("bundle" | "kubeconfig" | "context" | "rke-config" | "image" | "schedule" | "advisory"),
): string | undefined {
  const v = flagValue(args, name);
  return v !== undefined && v !== "" ? v : undefined;
}

export function planOptions(args: ParsedArgs): PlanOptions {
  // The image and schedule defaults are the remediation's own (they follow the version).
  const d = DEFAULT_PLAN_OPTIONS;
  const memoryLimit = flagValue(args, "memory-limit");
  return {
    outputDir: flagValue(args, "output-dir") ?? d.outputDir,
    maxUnavailable: flagValue(args, "max-unavailable"),
    batchTimeoutSeconds: flagValue(args, "batch-timeout"),
    onlySymptomatic: flagValue(args, "only-symptomatic"),
    memoryLimit,
    leaseTtlSeconds: flagValue(args, "lease-ttl"),
    image: str(args, "image") ?? d.image,
    schedule: str(args, "schedule") ?? d.schedule,
  };
}

/** The loaded advisory with this id; bad usage when none has it. */
export async function advisoryById(args: ParsedArgs, id: string): Promise<Advisory> {
  const loaded = await advisoriesFor(args);
  const a = loaded.find((x) => x.id === id);
  if (!a)
    throw new UsageError(
      `advisory ${id} is not among the loaded advisories (${loaded.map((x) => x.id).join(", ")})`,
    );
  return a;
}

/** The advisories --advisory names, else every loaded one. */
export async function chosenAdvisories(args: ParsedArgs): Promise<Advisory[]> {
  const id = str(args, "advisory");
  return id !== undefined ? [await advisoryById(args, id)] : [...(await advisoriesFor(args))];
}

/**
 * Whether an advisory has a remediation a planner implements for a cluster known only from its
 * cluster.yml (RKE1, or any distribution), and can be judged without the cluster.
 */
function fitsWithoutCluster(advisory: Advisory): boolean {
  // An advisory whose status rules read cluster objects and node facts cannot be judged, so not
  // planned for, from a cluster.yml: it carries none of them.
  if (advisory.verdicts !== undefined) return false;
  const planned = new Set(PLANNERS.flatMap((p) => p.implements));
  return advisory.remediations.some(
    (r) => planned.has(r.id) && (r.distributions.length === 0 || r.distributions.includes("rke1")),
  );
}

/** Whether a diagnosis found something a plan is for: a subject affected, at risk or unknown. */
function foundSomething(d: Diagnosis): boolean {
  return d.verdicts.some((v) => v.status !== "not-affected");
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
  // Only the request bounds: rollback takes none of the log-reading flags liveSettings reads.
  const timeoutMs = flagValue(args, "request-timeout") * 1000;
  const endpoint = await resolveEndpointOutOfProcess(
    { ...(kubeconfig ? { kubeconfig } : {}), ...(context ? { context } : {}) },
    rt.env,
    timeoutMs + 15_000,
  );
  return KubeClient.fromEndpoint(endpoint, {
    timeoutMs,
    qps: flagValue(args, "qps"),
    burst: flagValue(args, "burst"),
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

/** The cluster to read (a bundle or the live one), or undefined when no cluster is used. */
export function clusterTarget(args: ParsedArgs, rt: Runtime): Target | undefined {
  const bundle = str(args, "bundle");
  refuseLiveFlagsWithBundle(args, args.command);
  if (bundle !== undefined) return { kind: "bundle", dir: bundle };
  return wantsCluster(args, rt) ? liveTarget(args, rt) : undefined;
}

/** Reads the cluster through the pipeline's collector; undefined when no cluster is used. */
export async function readCluster(
  args: ParsedArgs,
  rt: Runtime,
  signatures: SignatureSet,
  advisories: readonly Advisory[],
  /** A fleet member's target, instead of the one the flags name. */
  given?: Target,
): Promise<Snapshot | undefined> {
  const target = given ?? clusterTarget(args, rt);
  return target === undefined
    ? undefined
    : collectTarget(target, signatures, rt.now, rt.progress, collectScope(advisories));
}

/**
 * The facts to plan from, one per advisory planned for: the one --advisory names; else every
 * advisory that found something in the cluster (all of them when none did, so the plan says so);
 * with no cluster input, every loaded advisory whose remediations fit a cluster.yml alone.
 */
export async function gatherFacts(args: ParsedArgs, rt: Runtime, target?: Target): Promise<Facts[]> {
  const chosen = await chosenAdvisories(args);
  const signatures = compileSignatures(chosen);
  const snapshot = await readCluster(args, rt, signatures, chosen, target);
  const inputs: string[] = [];
  if (snapshot) inputs.push(`${snapshot.target.kind} ${snapshot.target.name}`);
  const facts = (advisory: Advisory, diagnosis?: Diagnosis): Facts => ({
    advisory,
    signatures: chosen.length === 1 ? signatures : compileSignatures([advisory]),
    inputs,
    ...(snapshot ? { snapshot } : {}),
    ...(diagnosis ? { diagnosis } : {}),
  });
  if (!snapshot) {
    const fitting = chosen.length === 1 ? chosen : chosen.filter(fitsWithoutCluster);
    return (fitting.length > 0 ? fitting : chosen).map((a) => facts(a));
  }
  const diagnoses = analyse(snapshot, chosen);
  const found = diagnoses.filter(foundSomething);
  return (found.length > 0 ? found : diagnoses).map((d) => facts(d.advisory, d));
}

/**
 * Several advisories were judged on the cluster and none found anything: there is no advisory to
 * apply for (gatherFacts then returns all of them, for the plan to show their hardening steps).
 */
export function nothingFound(all: readonly Facts[]): boolean {
  return all.length > 1 && all.every((f) => f.diagnosis !== undefined && !foundSomething(f.diagnosis));
}

/** Apply acts for one advisory at a time: its backup, post-check and lease name one advisory. */
export function oneAdvisory(command: string, all: Facts[]): Facts {
  const [first, second] = all;
  if (first === undefined) throw new UsageError(`${command}: no advisory is loaded`);
  if (second !== undefined)
    throw new UsageError(
      `${command}: several advisories found something (${all.map((f) => f.advisory.id).join(", ")}); choose one with --advisory`,
    );
  return first;
}

/**
 * The parts of the cluster that could not be read and could change the plan (the scan's material
 * coverage gaps), one line each; empty when everything needed was read. A plan built on a partial
 * read is not "nothing to change": plan exits 4 and apply changes nothing.
 */
export function unreadParts(facts: Facts, now: Date): string[] {
  if (facts.snapshot === undefined || facts.diagnosis === undefined) return [];
  const r = report(facts.snapshot, [facts.diagnosis], {
    advisories: [facts.advisory],
    tool: { name: "cnidoctor", version: toolVersion() },
    now,
  });
  return r.coverage
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
