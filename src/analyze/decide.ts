// The status rules, as one pure function over already-evaluated inputs, so every combination can be
// table-tested:
//   1. the symptom is seen                         -> affected (contradictions become notes)
//   2. the version is known and outside the range  -> not-affected
//   3. a required condition is known to be false   -> not-affected
//   4. the version or a required condition unknown -> unknown
//   5. otherwise                                   -> at-risk

import type { Status } from "../model/finding.js";
import type { ConditionResult } from "./conditions.js";

export interface DecisionInput {
  version: { verdict: "in-range" | "out-of-range" | "unknown"; text?: string; reason: string };
  conditions: ConditionResult[];
  symptomSeen: boolean;
  symptomReason?: string;
}

export interface Decision {
  status: Status;
  reasons: string[];
  /** Checks whose missing data this decision depended on. */
  dependsOn: string[];
}

export function decideStatus(input: DecisionInput): Decision {
  const required = input.conditions.filter((c) => c.required);
  const failed = required.filter((c) => c.holds === false);
  const undecided = required.filter((c) => c.holds === undefined);
  const assumed = required.filter((c) => c.assumed).map((c) => c.needs ?? c.id);

  if (input.symptomSeen) {
    const reasons = [input.symptomReason ?? "the log signature of this problem was seen"];
    if (input.version.verdict === "out-of-range") {
      reasons.push(
        `note: ${input.version.reason}, yet the symptom is present — the image tag may not reflect the running build`,
      );
    } else if (input.version.verdict === "unknown") {
      reasons.push(
        `note: the Calico version is not recognised (${input.version.reason}); the symptom alone decides`,
      );
    }
    for (const c of failed)
      reasons.push(
        `note: ${c.message}, yet the symptom is present — the setting may have changed after these lines were logged`,
      );
    return { status: "affected", reasons, dependsOn: [] };
  }
  if (input.version.verdict === "out-of-range") {
    return { status: "not-affected", reasons: [input.version.reason], dependsOn: [] };
  }
  if (failed.length > 0) {
    return { status: "not-affected", reasons: failed.map((c) => c.message), dependsOn: [] };
  }
  if (input.version.verdict === "unknown" || undecided.length > 0) {
    const reasons = [
      ...(input.version.verdict === "unknown" ? [input.version.reason] : []),
      ...undecided.map((c) => c.message),
    ];
    const dependsOn = [
      ...(input.version.verdict === "unknown" ? ["calico-version"] : []),
      ...undecided.map((c) => c.needs ?? c.id),
    ];
    return { status: "unknown", reasons, dependsOn };
  }
  const reasons = [input.version.reason, ...required.map((c) => c.message), "the log signature was not seen"];
  return { status: "at-risk", reasons, dependsOn: [...new Set(assumed)] };
}
