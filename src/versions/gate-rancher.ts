// The gate's answer for a Rancher version: whether the advisory's Rancher entry lists it, and what
// that Rancher offers (with refreshed metadata) split into affected and fixed releases. How an
// offered release is classified is the caller's: by Calico release, or by the advisory's own lists.

import type { Advisory } from "../model/advisory.js";
import { matchVersion } from "../advisories/ranges.js";
import { minorOf } from "./order.js";
import { compareRancher } from "./rancher.js";
import type { VersionTables } from "./tables.js";
import { answer, sourceOf, type GateAnswer, type GateQuery, type GateVerdict } from "./gate-answer.js";

export interface OfferedSplit {
  affected: string[];
  fixed: string[];
}

/** What one Rancher version offers, classified, and what each split was judged by. */
export interface RancherOffers {
  rke1: OfferedSplit;
  rke2: OfferedSplit;
  /** Appended to "RKE1 versions" in the reason, e.g. " (canal_flannel image)"; "" for none. */
  rke1Basis: string;
  /** Appended to "RKE2 releases", e.g. " (rke2-calico)". */
  rke2Basis: string;
}

/**
 * The answer for Rancher `q.version`. `offers` runs only for a readable Rancher version; the
 * advisory's `rancher` entry decides the verdict (unknown without one).
 */
export function rancherAnswer(
  q: GateQuery,
  advisory: Advisory,
  tables: VersionTables,
  offers: (rancher: string) => RancherOffers,
): GateAnswer {
  if (compareRancher(q.version, "v0.0.0") === undefined)
    return answer(q, advisory, {
      verdict: "unknown",
      reason: `'${q.version}' is not a Rancher version (expected e.g. v2.9.1)`,
      sources: [],
    });
  const { rke1, rke2, rke1Basis, rke2Basis } = offers(q.version);
  const pkg = advisory.affected.find((p) => p.ecosystem === "rancher");
  const eco = pkg === undefined ? undefined : { pkg, match: matchVersion(pkg, q.version) };
  const listed = eco?.match.result === "in-range";
  const verdict: GateVerdict = eco === undefined ? "unknown" : listed ? "affected" : "not-affected";
  const lines = [
    listed
      ? `${advisory.id} lists Rancher ${q.version}${eco.match.result === "in-range" ? ` (${eco.match.range})` : ""}`
      : `${advisory.id} does not list Rancher ${q.version}`,
    `with refreshed metadata it offers ${rke1.affected.length} affected and ${rke1.fixed.length} fixed RKE1 versions${rke1Basis}, ${rke2.affected.length} affected and ${rke2.fixed.length} fixed RKE2 releases${rke2Basis}; affected ones stay selectable, so pick a fixed one`,
  ];
  const fixedLine = eco?.pkg.fixedIn?.[minorOf(q.version) ?? ""];
  const bare = (v: string): string => v.replace(/^v/, "");
  const unverified = listed && (eco.pkg.unverified ?? []).some((u) => bare(u) === bare(q.version.trim()));
  if (unverified) lines[0] = `${lines[0]} as unverified`;
  return answer(q, advisory, {
    verdict,
    ...(unverified ? { unverified: true } : {}),
    reason: `${lines.join("; ")}.${eco?.pkg.note !== undefined ? ` ${eco.pkg.note.trim()}` : ""}`,
    sources: [
      `${advisory.id} affected[rancher]`,
      sourceOf(tables, "k8s-version-info.json"),
      sourceOf(tables, "rke1-kubernetes.json"),
      sourceOf(tables, "rke2-releases.json"),
    ],
    offered: [
      { distribution: "rke1", ...rke1 },
      { distribution: "rke2", ...rke2 },
    ],
    ...(listed && fixedLine !== undefined ? { fixed: { version: fixedLine, calicoVersion: "" } } : {}),
  });
}
