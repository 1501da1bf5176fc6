// RKE1 planners: pin the fixed Calico/Canal images in cluster.yml `system_images` (comment- and
// format-preserving), and propose the smallest fixed kubernetes_version of the same minor. A file
// with `rancher_kubernetes_engine_config` is Rancher's cluster spec: the change is shown for Rancher
// and never applied to the file, because Rancher would revert anything not made through it.

import { createHash } from "node:crypto";
import { basename } from "node:path";
import { parseRkeClusterConfig } from "../collect/bundle/rke-config.js";
import type { ManualStep, Step } from "../model/plan.js";
import type { RkeClusterConfig } from "../model/snapshot.js";
import type { Advisory } from "../model/advisory.js";
import { calicoStatus, smallestFixedRke1 } from "../versions/gate.js";
import { calicoVersionFromImage, parseImageRef } from "../versions/image.js";
import {
  defaultVersionTables,
  RKE1_IMAGE_KEYS,
  rke1FixedVersionFor,
  type Rke1FixedTarget,
  type Rke1ImageKey,
  type VersionTables,
} from "../versions/tables.js";
import { rke1VersionOfKubelet } from "../analyze/platform.js";
import { unifiedDiff } from "./diff.js";
import { setKubernetesVersion, setSystemImages, YamlEditError } from "./rke1-yaml.js";
import type { PlanFacts, Planner, PlannerResult } from "./types.js";

export function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** The image keys for a plugin, in RKE's own order. */
export function imageKeysFor(plugin: "calico" | "canal"): Rke1ImageKey[] {
  return RKE1_IMAGE_KEYS.filter((k) => k.startsWith(`${plugin}_`));
}

/** Keep a registry host the operator already uses for that key (air-gapped mirrors). */
function withRegistryOf(current: string | undefined, fixed: string): string {
  if (current === undefined) return fixed;
  const ref = parseImageRef(current);
  return ref?.registry !== undefined ? `${ref.registry}/${fixed}` : fixed;
}

/** The Calico flavour of the first Calico or Canal install the scan found (a flannel one has none). */
function calicoPluginOf(facts: PlanFacts): "calico" | "canal" | undefined {
  const p = facts.snapshot?.installs.find((i) => i.plugin !== "flannel")?.plugin;
  return p === "flannel" ? undefined : p;
}

function pluginOf(config: RkeClusterConfig, facts: PlanFacts): "calico" | "canal" | undefined {
  const p = (config.networkPlugin ?? "").trim();
  if (p === "calico" || p === "canal") return p;
  if (p !== "") return undefined;
  // RKE's default network plugin is canal; a running install, when known, is the better witness.
  return calicoPluginOf(facts) ?? "canal";
}

function tablesOf(facts: PlanFacts): VersionTables {
  return facts.tables ?? defaultVersionTables();
}

function versionStatus(facts: PlanFacts, k8s: string): string | undefined {
  return tablesOf(facts).rke1Kubernetes[k8s.trim()]?.status;
}

/** A pinned image whose Calico release the advisory's ranges call affected. */
function pinnedAffected(config: RkeClusterConfig, keys: Rke1ImageKey[], advisory: Advisory): boolean {
  return keys.some((k) => {
    const ref = parseImageRef(config.systemImages[k] ?? "");
    const v = ref === undefined ? undefined : calicoVersionFromImage(ref);
    return v !== undefined && calicoStatus(advisory, v.text).status === "affected";
  });
}

function releaseGate(target: Rke1FixedTarget): string {
  const rke = target.minRkeCli ?? target.minRkeForMinor ?? "a release that lists it";
  const rancher = target.minRancher.length > 0 ? target.minRancher.join(" / ") : "a Rancher that lists it";
  return `RKE CLI ${rke} or later, or Rancher ${rancher} or later`;
}

/** What a Rancher needs to offer the fixed version: its minor's gate, refreshed metadata. */
function rancherGate(target: Rke1FixedTarget): string {
  return `Rancher ${target.minRancherForMinor?.replace(/-patch0$/, "") ?? "?"} or later${target.firstSeen !== undefined ? ` with Kubernetes metadata refreshed after ${target.firstSeen}` : ""} (the version first shipped with Rancher ${target.minRancher.join(" / ") || "?"})`;
}

