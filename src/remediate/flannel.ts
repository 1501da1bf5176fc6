// Planners for a flannel that Canal (or flannel alone) runs at an affected release: the RKE2 release
// whose rke2-canal ships a fixed flannel (from the advisory's rke2 entry and its fixedIn), a
// HelmChartConfig that pins a fixed flannel image in rke2-canal until then, a patch of the
// kube-flannel image of an upstream (manifest) Canal DaemonSet or of a flannel DaemonSet installed
// on its own (kube-flannel-ds), and the upgrade of a flannel the scan could not see. Which flannel
// is affected is the advisory's; only the image each fix moves to is named here.

import { join } from "node:path";
import type { AffectedPackage } from "../model/advisory.js";
import type { KubePatchStep, ManualStep, Step } from "../model/plan.js";
import type { CalicoInstall } from "../model/snapshot.js";
import { matchVersion } from "../advisories/ranges.js";
import { flannelVersionFromImage } from "../versions/index.js";
import { minorOf } from "../versions/order.js";
import { unifiedDiff } from "./diff.js";
import { helmChartConfig, rancherChartValues, RKE2_MANIFESTS_DIR } from "./rke2.js";
import type { PlanFacts, Planner, PlannerResult } from "./types.js";

const CONTAINER = "kube-flannel";
/** rke2-canal's flannel with the fix: the tag of chart v3.27.2-build2024030802's values. */
const RKE2_FIXED_TAG = "v0.24.4-build20240321";
/** Upstream flannel with the fix, as Calico's canal.yaml pins it from v3.29.0. */
const UPSTREAM_FIXED_IMAGE = "docker.io/flannel/flannel:v0.24.4";

function flannelPackage(facts: PlanFacts): AffectedPackage | undefined {
  return facts.advisory.affected.find((p) => p.ecosystem === "flannel");
}

function rke2CanalPackage(facts: PlanFacts): AffectedPackage | undefined {
  return facts.advisory.affected.find((p) => p.ecosystem === "rke2" && p.package === "rke2-canal");
}

/** The kube-flannel image a Canal install runs (a pod's, else the template's) and its flannel release. */
function flannelOf(install: CalicoInstall): { image: string; version?: string } | undefined {
  const fact =
    install.pods.map((p) => p.images[CONTAINER]).find((i) => i !== undefined) ??
    install.containers?.[CONTAINER]?.image;
  if (fact === undefined) return undefined;
  const v = flannelVersionFromImage(fact.value);
  return { image: fact.value.raw, ...(v !== undefined ? { version: v.text } : {}) };
}

/** Whether an install runs flannel's daemon: Canal, or flannel on its own. */
function runsFlannel(install: CalicoInstall): boolean {
  return install.plugin === "canal" || install.plugin === "flannel";
}

/** Canal and flannel installs whose kube-flannel runs an affected flannel. */
function affectedInstalls(facts: PlanFacts): { install: CalicoInstall; image: string }[] {
  const pkg = flannelPackage(facts);
  if (pkg === undefined) return [];
  return (facts.snapshot?.installs ?? []).flatMap((install) => {
    const f = runsFlannel(install) ? flannelOf(install) : undefined;
    return f?.version !== undefined && matchVersion(pkg, f.version).result === "in-range"
      ? [{ install, image: f.image }]
      : [];
  });
}

function remediationText(facts: PlanFacts, id: string): { summary: string; tradeoffs?: string } {
  const r = facts.advisory.remediations.find((x) => x.id === id);
  return { summary: r?.summary ?? id, ...(r?.tradeoffs !== undefined ? { tradeoffs: r.tradeoffs } : {}) };
}

/** The first fixed RKE2 release for the running one: its minor's, else the next minor's that has one. */
function fixedRke2(
  pkg: AffectedPackage,
  running: string,
): { version: string; minorUpgrade: boolean } | undefined {
  const minor = minorOf(running);
  const own = minor === undefined ? undefined : pkg.fixedIn?.[minor.replace(/^v/, "")];
  if (own !== undefined) return { version: own, minorUpgrade: false };
  const later = Object.entries(pkg.fixedIn ?? {})
    .filter(
      ([m]) => minor !== undefined && m.localeCompare(minor.replace(/^v/, ""), "en", { numeric: true }) > 0,
    )
    .sort(([a], [b]) => a.localeCompare(b, "en", { numeric: true }))[0];
  return later === undefined ? undefined : { version: later[1], minorUpgrade: true };
}

