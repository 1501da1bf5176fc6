// A fleet's plans grouped by the change each cluster needs first, so "these 12 RKE2 clusters:
// upgrade to v1.30.5+rke2r1" reads as one line. A cluster's change is, per advisory that found a
// node affected or at risk, its plan's first step not already in place; two clusters need
// the same change when the advisory, the remediation and what the change leads to (the added
// lines of the step's diff) are the same, whatever they start from.

import type { Plan, Step } from "../model/plan.js";
import { compareNames } from "../kube/merge.js";
import type { GapReason } from "./report.js";

export interface ClusterPlans {
  context: string;
  server: string;
  outcome: "planned" | "gap" | "interrupted";
  gap?: { reason: GapReason; message: string };
  /** A plan built on a partly read cluster (plan exits 4 for it). */
  partial?: string;
  plans: Plan[];
  /** The advisories whose diagnosis found a node affected or at risk: only their plans are a change the cluster needs. */
  needed: string[];
}

export interface PlanGroup {
  /** One line for people: the step's title, or the remediation and its outcome when titles differ. */
  change: string;
  advisoryId?: string;
  remediationId?: string;
  clusters: string[];
}

/** The step that stands for a plan's change: its first (the plan lists the durable fix first) not yet in place. */
export function leadingStep(plan: Plan): Step | undefined {
  return plan.steps.find((s) => !s.alreadyApplied);
}

function addedLines(diff: string): string[] {
  return diff
    .split("\n")
    .filter((l) => l.startsWith("+") && !l.startsWith("+++"))
    .map((l) => l.slice(1).trim())
    .filter((l) => l !== "");
}

interface Pending {
  key: string;
  titles: Set<string>;
  advisoryId?: string;
  remediationId?: string;
  outcome?: string;
  clusters: string[];
}

export function groupPlans(clusters: readonly ClusterPlans[]): PlanGroup[] {
  const groups = new Map<string, Pending>();
  const add = (key: string, title: string, context: string, extra: Partial<Pending> = {}): void => {
    const g = groups.get(key) ?? { key, titles: new Set<string>(), clusters: [], ...extra };
    g.titles.add(title);
    if (!g.clusters.includes(context)) g.clusters.push(context);
    groups.set(key, g);
  };
  for (const c of clusters) {
    if (c.outcome === "gap") {
      add(`gap\u0000${c.gap?.reason ?? ""}`, `not read (${c.gap?.reason ?? "error"})`, c.context);
      continue;
    }
    if (c.outcome === "interrupted") {
      add("interrupted", "not finished (interrupted)", c.context);
      continue;
    }
    let any = false;
    for (const p of c.plans) {
      if (!c.needed.includes(p.advisoryId)) continue;
      const step = leadingStep(p);
      if (step === undefined) continue;
      any = true;
      const outcome = addedLines(step.diff).join(", ");
      add(`${p.advisoryId}\u0000${step.remediationId}\u0000${outcome}`, step.title, c.context, {
        advisoryId: p.advisoryId,
        remediationId: step.remediationId,
        outcome,
      });
    }
    if (!any) add("nothing", "nothing affected or at risk: no change needed", c.context);
  }
  const out = [...groups.values()].map((g): PlanGroup => {
    const [only] = g.titles;
    const change =
      g.titles.size === 1 && only !== undefined
        ? only
        : `${g.remediationId ?? ""}${g.outcome !== undefined && g.outcome !== "" ? ` → ${g.outcome}` : ""}`;
    return {
      change,
      ...(g.advisoryId !== undefined ? { advisoryId: g.advisoryId } : {}),
      ...(g.remediationId !== undefined ? { remediationId: g.remediationId } : {}),
      clusters: [...g.clusters].sort(compareNames),
    };
  });
  // Most clusters first; then by the change, so the order is the same on every run.
  return out.sort((a, b) => b.clusters.length - a.clusters.length || compareNames(a.change, b.change));
}

/** "3 clusters (a, b, c): CHANGE" */
export function groupLine(g: PlanGroup): string {
  const n = g.clusters.length;
  return `${n} cluster${n === 1 ? "" : "s"} (${g.clusters.join(", ")}): ${g.change}`;
}