function pinStep(
  facts: PlanFacts,
  config: RkeClusterConfig,
  text: string,
  plugin: "calico" | "canal",
  target: Rke1FixedTarget,
): Step {
  const remediation = facts.advisory.remediations.find((r) => r.id === "pin-rke1-system-images");
  const keys = imageKeysFor(plugin);
  const wanted = keys.map((k): [string, string] => [
    k,
    withRegistryOf(config.systemImages[k], target.systemImages[k]),
  ]);
  const scope = config.rancherManaged ? "rancher_kubernetes_engine_config.system_images" : "system_images";
  const edited = setSystemImages(text, wanted, config.rancherManaged);
  const diff = unifiedDiff(text, edited.text, basename(config.path));
  const other = plugin === "canal" ? "calico" : "canal";
  const notes = [
    `Every ${plugin}_* key is set to the Calico ${target.calicoVersion} images of ${target.k8sVersion} (CNI image rancher/calico-cni:${target.calicoVersion}-rancher1).`,
    "The add-on manifest template stays the one of your Kubernetes version; only the images change (untested upstream). Prefer the Kubernetes version upgrade when you can.",
  ];
  if (imageKeysFor(other).some((k) => config.systemImages[k] !== undefined))
    notes.push(
      `${other}_* keys are also set in ${scope}; they are not used by the ${plugin} plugin and are left alone.`,
    );
  const base = {
    id: "rke1-pin-system-images",
    remediationId: "pin-rke1-system-images",
    title: `Pin the fixed ${plugin} images in ${scope}`,
    summary: remediation?.summary ?? "Pin fixed Calico images.",
    ...(remediation?.tradeoffs !== undefined ? { tradeoffs: remediation.tradeoffs } : {}),
    diff,
    durable: true,
    alreadyApplied: edited.changed.length === 0,
  };
  if (!config.rancherManaged) {
    notes.push(`Then run \`rke up --config ${config.path}\` (with cluster.rkestate next to it).`);
    return {
      ...base,
      kind: "file-edit",
      path: config.path,
      beforeSha256: sha256(text),
      after: edited.text,
      notes,
      default: true,
    };
  }
  notes.push(
    "This is Rancher's cluster spec: apply the change through Rancher (Cluster Management → Edit Config → Edit as YAML, the Rancher API, or your Terraform rke_config). Rancher reconciles the cluster from its own spec and reverts any change made elsewhere, so cnidoctor never applies it.",
  );
  const manual: ManualStep = {
    ...base,
    kind: "manual",
    notes,
    default: false,
    instructions: [
      `In Rancher, edit the cluster's YAML and set ${scope} as in the diff:`,
      ...wanted.map(([k, v]) => `  ${k}: ${v}`),
      "Save; Rancher runs the update. Then re-run cnidoctor against the cluster.",
    ],
  };
  return manual;
}

/** Rancher manages this RKE1 cluster when the file is Rancher's spec or the cluster shows Rancher's agent. */
function rancherSide(facts: PlanFacts, config: RkeClusterConfig): "spec" | "cluster" | undefined {
  if (config.rancherManaged) return "spec";
  return facts.snapshot?.rancherManaged?.value === true ? "cluster" : undefined;
}

/** What both RKE1 upgrade steps (from a cluster.yml, or from the cluster alone) start with. */
function upgradeStepHead(
  facts: PlanFacts,
  current: string,
  target: Rke1FixedTarget,
): Pick<ManualStep, "id" | "remediationId" | "kind" | "title" | "summary" | "tradeoffs"> {
  const remediation = facts.advisory.remediations.find((r) => r.id === "upgrade-rke1-kubernetes");
  return {
    id: "rke1-upgrade-kubernetes",
    remediationId: "upgrade-rke1-kubernetes",
    kind: "manual",
    title: `Move Kubernetes ${current} to ${target.k8sVersion} (Calico ${target.calicoVersion})`,
    summary: remediation?.summary ?? "Upgrade to a fixed Kubernetes version.",
    ...(remediation?.tradeoffs !== undefined ? { tradeoffs: remediation.tradeoffs } : {}),
  };
}

