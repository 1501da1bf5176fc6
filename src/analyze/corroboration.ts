// The agent-read facts that corroborate an advisory: the agent-fact conditions an "affected"
// status rule needs one of (`anyHolds`, through any all-of / any-of groups). The node agent watches
// these, counts them with the signature matches and sets the advisory's Node condition on them;
// the alert rules select them like symptom signatures.

import type { Advisory, AgentFactCondition } from "../model/advisory.js";

export function corroboratingAgentFacts(advisory: Advisory): AgentFactCondition[] {
  const out = new Map<string, AgentFactCondition>();
  const visit = (id: string, seen: Set<string>): void => {
    if (seen.has(id)) return;
    seen.add(id);
    const c = advisory.conditions.find((x) => x.id === id);
    if (c?.kind === "agent-fact") out.set(c.id, c);
    if (c?.kind === "all-of" || c?.kind === "any-of") for (const x of c.of) visit(x, seen);
  };
  for (const r of advisory.verdicts ?? [])
    if (r.status === "affected") for (const id of r.anyHolds ?? []) visit(id, new Set());
  return [...out.values()];
}

/**
 * Every kernel-log fact condition with its regex (what the agent keeps and counts kernel lines
 * for), once per condition id.
 */
export function kernelLogConditions(advisories: readonly Advisory[]): { id: string; pattern: RegExp }[] {
  const out = new Map<string, RegExp>();
  for (const a of advisories)
    for (const c of a.conditions)
      if (c.kind === "agent-fact" && c.fact === "kernelLog" && c.pattern !== undefined && !out.has(c.id))
        out.set(c.id, new RegExp(c.pattern));
  return [...out].map(([id, pattern]) => ({ id, pattern }));
}

/** Whether any advisory has a condition only the node agent can read. */
export function needsNodeFacts(advisories: readonly Advisory[]): boolean {
  return advisories.some((a) => a.conditions.some((c) => c.kind === "agent-fact"));
}
