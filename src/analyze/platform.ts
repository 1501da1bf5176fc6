// The platform section of a scan: which RKE1/RKE2 release the cluster runs, answered by the same
// version gate as `cnidoctor check` (so scan, plan and check share one version logic), narrowed to
// the fixed releases the cluster's Rancher offers when that is known.

import type { Advisory } from "../model/advisory.js";
import type { Platform, PlatformGate } from "../model/finding.js";
import type { Fact } from "../model/provenance.js";
import type { Snapshot } from "../model/snapshot.js";
import { checkVersions, judgedByCalicoRange, type GateAnswer, type GateQuery } from "../versions/gate.js";
import { compareVersionNames } from "../versions/order.js";
import type { VersionTables } from "../versions/tables.js";

/** RKE1's name for a kubelet version: v1.30.3 is v1.30.3-rancher1-1 (the newest build of that patch). */
export function rke1VersionOfKubelet(tables: VersionTables, kubelet: string | undefined): string | undefined {
  if (kubelet === undefined) return undefined;
  return Object.keys(tables.rke1Kubernetes)
    .filter((v) => v.startsWith(`${kubelet}-rancher`))
    .sort(compareVersionNames)
    .at(-1);
}

/** The RKE2 release or RKE1 Kubernetes version the cluster runs, with the CNI variant. */
function platformQueries(snapshot: Snapshot, tables: VersionTables): { queries: GateQuery[]; from?: string } {
  const distribution = snapshot.distribution?.value;
  const node = snapshot.nodes.find((n) => n.kubeletVersion !== undefined);
  if (distribution === "rke2") {
    const release = snapshot.nodes.find((n) => n.kubeletVersion?.includes("+rke2") === true);
    if (release?.kubeletVersion === undefined) return { queries: [] };
    // The gate answers for RKE2's Calico charts; a flannel install (rke2-flannel) runs no Calico.
    const calicoInstalls = snapshot.installs.filter((i) => i.plugin !== "flannel");
    if (calicoInstalls.length === 0 && snapshot.installs.length > 0) return { queries: [] };
    const variants = new Set(
      calicoInstalls.map((i) => (i.managedBy === "rke2-calico-chart" ? "calico" : "canal")),
    );
    return {
      queries: [...(variants.size > 0 ? variants : new Set(["canal"]))].map((variant) => ({
        kind: "rke2",
        version: release.kubeletVersion ?? "",
        variant,
        origin: `node ${release.name} kubeletVersion`,
      })),
      from: `node ${release.name} status.nodeInfo.kubeletVersion`,
    };
  }
  if (distribution === "rke1") {
    const pinned = snapshot.rkeConfig?.kubernetesVersion;
    const kubelet = node?.kubeletVersion;
    const version = pinned ?? rke1VersionOfKubelet(tables, kubelet);
    if (version === undefined) return { queries: [] };
    const first = snapshot.installs.find((i) => i.plugin !== "flannel")?.plugin;
    const plugin = first === "calico" ? "calico" : "canal";
    return {
      queries: [{ kind: "rke1", version, variant: plugin }],
      from:
        pinned !== undefined
          ? `${snapshot.rkeConfig?.path ?? "cluster.yml"} kubernetes_version`
          : `node ${node?.name ?? "?"} kubeletVersion ${kubelet ?? "?"}`,
    };
  }
  return { queries: [] };
}

function gateOf(a: GateAnswer): PlatformGate {
  const what = a.query.kind === "rke2" ? "RKE2" : "RKE1";
  const variant =
    a.query.kind === "rke2" ? `rke2-${a.query.variant ?? "canal"}` : (a.query.variant ?? "canal");
  return {
    checked: `${what} ${a.query.version} (${variant})`,
    advisoryId: a.advisoryId,
    verdict: a.verdict,
    ...(a.calicoVersion !== undefined ? { calicoVersion: a.calicoVersion } : {}),
    reason: a.reason,
    ...(a.fixed !== undefined
      ? {
          fixed: {
            version: a.fixed.version,
            ...(a.fixed.offeredBy !== undefined ? { offeredBy: a.fixed.offeredBy } : {}),
          },
        }
      : {}),
    ...(a.unverified === true ? { unverified: true } : {}),
  };
}

export function platformSection(
  snapshot: Snapshot,
  advisories: Advisory[],
  tables: VersionTables,
  rancherVersion: Fact<string> | undefined,
): Platform {
  const { queries, from } = platformQueries(snapshot, tables);
  // The platform section answers by Calico release only: the report's gate rows carry Calico
  // fields, and the advisories judged by their own release lists are not part of it (yet).
  const answers = checkVersions(
    queries,
    advisories.filter(judgedByCalicoRange),
    tables,
    rancherVersion !== undefined ? { rancher: rancherVersion.value } : {},
  );
  const r = snapshot.rancher;
  const rancher =
    rancherVersion !== undefined || r !== undefined
      ? {
          ...(rancherVersion !== undefined
            ? { version: rancherVersion.value, versionFrom: rancherVersion.from.ref }
            : {}),
          ...(r !== undefined
            ? { provisioning: r.provisioning.value, provisioningFrom: r.provisioning.from.ref }
            : {}),
        }
      : undefined;
  return {
    ...(queries[0] !== undefined ? { release: queries[0].version } : {}),
    ...(from !== undefined ? { releaseFrom: from } : {}),
    ...(rancher !== undefined ? { rancher } : {}),
    ...(tables.kdmOrigin !== undefined
      ? { kdm: { origin: tables.kdmOrigin, overrides: tables.kdmOverrides ?? [] } }
      : {}),
    gate: answers.map(gateOf),
  };
}
