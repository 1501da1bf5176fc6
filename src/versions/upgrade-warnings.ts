// Upgrade warnings from advisory data: an advisory whose felix-feature condition has a
// version-dependent default says which Calico versions keep a node safe on their own; moving from
// one of those to a version whose default depends on the kernel (or is the exposed value) loses
// that protection. `check --upgrade-from V --calico W` reports it with the advisory's words.

import type { Advisory, FelixFeatureCondition } from "../model/advisory.js";
import { defaultRow } from "../analyze/felix-feature.js";

export interface UpgradeWarningAnswer {
  advisoryId: string;
  from: string;
  to: string;
  /** The condition that applies only when the cluster uses it (e.g. a VXLAN IPPool). */
  when?: string;
  message: string;
}

/** The default protects at this version on every kernel (a fixed value other than the exposed one). */
function protects(cond: FelixFeatureCondition, version: string): boolean | undefined {
  const row = defaultRow(cond.defaults, version);
  if (row === undefined) return undefined;
  return row.value !== undefined && row.value !== cond.equals;
}

export function upgradeWarnings(
  advisories: readonly Advisory[],
  from: string,
  targets: readonly string[],
): UpgradeWarningAnswer[] {
  const out: UpgradeWarningAnswer[] = [];
  for (const a of advisories)
    for (const w of a.upgradeWarnings ?? []) {
      const cond = a.conditions.find(
        (c): c is FelixFeatureCondition => c.kind === "felix-feature" && c.id === w.condition,
      );
      if (cond === undefined || protects(cond, from) !== true) continue;
      for (const to of targets) {
        if (protects(cond, to) !== false) continue;
        const message = w.message.replaceAll("{from}", from).replaceAll("{to}", to).replaceAll("{id}", a.id);
        out.push({ advisoryId: a.id, from, to, ...(w.when !== undefined ? { when: w.when } : {}), message });
      }
    }
  return out;
}