function upgradeStep(
  facts: PlanFacts,
  config: RkeClusterConfig,
  text: string,
  current: string,
  target: Rke1FixedTarget,
): ManualStep {
  const edited = setKubernetesVersion(text, target.k8sVersion, config.rancherManaged);
  const rancher = rancherSide(facts, config);
  const rancherGateText = rancherGate(target);
  const cli = `Check the tool first: \`rke --version\` must be ${target.minRkeCli ?? "recent enough"} or later.`;
  const instructions =
    rancher === "spec"
      ? [
          "Change the cluster's Kubernetes version in Rancher (Edit Config); never in a local copy of the spec.",
          `Rancher-managed RKE1: no RKE CLI is involved; ${target.k8sVersion} needs ${rancherGateText}.`,
        ]
      : rancher === "cluster"
        ? [
            `If Rancher provisioned this cluster: change its Kubernetes version in Rancher (Edit Config); no RKE CLI is involved, and ${target.k8sVersion} needs ${rancherGateText}.`,
            `If it was built with the RKE CLI (and only imported into Rancher): set kubernetes_version in ${config.path} and run \`rke up --config ${config.path}\`. ${cli}`,
          ]
        : [`Set kubernetes_version in ${config.path} and run \`rke up --config ${config.path}\`.`, cli];
  const gate = rancher === "spec" ? rancherGateText : releaseGate(target);
  return {
    ...upgradeStepHead(facts, current, target),
    notes: [
      `${target.k8sVersion} is the smallest ${current.split(".").slice(0, 2).join(".")} release with a fixed Calico${facts.rancherVersion !== undefined ? ` that Rancher ${facts.rancherVersion.value} offers` : ""}; it needs ${gate}.`,
      "Kubernetes downgrades are not supported: staying on the same minor is the only upgrade path offered here.",
    ],
    diff: unifiedDiff(text, edited, basename(config.path)),
    default: false,
    durable: true,
    alreadyApplied: false,
    instructions,
  };
}

/** The fixed target, narrowed to what the known Rancher offers. */
function fixedTarget(
  facts: PlanFacts,
  current: string,
  plugin: "calico" | "canal",
): Rke1FixedTarget | undefined {
  const tables = tablesOf(facts);
  const base = rke1FixedVersionFor(current, tables);
  const rancher = facts.rancherVersion?.value;
  if (base === undefined || rancher === undefined) return base;
  const alt = smallestFixedRke1(facts.advisory, tables, current, plugin, rancher);
  if (alt === undefined || alt.version === base.k8sVersion) return base;
  const entry = tables.rke1Kubernetes[alt.version];
  return entry === undefined
    ? base
    : {
        ...base,
        k8sVersion: alt.version,
        calicoVersion: entry.calicoVersion,
        systemImages: entry.systemImages,
        minRancher: entry.enabledInRancher,
        ...(entry.firstSeen !== undefined ? { firstSeen: entry.firstSeen.date } : {}),
      };
}

/** The RKE1 version a cluster runs: the bundle's cluster.yml pin, else RKE1's name for the kubelet's. */
function clusterVersion(facts: PlanFacts): { current?: string; why: string } {
  const snapshot = facts.snapshot;
  const pinned = snapshot?.rkeConfig?.kubernetesVersion;
  if (pinned !== undefined)
    return {
      current: pinned,
      why: `${pinned} is the kubernetes_version of ${snapshot?.rkeConfig?.path ?? "cluster.yml"}.`,
    };
  const node = snapshot?.nodes.find((n) => n.kubeletVersion !== undefined);
  const current = rke1VersionOfKubelet(tablesOf(facts), node?.kubeletVersion);
  return current === undefined
    ? {
        why: `No RKE1 Kubernetes version is known for kubelet ${node?.kubeletVersion ?? "(none read)"}; give --rke-config (or --kdm with newer metadata) to plan the version upgrade.`,
      }
    : {
        current,
        why: `${current} is what RKE1 calls the kubelet version ${node?.kubeletVersion ?? ""} of node ${node?.name ?? ""}.`,
      };
}

function clusterInstructions(managed: boolean, target: Rke1FixedTarget): string[] {
  const cli = `Check the tool first: \`rke --version\` must be ${target.minRkeCli ?? "recent enough"} or later.`;
  return managed
    ? [
        `If Rancher provisioned this cluster: change its Kubernetes version in Rancher (Cluster Management → Edit Config) to ${target.k8sVersion}; no RKE CLI is involved, and it needs ${rancherGate(target)}.`,
        `If it was built with the RKE CLI and only imported into Rancher: set kubernetes_version: ${target.k8sVersion} in its cluster.yml and run \`rke up\`. ${cli}`,
      ]
    : [`Set kubernetes_version: ${target.k8sVersion} in the cluster's cluster.yml and run \`rke up\`.`, cli];
}