function upgradeStep(facts: PlanFacts, running: string): Step | string {
  const pkg = rke2CanalPackage(facts);
  if (pkg === undefined) return `${facts.advisory.id} lists no RKE2 release; no RKE2 upgrade is planned.`;
  if (!(pkg.versions ?? []).includes(running))
    return `RKE2 ${running} is not a release whose rke2-canal ships an affected flannel; no RKE2 upgrade needed for ${facts.advisory.id}.`;
  const fixed = fixedRke2(pkg, running);
  if (fixed === undefined) return `No fixed RKE2 release is listed after ${running}.`;
  const managed = facts.snapshot?.rancherManaged?.value === true;
  return {
    id: "rke2-upgrade-flannel",
    remediationId: "upgrade-rke2-canal-flannel",
    kind: "manual",
    title: `Upgrade RKE2 ${running} to ${fixed.version} (rke2-canal with a fixed flannel)`,
    ...remediationText(facts, "upgrade-rke2-canal-flannel"),
    notes: [
      fixed.minorUpgrade
        ? `The ${minorOf(running) ?? "?"} line has no fixed release: ${fixed.version} is the first fixed one of the next minor, so this is a minor upgrade.`
        : `${fixed.version} is the first fixed release of the ${minorOf(running) ?? "?"} line.`,
      ...(pkg.note !== undefined ? [pkg.note.trim()] : []),
    ],
    diff: `- rke2 ${running}\n+ rke2 ${fixed.version}\n`,
    default: false,
    durable: true,
    alreadyApplied: false,
    instructions: [
      managed
        ? `Refresh Rancher's Kubernetes metadata and change the cluster's Kubernetes version in Rancher to ${fixed.version}.`
        : `Upgrade the server nodes, then the agents, to ${fixed.version} (INSTALL_RKE2_VERSION=${fixed.version}, or a system-upgrade-controller Plan).`,
    ],
  };
}

function helmChartStep(facts: PlanFacts, image: string): Step {
  const values = { flannel: { image: { tag: RKE2_FIXED_TAG } } };
  const content = helmChartConfig("rke2-canal", values, facts.advisory.id);
  const destination = `${RKE2_MANIFESTS_DIR}/rke2-canal-config.yaml`;
  const provisioned = facts.snapshot?.rancher?.provisioning.value === "provisioned";
  return {
    id: "rke2-canal-flannel-image",
    remediationId: "rke2-helmchartconfig-flannel-image",
    kind: "file-write",
    title: `Write a HelmChartConfig for rke2-canal that pins flannel ${RKE2_FIXED_TAG}`,
    ...remediationText(facts, "rke2-helmchartconfig-flannel-image"),
    notes: [
      `kube-flannel runs ${image} now.`,
      `Copy it to ${destination} on every server node; RKE2's helm controller re-applies the chart with it and rolls the canal pods.`,
      "If a HelmChartConfig named rke2-canal already exists (`kubectl -n kube-system get helmchartconfig rke2-canal -o yaml`), merge these values into its valuesContent instead: there can be only one.",
      ...(provisioned
        ? [
            `Rancher provisioned this cluster: set the values in its spec.rkeConfig.chartValues instead:\n${rancherChartValues("rke2-canal", values)}`,
          ]
        : []),
      "Remove it after the RKE2 upgrade, so the chart's own flannel is used again.",
    ],
    diff: unifiedDiff("", content, destination),
    default: true,
    durable: true,
    alreadyApplied: false,
    path: join(facts.options.outputDir, "rke2-canal-config.yaml"),
    destination,
    content,
  };
}

/** What differs between patching Canal's kube-flannel and a flannel DaemonSet's. */
const PATCH_FORMS = {
  canal: {
    remediationId: "canal-flannel-image-patch",
    keep: "Make the same change in the manifest you apply (or use canal.yaml of Calico v3.29.0 or later), or the next apply reverts it.",
    extra: [] as string[],
  },
  flannel: {
    remediationId: "flannel-daemonset-image-patch",
    keep: "Make the same change in the kube-flannel.yml you apply (or apply flannel v0.24.4's or a later one), or the next apply reverts it.",
    extra: [
      "Only the kube-flannel container changes; an install-cni init container keeps its image (it only copies the CNI configuration at start).",
    ],
  },
} as const;

