// An advisory's own status rules over its condition results, for problems detected from settings
// and node facts rather than from a version range and an error line. The first rule whose tests
// pass decides; an at-risk rule lists the corroborating facts that were missing and why each was
// (not seen, or not available in this kind of scan), so "at risk" always says what would settle it.

import type { VerdictRule } from "../model/advisory.js";
import type { Status } from "../model/finding.js";
import type { ConditionResult } from "./condition-result.js";
import { obtainText } from "./fact-hints.js";

export interface RuleDecision {
  rule?: string;
  status: Status;
  reasons: string[];
  dependsOn: string[];
}

function passes(rule: VerdictRule, byId: ReadonlyMap<string, ConditionResult>): boolean {
  const is = (id: string, v: boolean | undefined): boolean => {
    const r = byId.get(id);
    return r !== undefined && r.holds === v;
  };
  return (
    (rule.holds ?? []).every((id) => is(id, true)) &&
    (rule.fails ?? []).every((id) => is(id, false)) &&
    (rule.undecided ?? []).every((id) => is(id, undefined)) &&
    (rule.anyHolds === undefined || rule.anyHolds.some((id) => is(id, true)))
  );
}

function line(r: ConditionResult): string {
  return `${r.id}: ${r.message}`;
}

export function applyVerdictRules(
  rules: readonly VerdictRule[],
  results: readonly ConditionResult[],
): RuleDecision {
  const byId = new Map(results.map((r) => [r.id, r]));
  for (const rule of rules) {
    if (!passes(rule, byId)) continue;
    const decisive = [...(rule.holds ?? []), ...(rule.fails ?? []), ...(rule.anyHolds ?? [])]
      .map((id) => byId.get(id))
      .filter(
        (r): r is ConditionResult => r !== undefined && (r.holds !== undefined || rule.status === "unknown"),
      );
    const undecided = (rule.undecided ?? []).map((id) => byId.get(id)).filter((r) => r !== undefined);
    const missing = (rule.missing ?? [])
      .map((id) => byId.get(id))
      .filter((r): r is ConditionResult => r !== undefined && r.holds !== true);
    const reasons = [rule.reason];
    if (rule.anyHolds !== undefined) {
      const seen = rule.anyHolds.map((id) => byId.get(id)).filter((r) => r?.holds === true);
      reasons.push(...seen.map((r) => `corroborated by ${r ? line(r) : ""}`));
    }
    reasons.push(...undecided.map((r) => `undecided: ${line(r)}`));
    if (missing.length > 0) {
      // One "how to read them" per distinct hint, after the list, not once per fact.
      const hints = [
        ...new Set(missing.flatMap((r) => (r.obtain !== undefined ? [obtainText(r.obtain)] : []))),
      ];
      reasons.push(
        `${rule.status === "at-risk" ? "not corroborated" : "not shown"}; missing: ${missing
          .map(
            (r) =>
              `${r.id} (${r.unavailable === true ? "not available: " : r.holds === undefined ? "not read: " : "not seen: "}${r.message})`,
          )
          .join("; ")}${hints.map((h) => `; ${h}`).join("")}`,
      );
    }
    // Missing corroboration is said in the reasons but is no coverage gap: at risk and affected
    // call for the same remediation. An assumed value behind a finding is one.
    const found = rule.status === "affected" || rule.status === "at-risk";
    const dependsOn = [
      ...undecided.map((r) => r.needs ?? r.id),
      ...(found ? decisive.filter((r) => r.assumed).map((r) => r.needs ?? r.id) : []),
    ];
    return { rule: rule.id, status: rule.status, reasons, dependsOn: [...new Set(dependsOn)] };
  }
  const open = results.filter((r) => r.holds === undefined && r.required);
  return {
    status: "unknown",
    reasons: ["none of the advisory's status rules applies", ...open.map((r) => `undecided: ${line(r)}`)],
    dependsOn: [...new Set(open.map((r) => r.needs ?? r.id))],
  };
}