/**
 * An RKE1 cluster read without --rke-config: the Kubernetes version upgrade still applies, told
 * from the cluster; the change is made where the cluster is managed (Rancher or the RKE CLI).
 */
function planRke1Cluster(facts: PlanFacts): PlannerResult {
  const snapshot = facts.snapshot;
  if (snapshot?.distribution?.value !== "rke1") return { steps: [], notes: [] };
  const { current, why } = clusterVersion(facts);
  if (current === undefined) return { steps: [], notes: [why] };
  if (versionStatus(facts, current) !== "affected") return { steps: [], notes: [] };
  const minor = current.split(".").slice(0, 2).join(".");
  const offers =
    facts.rancherVersion !== undefined ? ` that Rancher ${facts.rancherVersion.value} offers` : "";
  const target = fixedTarget(facts, current, calicoPluginOf(facts) ?? "canal");
  if (target === undefined)
    return {
      steps: [],
      notes: [
        `No fixed RKE1 version of the ${minor} line is known${offers}; use the FelixConfiguration workaround.`,
      ],
    };
  const managed = snapshot.rancherManaged?.value === true;
  const step: ManualStep = {
    ...upgradeStepHead(facts, current, target),
    notes: [
      why,
      `${target.k8sVersion} is the smallest ${minor} release with a fixed Calico${offers}; it needs ${managed ? rancherGate(target) : releaseGate(target)}.`,
      ...(managed
        ? [
            `Rancher runs in this cluster (${snapshot.rancherManaged?.from.ref ?? "cattle-system"}); RKE1 nodes do not show whether Rancher provisioned it or it was imported.`,
          ]
        : []),
      `Give --rke-config ${snapshot.rkeConfig?.path ?? "FILE (cluster.yml, or Rancher's cluster spec)"} for the exact diff and the system_images pin.`,
    ],
    diff: `- kubernetes_version: ${current}\n+ kubernetes_version: ${target.k8sVersion}\n`,
    default: false,
    durable: true,
    alreadyApplied: false,
    instructions: clusterInstructions(managed, target),
  };
  return { steps: [step], notes: [] };
}

export function planRke1(facts: PlanFacts): PlannerResult {
  const file = facts.rkeConfig;
  if (file === undefined) return planRke1Cluster(facts);
  const parsed = parseRkeClusterConfig(file.path, file.text);
  if ("problem" in parsed) return { steps: [], notes: [`${file.path}: ${parsed.problem}`] };
  const plugin = pluginOf(parsed, facts);
  if (plugin === undefined)
    return {
      steps: [],
      notes: [
        `${file.path}: network plugin '${parsed.networkPlugin ?? ""}' is not Calico or Canal; nothing to pin.`,
      ],
    };
  const current = parsed.kubernetesVersion ?? facts.snapshot?.nodes[0]?.kubeletVersion;
  if (current === undefined)
    return {
      steps: [],
      notes: [
        `${file.path}: no kubernetes_version, and no cluster to read it from; cannot choose the fixed images.`,
      ],
    };
  const target = fixedTarget(facts, current, plugin);
  if (target === undefined)
    return {
      steps: [],
      notes: [
        `${file.path}: no fixed RKE1 release is known for the minor of ${current}; use the FelixConfiguration workaround.`,
      ],
    };
  const status = versionStatus(facts, current);
  if (
    status !== undefined &&
    status !== "affected" &&
    !pinnedAffected(parsed, imageKeysFor(plugin), facts.advisory)
  )
    return {
      steps: [],
      notes: [`${file.path}: ${current} ships a Calico that is ${status}; no image pin needed.`],
    };
  try {
    const steps = [pinStep(facts, parsed, file.text, plugin, target)];
    if (status === "affected") steps.push(upgradeStep(facts, parsed, file.text, current, target));
    return { steps, notes: [] };
  } catch (e) {
    if (e instanceof YamlEditError) return { steps: [], notes: [`${file.path}: ${e.message}`] };
    throw e;
  }
}

export const rke1Planner: Planner = {
  name: "RKE1",
  implements: ["upgrade-rke1-kubernetes", "pin-rke1-system-images"],
  plan: planRke1,
};
