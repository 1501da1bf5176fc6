// The version gate's question and answer shapes, and the helpers every judge in the gate builds an
// answer with: the Calico-range judge (gate.ts) and the judge of advisories that carry their own
// release lists and component ranges (gate-own-data.ts) share them.

import type { Advisory, ComponentEcosystem } from "../model/advisory.js";
import type { Rke1ImageKey, VersionTables } from "./tables.js";

export type GateKind = "calico" | "flannel" | "rke1" | "rke2" | "rancher" | "rke-cli";
export type GateVerdict = "affected" | "conditional" | "not-affected" | "unknown";

export interface GateQuery {
  kind: GateKind;
  version: string;
  /** rke1: network plugin (calico|canal); rke2: CNI chart (canal|calico|flannel). */
  variant?: string;
  /** Where the version came from when not a flag, e.g. "cluster.yml kubernetes_version". */
  origin?: string;
}

/** A component release an answer judged, and the image it was read from (RKE1 system images). */
export interface GateComponent {
  ecosystem: ComponentEcosystem;
  version: string;
  image?: string;
  imageKey?: Rke1ImageKey;
}

export interface GateAlternative {
  version: string;
  /** "" when the advisory is not judged by Calico release. */
  calicoVersion: string;
  /** Who offers it, e.g. "Rancher v2.10.0 (channel v2.9.0-alpha1..v2.10.99)". */
  offeredBy?: string;
  /** The component release it carries, for advisories judged by a component's release. */
  component?: GateComponent;
}

/** An affected version whose own release line has no fixed release, and the next line that has one. */
export interface GateNoFixInLine {
  line: string;
  next?: { line: string; version: string };
}

export interface GateAnswer {
  query: GateQuery;
  advisoryId: string;
  verdict: GateVerdict;
  calicoVersion?: string;
  reason: string;
  /** Advisory conditions that keep a default install from being exposed. */
  unmetConditions: string[];
  sources: string[];
  fixed?: GateAlternative;
  /** Set instead of `fixed` when the advisory names no fixed release of the version's line. */
  noFixInLine?: GateNoFixInLine;
  /** The component release the answer judged (advisories not judged by Calico release). */
  component?: GateComponent;
  /** The advisory lists the version as unverified (its sources do not settle it). */
  unverified?: boolean;
  /** rancher / rke-cli: the Kubernetes versions it offers, by the advisory's status. */
  offered?: { distribution: "rke1" | "rke2"; affected: string[]; fixed: string[] }[];
}

/** What the user runs alongside, narrowing which alternatives are offered. */
export interface GateContext {
  rancher?: string;
  rkeCli?: string;
}

export function sourceOf(tables: VersionTables, table: string): string {
  const kdm = tables.kdmOrigin;
  return kdm === undefined ? `data/${table}` : `data/${table} extended by ${kdm}`;
}

export function answer(
  q: GateQuery,
  advisory: Advisory,
  fields: Omit<GateAnswer, "query" | "advisoryId" | "unmetConditions"> & { unmetConditions?: string[] },
): GateAnswer {
  return { query: q, advisoryId: advisory.id, unmetConditions: [], ...fields };
}
