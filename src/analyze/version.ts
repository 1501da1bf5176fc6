// Which version of the advisory's component runs on a node (Calico from calico-node, flannel from
// kube-flannel, as the advisory's `component` says), and whether the advisory's range covers it.
// The running pod's image is the truth; the DaemonSet template, ClusterInformation (Calico only)
// and log fingerprints are fallbacks and cross-checks, each reported with where it was read.

import type { AffectedPackage, ComponentEcosystem } from "../model/advisory.js";
import type { Evidence } from "../model/finding.js";
import type { Snapshot } from "../model/snapshot.js";
import { componentVersionFromImage, ecosystemWords, parseCalicoVersion } from "../versions/index.js";
import { matchVersion } from "../advisories/ranges.js";
import type { NodeSubject } from "./subjects.js";

export interface VersionResult {
  verdict: "in-range" | "out-of-range" | "unknown";
  text?: string;
  source?: string;
  reason: string;
  notes: Evidence[];
}

interface Candidate {
  text: string;
  source: string;
}

function fromPodOrTemplate(
  subject: NodeSubject,
  container: string,
  ecosystem: ComponentEcosystem,
): Candidate | { unparsable: string } | undefined {
  const podImage = subject.pod?.images[container];
  const image = podImage ?? subject.component?.image;
  if (!image) return undefined;
  const v = componentVersionFromImage(ecosystem, image.value);
  if (!v)
    return {
      unparsable: `image ${image.value.raw} (${image.from.ref}) carries no recognisable ${ecosystemWords(ecosystem).product} version`,
    };
  return { text: v.text, source: `image ${image.value.raw} (${image.from.ref})` };
}

function describeVerdict(
  pkg: AffectedPackage,
  c: Candidate,
  verdict: ReturnType<typeof matchVersion>,
  product: string,
): string {
  if (verdict.result === "in-range") return `${product} ${c.text} is an affected version (${verdict.range})`;
  if (verdict.result === "out-of-range") {
    return `${product} ${c.text} is not an affected version (affected: ${(pkg.versions ?? []).join(", ")})`;
  }
  return verdict.reason;
}

export function resolveNodeVersion(args: {
  subject: NodeSubject;
  snapshot: Snapshot;
  pkg: AffectedPackage | undefined;
  container: string;
  ecosystem: ComponentEcosystem;
  fingerprintVersions: string[];
}): VersionResult {
  const { subject, snapshot, pkg } = args;
  const { product, logger } = ecosystemWords(args.ecosystem);
  const notes: Evidence[] = [];
  const primary = fromPodOrTemplate(subject, args.container, args.ecosystem);
  let candidate: Candidate | undefined = primary && "text" in primary ? primary : undefined;
  // ClusterInformation records the Calico release only.
  const cluster = args.ecosystem === "calico" ? snapshot.clusterCalicoVersion : undefined;
  const clusterVersion = cluster ? parseCalicoVersion(cluster.value) : undefined;
  if (candidate && clusterVersion && clusterVersion.text !== candidate.text) {
    notes.push({
      kind: "note",
      message: `ClusterInformation says Calico ${clusterVersion.text} but ${subject.name} runs ${candidate.text} (an upgrade in progress, or a custom image)`,
      source: cluster?.from.ref,
      nodes: [subject.name],
    });
  }
  if (!candidate && clusterVersion && cluster) {
    candidate = {
      text: clusterVersion.text,
      source: `ClusterInformation default spec.calicoVersion (${cluster.from.ref})`,
    };
  }
  if (args.fingerprintVersions.length > 0) {
    const agrees =
      candidate === undefined || args.fingerprintVersions.some((v) => candidate.text.startsWith(v));
    notes.push({
      kind: "fingerprint",
      message: `${logger} log line numbers match ${product} ${args.fingerprintVersions.join(", ")}${agrees ? "" : ` — not the ${candidate?.text ?? ""} the image says`}`,
      nodes: [subject.name],
      data: { versions: args.fingerprintVersions },
    });
  }
  if (!pkg)
    // Version-dependent conditions (a Felix default) still need the version the node runs.
    return candidate
      ? {
          verdict: "unknown",
          text: candidate.text,
          source: candidate.source,
          reason: `${product} ${candidate.text} (the advisory has no ${product} version range; its conditions decide)`,
          notes,
        }
      : { verdict: "unknown", reason: `the advisory has no ${product} version ranges`, notes };
  if (!candidate) {
    const why =
      primary && "unparsable" in primary
        ? primary.unparsable
        : `no ${args.container} image found for node ${subject.name}`;
    return { verdict: "unknown", reason: why, notes };
  }
  const verdict = matchVersion(pkg, candidate.text);
  return {
    verdict: verdict.result,
    text: candidate.text,
    source: candidate.source,
    reason: describeVerdict(pkg, candidate, verdict, product),
    notes,
  };
}
