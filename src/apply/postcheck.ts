// The post-check: the diagnosis re-run after apply, compared node by node with the one before.

import type { Diagnosis } from "../analyze/diagnose.js";
import type { Status } from "../model/finding.js";

const RANK: Record<Status, number> = { affected: 3, "at-risk": 2, unknown: 1, "not-affected": 0 };

export interface PostCheck {
  improved: string[];
  worse: string[];
  unchanged: string[];
  lines: string[];
}

export function comparePostCheck(before: Diagnosis, after: Diagnosis): PostCheck {
  const prior = new Map(before.verdicts.map((v) => [v.subject, v.status]));
  const result: PostCheck = { improved: [], worse: [], unchanged: [], lines: [] };
  for (const v of after.verdicts) {
    const was = prior.get(v.subject);
    if (was === undefined) continue;
    const line = `${v.subject}: ${was} → ${v.status}`;
    if (RANK[v.status] < RANK[was]) result.improved.push(line);
    else if (RANK[v.status] > RANK[was]) result.worse.push(line);
    else
      result.unchanged.push(
        `${line}${v.status === "affected" ? " (the signature is still in its calico-node log)" : ""}`,
      );
  }
  const n = after.verdicts.length;
  result.lines.push(
    `post-check: ${result.improved.length} of ${n} node(s) improved, ${result.worse.length} worse, ${result.unchanged.length} unchanged`,
    ...result.improved.map((l) => `  improved  ${l}`),
    ...result.worse.map((l) => `  WORSE     ${l}`),
    ...result.unchanged.map((l) => `  unchanged ${l}`),
  );
  return result;
}
