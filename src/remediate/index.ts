// buildPlan: every planner over the same facts, in a fixed order (durable fixes first, stopgaps and
// monitoring last). Pure: the same facts and time give the same Plan.

import type { Plan, Step } from "../model/plan.js";
import { alertRulesPlanner } from "./alert-rules.js";
import { felixPlanner } from "./felix.js";
import { flannelPlanner } from "./flannel.js";
import { kernelUpgradePlanner } from "./kernel-upgrade.js";
import { memoryLimitPlanner } from "./memory-limit.js";
import { perInstall } from "./per-install.js";
import { rke1Planner } from "./rke1.js";
import { rke2Planner } from "./rke2.js";
import { rollingRestartPlanner } from "./rolling-restart.js";
import { scheduledRestartPlanner } from "./scheduled-restart.js";
import type { PlanFacts, Planner } from "./types.js";
import { felixOffloadPlanner, flannelOffloadPlanner, vxlanPortPlanner } from "./vxlan-offload.js";

/** Every planner, in plan order. A new remediation is a planner file plus a line here. */
export const PLANNERS: readonly Planner[] = [
  rke1Planner,
  rke2Planner,
  flannelPlanner,
  felixPlanner,
  felixOffloadPlanner,
  flannelOffloadPlanner,
  vxlanPortPlanner,
  perInstall("calico-node stopgaps", [rollingRestartPlanner, scheduledRestartPlanner, memoryLimitPlanner]),
  kernelUpgradePlanner,
  alertRulesPlanner,
];

function statusNote(facts: PlanFacts): string[] {
  const verdicts = facts.diagnosis?.verdicts ?? [];
  if (verdicts.length === 0) return [];
  const count = (s: string): number => verdicts.filter((v) => v.status === s).length;
  const line = `Diagnosis: ${count("affected")} affected, ${count("at-risk")} at risk, ${count("not-affected")} not affected, ${count("unknown")} unknown of ${verdicts.length} nodes.`;
  return count("affected") + count("at-risk") === 0
    ? [line, "Nothing is affected or at risk: the steps below are optional hardening."]
    : [line];
}

export function buildPlan(facts: PlanFacts, inputs: string[], now: Date): Plan {
  const steps: Step[] = [];
  const notes = statusNote(facts);
  // A planner plans for an advisory only the remediations that advisory lists.
  const listed = new Set(facts.advisory.remediations.map((r) => r.id));
  const planners = PLANNERS.filter((p) => p.implements.some((id) => listed.has(id)));
  for (const planner of planners) {
    const r = planner.plan(facts);
    steps.push(...r.steps.filter((s) => listed.has(s.remediationId)));
    notes.push(...r.notes);
  }
  if (planners.length === 0)
    notes.push(
      `No step is generated for ${facts.advisory.id}'s remediations (${[...listed].join(", ")}); \`cnidoctor advisories show ${facts.advisory.id}\` lists them.`,
    );
  if (facts.rkeConfig === undefined && facts.snapshot === undefined)
    notes.push("No input: give --rke-config FILE, --bundle DIR or a cluster (--kubeconfig/--context).");
  return {
    schemaVersion: 1,
    advisoryId: facts.advisory.id,
    createdAt: now.toISOString(),
    inputs,
    steps,
    notes,
  };
}

export type { PlanFacts, PlanOptions, Planner } from "./types.js";
export { DEFAULT_PLAN_OPTIONS } from "./types.js";