function patchStep(facts: PlanFacts, install: CalicoInstall, image: string): KubePatchStep {
  const ref = `${install.namespace}/${install.name}`;
  const render = (img: string): string => `spec.template.spec.containers[${CONTAINER}]:\n  image: ${img}\n`;
  const form = install.plugin === "flannel" ? PATCH_FORMS.flannel : PATCH_FORMS.canal;
  return {
    id: `flannel-image-${install.namespace}-${install.name}`,
    remediationId: form.remediationId,
    kind: "kube-patch",
    title: `Set the kube-flannel image of DaemonSet ${ref} to ${UPSTREAM_FIXED_IMAGE}`,
    ...remediationText(facts, form.remediationId),
    notes: [`It runs ${image} now; the DaemonSet rolls its pods after the change.`, form.keep, ...form.extra],
    diff: unifiedDiff(render(image), render(UPSTREAM_FIXED_IMAGE), `DaemonSet/${ref}`),
    default: true,
    durable: true,
    alreadyApplied: false,
    target: {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      plural: "daemonsets",
      namespace: install.namespace,
      name: install.name,
    },
    patchType: "strategic",
    patch: {
      spec: { template: { spec: { containers: [{ name: CONTAINER, image: UPSTREAM_FIXED_IMAGE }] } } },
    },
    expect: [
      {
        path: ["spec", "template", "spec", "containers", { name: CONTAINER }, "image"],
        value: UPSTREAM_FIXED_IMAGE,
      },
    ],
  };
}

function standaloneStep(facts: PlanFacts): ManualStep {
  return {
    id: "flannel-standalone-upgrade",
    remediationId: "upgrade-standalone-flannel",
    kind: "manual",
    title: "If flannel runs on its own (kube-flannel-ds), upgrade it to v0.24.4 or later",
    ...remediationText(facts, "upgrade-standalone-flannel"),
    notes: [
      "No Canal or flannel DaemonSet was found (a flannel embedded in k3s, or one the scan could not read): check the flannel image yourself.",
    ],
    diff: "",
    default: false,
    durable: true,
    alreadyApplied: false,
    instructions: [
      "kubectl -n kube-flannel get ds kube-flannel-ds -o jsonpath='{.spec.template.spec.containers[*].image}'",
      "If it shows flannel v0.24.3, apply kube-flannel.yml (or the Helm chart) of flannel v0.24.4 or later.",
    ],
  };
}

export function planFlannel(facts: PlanFacts): PlannerResult {
  const snapshot = facts.snapshot;
  if (snapshot === undefined) return { steps: [], notes: [] };
  if (!snapshot.installs.some(runsFlannel)) return { steps: [standaloneStep(facts)], notes: [] };
  const steps: Step[] = [];
  const notes: string[] = [];
  const affected = affectedInstalls(facts);
  // The RKE2 upgrade fixes rke2-canal's flannel; a flannel install alone has its own fix below.
  if (snapshot.distribution?.value === "rke2" && snapshot.installs.some((i) => i.plugin === "canal")) {
    const version = snapshot.nodes.find((n) => n.kubeletVersion?.includes("+rke2") === true)?.kubeletVersion;
    if (version === undefined)
      notes.push("No node reports an RKE2 kubelet version; cannot choose the fixed RKE2 release.");
    else {
      const up = upgradeStep(facts, version);
      if (typeof up === "string") notes.push(up);
      else steps.push(up);
    }
  }
  for (const { install, image } of affected) {
    if (install.managedBy === "rke2-canal-chart") steps.push(helmChartStep(facts, image));
    else if (install.managedBy === "rke2-flannel-chart")
      notes.push(
        `${install.namespace}/${install.name} runs ${image}, and the rke2-flannel chart would revert a patch of the DaemonSet: set flannel.image in a HelmChartConfig named rke2-flannel instead.`,
      );
    else if (install.managedBy === "manifest") steps.push(patchStep(facts, install, image));
    else if (install.managedBy === "rke1-addon")
      notes.push(
        `${install.namespace}/${install.name} runs ${image}, and \`rke up\` re-renders RKE1's ${install.plugin} add-on from cluster.yml: set system_images.${install.plugin === "canal" ? "canal_flannel" : "flannel"} to a fixed flannel there (through Rancher: Edit as YAML), not a patch of the DaemonSet.`,
      );
    else
      notes.push(
        `${install.namespace}/${install.name} runs ${image}, and its ${install.managedBy} would revert a patch of the DaemonSet: change the image where that manager takes it from.`,
      );
  }
  if (affected.length === 0)
    notes.push(
      snapshot.installs.some((i) => i.plugin === "flannel")
        ? "No Canal or flannel install runs an affected flannel; the image pin and DaemonSet patch are not needed."
        : "No Canal install runs an affected flannel; the image pin and DaemonSet patch are not needed.",
    );
  return { steps, notes };
}

export const flannelPlanner: Planner = {
  name: "flannel",
  implements: [
    "upgrade-rke2-canal-flannel",
    "rke2-helmchartconfig-flannel-image",
    "canal-flannel-image-patch",
    "flannel-daemonset-image-patch",
    "upgrade-standalone-flannel",
  ],
  plan: planFlannel,
};
