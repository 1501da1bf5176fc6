// Any Calico: set xdpEnabled=false in FelixConfiguration `default` (created when missing), and in
// any `node.<name>` FelixConfiguration that turns it back on. An env var FELIX_XDPENABLED on the
// calico-node container beats both, so the plan says when one is set.

import { stringify } from "yaml";
import type { KubePatchStep, KubeObjectRef } from "../model/plan.js";
import type { FelixConfigurationFacts } from "../model/snapshot.js";
import { parseFelixBool } from "../analyze/felix-settings.js";
import { unifiedDiff } from "./diff.js";
import type { PlanFacts, Planner, PlannerResult } from "./types.js";

const GROUP_VERSION = "crd.projectcalico.org/v1";

export function felixRef(name: string): KubeObjectRef {
  return { apiVersion: GROUP_VERSION, kind: "FelixConfiguration", plural: "felixconfigurations", name };
}

function envNotes(facts: PlanFacts): string[] {
  const notes: string[] = [];
  for (const i of facts.snapshot?.installs ?? []) {
    const node = i.calicoNode;
    const env = node?.env.FELIX_XDPENABLED;
    if (node === undefined || env === undefined) continue;
    const value = env.value ?? "(from a reference)";
    const effect =
      env.value !== undefined && parseFelixBool(env.value) === false
        ? "XDP is already off there, whatever FelixConfiguration says"
        : env.value !== undefined && parseFelixBool(env.value) === undefined
          ? "Felix rejects that value and uses its default (XDP on), and it OVERRIDES FelixConfiguration: set it to false or remove it"
          : "it OVERRIDES FelixConfiguration: this patch has no effect on those pods until the env var is removed or set to false";
    notes.push(
      `${i.namespace}/${i.name} sets env FELIX_XDPENABLED=${value} on ${node.name} (${env.from.ref}); ${effect}.`,
    );
  }
  return notes;
}

function chartNotes(facts: PlanFacts): string[] {
  const installs = facts.snapshot?.installs ?? [];
  if (installs.some((i) => i.managedBy === "rke2-calico-chart" || i.managedBy === "tigera-operator"))
    return [
      "The rke2-calico chart / tigera-operator renders FelixConfiguration default and may set xdpEnabled back on its next apply: prefer the HelmChartConfig step (or your operator's values) as the durable fix.",
    ];
  return [];
}

function render(spec: Record<string, unknown> | undefined, name: string): string {
  return spec === undefined
    ? ""
    : stringify({ apiVersion: GROUP_VERSION, kind: "FelixConfiguration", metadata: { name }, spec });
}

function patchStep(facts: PlanFacts, fc: FelixConfigurationFacts | undefined, name: string): KubePatchStep {
  const remediation = facts.advisory.remediations.find((r) => r.id === "felixconfiguration-disable-xdp");
  const before = fc?.spec;
  const after = { ...(before ?? {}), xdpEnabled: false };
  const known = facts.snapshot?.felixConfigurations !== undefined;
  const notes = [...envNotes(facts), ...chartNotes(facts)];
  if (!known)
    notes.push("FelixConfigurations were not readable when planning; apply reads the live object first.");
  else if (fc === undefined)
    notes.push(
      `FelixConfiguration ${name} does not exist yet; it is created with only xdpEnabled: false (calico-node fills in the rest).`,
    );
  return {
    id: name === "default" ? "felix-disable-xdp" : `felix-disable-xdp-${name}`,
    remediationId: "felixconfiguration-disable-xdp",
    kind: "kube-patch",
    title: `Set xdpEnabled: false in FelixConfiguration ${name}`,
    summary: remediation?.summary ?? "Disable XDP.",
    ...(remediation?.tradeoffs !== undefined ? { tradeoffs: remediation.tradeoffs } : {}),
    notes,
    diff: unifiedDiff(render(before, name), render(after, name), `FelixConfiguration/${name}`),
    default: true,
    durable: true,
    alreadyApplied: before?.xdpEnabled === false,
    target: felixRef(name),
    patchType: "merge",
    patch: { spec: { xdpEnabled: false } },
    createIfMissing: {
      apiVersion: GROUP_VERSION,
      kind: "FelixConfiguration",
      metadata: { name },
      spec: { xdpEnabled: false },
    },
    expect: [{ path: ["spec", "xdpEnabled"], value: false }],
  };
}

export function planFelix(facts: PlanFacts): PlannerResult {
  const snapshot = facts.snapshot;
  if (snapshot === undefined || snapshot.installs.length === 0) return { steps: [], notes: [] };
  const configs = snapshot.felixConfigurations ?? [];
  const steps = [
    patchStep(
      facts,
      configs.find((c) => c.name === "default"),
      "default",
    ),
  ];
  for (const fc of configs)
    if (fc.name.startsWith("node.") && fc.spec.xdpEnabled === true) steps.push(patchStep(facts, fc, fc.name));
  return { steps, notes: [] };
}

export const felixPlanner: Planner = {
  name: "FelixConfiguration",
  implements: ["felixconfiguration-disable-xdp"],
  plan: planFelix,
};
