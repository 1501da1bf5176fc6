// RKE2 planners: the smallest fixed RKE2 release of the same minor, and the HelmChartConfig that
// turns XDP off in the rke2-calico chart (or its Rancher chartValues form). rke2-canal disables XDP
// in its chart already, so by default it needs nothing.

import { join } from "node:path";
import { stringify } from "yaml";
import type { CalicoInstall } from "../model/snapshot.js";
import type { ManualStep, Step } from "../model/plan.js";
import { defaultVersionTables, type Rke2ChartName, type VersionTables } from "../versions/tables.js";
import { calicoStatus, fixedRke2ByRancher, smallestFixedRke2 } from "../versions/gate.js";
import { parseFelixBool } from "../analyze/felix-settings.js";
import { unifiedDiff } from "./diff.js";
import type { PlanFacts, Planner, PlannerResult } from "./types.js";

export const RKE2_MANIFESTS_DIR = "/var/lib/rancher/rke2/server/manifests";

function chartOf(install: CalicoInstall): Rke2ChartName | undefined {
  if (install.managedBy === "rke2-calico-chart") return "rke2-calico";
  if (install.managedBy === "rke2-canal-chart") return "rke2-canal";
  return undefined;
}

/** A HelmChartConfig for a packaged RKE2 chart whose valuesContent is `values`. */
export function helmChartConfig(
  chart: Rke2ChartName,
  values: Record<string, unknown>,
  advisoryId: string,
): string {
  const doc = {
    apiVersion: "helm.cattle.io/v1",
    kind: "HelmChartConfig",
    metadata: { name: chart, namespace: "kube-system" },
    spec: { valuesContent: stringify(values) },
  };
  return `# ${RKE2_MANIFESTS_DIR}/${chart}-config.yaml (written by cnidoctor for ${advisoryId})\n${stringify(doc, { blockQuote: "literal" })}`;
}

/** The same values for a Rancher-managed cluster (provisioning.cattle.io/v1 Cluster). */
export function rancherChartValues(chart: Rke2ChartName, values: Record<string, unknown>): string {
  return stringify({ spec: { rkeConfig: { chartValues: { [chart]: values } } } });
}

function xdpValues(chart: Rke2ChartName): Record<string, unknown> {
  return chart === "rke2-calico"
    ? { felixConfiguration: { xdpEnabled: false } }
    : { calico: { felixXDPEnabled: false } };
}

function minorText(version: string): string {
  return version.split(".").slice(0, 2).join(".");
}

function tablesOf(facts: PlanFacts): VersionTables {
  return facts.tables ?? defaultVersionTables();
}

function since(choice: { firstSeen?: { date: string; kdmSnapshot: string } }): string {
  return choice.firstSeen === undefined
    ? ""
    : ` (in Rancher's metadata by ${choice.firstSeen.date}: KDM ${choice.firstSeen.kdmSnapshot} is the oldest snapshot cnidoctor has that lists it)`;
}

/** An imported cluster's RKE2 can also be upgraded on its nodes, outside Rancher's version list. */
function importedNote(facts: PlanFacts, version: string, chart: Rke2ChartName, target: string): string[] {
  if (facts.snapshot?.rancher?.provisioning.value !== "imported") return [];
  const anywhere = smallestFixedRke2(facts.advisory, tablesOf(facts), version, chart);
  return [
    `Rancher imported this cluster (${facts.snapshot.rancher.provisioning.from.ref}): upgrading through Rancher uses its version list (${target} above); upgrading RKE2 on the nodes yourself (INSTALL_RKE2_VERSION, or a system-upgrade-controller Plan) is also possible${anywhere !== undefined && anywhere.version !== target ? `, and there ${anywhere.version} is the smallest fixed release` : ""}.`,
  ];
}

/**
 * Where and to what a Rancher-managed cluster upgrades: the smallest fixed release the known
 * Rancher offers, or, with the Rancher version unknown, the choices that differ by Rancher version.
 */
function rancherTarget(
  facts: PlanFacts,
  version: string,
  chart: Rke2ChartName,
): { target?: string; where: string; notes: string[] } | string {
  const tables = tablesOf(facts);
  const choices = fixedRke2ByRancher(facts.advisory, tables, version, chart);
  const rancher = facts.rancherVersion;
  if (rancher === undefined) {
    const list = choices
      .map((c) => `${c.version} for Rancher ${c.minRancher}..${c.maxRancher}${since(c)}`)
      .join("; ");
    return {
      ...(choices[0] !== undefined ? { target: choices[0].version } : {}),
      where:
        "Change the cluster's Kubernetes version in Rancher (Cluster Management → Edit Config) to the smallest fixed release your Rancher offers.",
      notes: [
        `The Rancher version is unknown (give --rancher, or let cnidoctor read cattle-system/cattle-cluster-agent), and which fixed release Rancher offers depends on it: ${list || "no KDM snapshot lists a fixed release of this minor"}.`,
        "A Rancher whose line still lists a release offers it after a metadata refresh, without a Rancher upgrade.",
      ],
    };
  }
  const alt = smallestFixedRke2(facts.advisory, tables, version, chart, rancher.value);
  if (alt === undefined) {
    const needs = choices[0];
    return `Rancher ${rancher.value} (${rancher.from.ref}) offers no fixed ${chart} release of the ${minorText(version)} line${needs !== undefined ? `: the smallest, ${needs.version}, needs Rancher ${needs.minRancher}..${needs.maxRancher}` : ""}; upgrade Rancher first, or use the XDP workaround.`;
  }
  const choice = choices.find((c) => c.version === alt.version);
  const others = choices.filter((c) => c.version !== alt.version);
  return {
    target: alt.version,
    where: `Change the cluster's Kubernetes version in Rancher (Cluster Management → Edit Config) to ${alt.version}.`,
    notes: [
      `Rancher ${rancher.value} (${rancher.from.ref}) offers ${alt.version} (channel ${choice?.minRancher ?? "?"}..${choice?.maxRancher ?? "?"})${choice !== undefined ? since(choice) : ""}: if the version list lacks it, refresh Rancher's Kubernetes metadata; no Rancher upgrade is needed.`,
      ...others.map(
        (c) =>
          `Other Rancher versions differ: ${c.version} is the smallest fixed one for Rancher ${c.minRancher}..${c.maxRancher}.`,
      ),
    ],
  };
}

/** A note instead of a step when the running release needs no upgrade or is unknown. */
function noUpgradeNeeded(facts: PlanFacts, version: string, chart: Rke2ChartName): string | undefined {
  const current = tablesOf(facts).rke2Releases[version]?.charts[chart];
  if (current === undefined)
    return `RKE2 ${version} is not in the version tables (give --kdm with newer metadata); cannot choose the fixed release.`;
  if (calicoStatus(facts.advisory, current.calicoVersion).status === "not-affected")
    return `${version} ships ${chart} ${current.chartVersion} (Calico ${current.calicoVersion}), which is not affected; no RKE2 upgrade needed.`;
  return undefined;
}

function upgradeStep(facts: PlanFacts, version: string, chart: Rke2ChartName): Step | string {
  const tables = tablesOf(facts);
  const skip = noUpgradeNeeded(facts, version, chart);
  if (skip !== undefined) return skip;
  const managed = facts.snapshot?.rancherManaged?.value === true;
  const viaRancher = managed ? rancherTarget(facts, version, chart) : undefined;
  if (typeof viaRancher === "string") return viaRancher;
  const targetVersion =
    viaRancher?.target ?? smallestFixedRke2(facts.advisory, tables, version, chart)?.version;
  const entry = targetVersion === undefined ? undefined : tables.rke2Releases[targetVersion];
  const c = entry?.charts[chart];
  if (targetVersion === undefined || entry === undefined || c === undefined)
    return `No RKE2 release of the ${minorText(version)} line ships a fixed ${chart}; upgrade the minor or use the XDP workaround.`;
  const remediation = facts.advisory.remediations.find((r) => r.id === "upgrade-rke2");
  const where =
    viaRancher?.where ??
    `Upgrade the server nodes, then the agents, to ${targetVersion} (INSTALL_RKE2_VERSION=${targetVersion}, or a system-upgrade-controller Plan).`;
  const offered =
    !managed && entry.rancher
      ? ` Rancher channel servers ${entry.rancher.minChannelServerVersion}–${entry.rancher.maxChannelServerVersion} list it.`
      : "";
  return {
    id: "rke2-upgrade",
    remediationId: "upgrade-rke2",
    kind: "manual",
    title: `Upgrade RKE2 ${version} to ${targetVersion} (${chart} ${c.chartVersion}, Calico ${c.calicoVersion})`,
    summary: remediation?.summary ?? "Upgrade RKE2.",
    ...(remediation?.tradeoffs !== undefined ? { tradeoffs: remediation.tradeoffs } : {}),
    notes: [
      `${targetVersion} (${entry.tagDate}) is the smallest release of the same minor with a fixed ${chart}${managed ? " that the Rancher managing this cluster offers" : ""}.${offered}`,
      ...(viaRancher?.notes ?? []),
      ...importedNote(facts, version, chart, targetVersion),
    ],
    diff: `- rke2 ${version}\n+ rke2 ${targetVersion}\n`,
    default: false,
    durable: true,
    alreadyApplied: false,
    instructions: [where],
  };
}

/**
 * Where chart values go: Rancher's cluster object for a cluster Rancher provisioned, the server
 * nodes' manifests directory for a standalone or merely imported one; both forms when unknown.
 */
function valuesForm(facts: PlanFacts): { form: "file" | "chart-values" | "unknown"; why: string } {
  const snapshot = facts.snapshot;
  if (snapshot?.rancherManaged?.value !== true) return { form: "file", why: "" };
  const p = snapshot.rancher?.provisioning;
  if (p === undefined) return { form: "unknown", why: "Rancher manages it, but no node facts say how" };
  if (p.value === "provisioned") return { form: "chart-values", why: p.from.ref };
  if (p.value === "imported")
    return {
      form: "file",
      why: `Rancher imported this cluster, it did not provision it (${p.from.ref}): Rancher does not own the manifests directory, so the HelmChartConfig file is the way.`,
    };
  return { form: "unknown", why: p.from.ref };
}

function xdpStep(facts: PlanFacts, chart: Rke2ChartName): Step {
  const remediation = facts.advisory.remediations.find((r) => r.id === "rke2-helmchartconfig-disable-xdp");
  const values = xdpValues(chart);
  const base = {
    id: `rke2-${chart}-disable-xdp`,
    remediationId: "rke2-helmchartconfig-disable-xdp",
    summary: remediation?.summary ?? "Disable XDP through the chart values.",
    ...(remediation?.tradeoffs !== undefined ? { tradeoffs: remediation.tradeoffs } : {}),
    durable: true,
    alreadyApplied: false,
  };
  const form = valuesForm(facts);
  if (form.form !== "file") {
    const text = rancherChartValues(chart, values);
    const file = helmChartConfig(chart, values, facts.advisory.id);
    const provisioned = form.form === "chart-values";
    const manual: ManualStep = {
      ...base,
      kind: "manual",
      title: provisioned
        ? `Disable XDP in ${chart} through Rancher's spec.rkeConfig.chartValues`
        : `Disable XDP in ${chart}: chartValues if Rancher provisioned the cluster, else a HelmChartConfig file`,
      notes: provisioned
        ? [
            `Rancher provisioned this RKE2 cluster (${form.why}): Rancher owns the server manifests directory; set the values in the cluster object (Edit as YAML, API or Terraform), not on the nodes.`,
          ]
        : [
            `Whether Rancher provisioned this cluster or it was imported cannot be told (${form.why}).`,
            `Provisioned by Rancher: set spec.rkeConfig.chartValues as in the diff. Imported: write the HelmChartConfig below to ${RKE2_MANIFESTS_DIR}/${chart}-config.yaml on every server node.`,
          ],
      diff: unifiedDiff("", text, "provisioning.cattle.io/v1 Cluster (fragment)"),
      default: false,
      instructions: [
        provisioned
          ? "Merge this into the cluster's YAML in Rancher and save:"
          : "If Rancher provisioned the cluster, merge this into its YAML in Rancher:",
        ...text
          .trimEnd()
          .split("\n")
          .map((l) => `  ${l}`),
        ...(provisioned
          ? []
          : [
              `Otherwise (imported or standalone) write ${RKE2_MANIFESTS_DIR}/${chart}-config.yaml on every server node:`,
              ...file
                .trimEnd()
                .split("\n")
                .map((l) => `  ${l}`),
            ]),
      ],
    };
    return manual;
  }
  const content = helmChartConfig(chart, values, facts.advisory.id);
  const destination = `${RKE2_MANIFESTS_DIR}/${chart}-config.yaml`;
  return {
    ...base,
    kind: "file-write",
    title: `Write a HelmChartConfig for ${chart} that disables XDP`,
    path: join(facts.options.outputDir, `${chart}-config.yaml`),
    destination,
    content,
    notes: [
      ...(form.why !== "" ? [form.why] : []),
      `Copy it to ${destination} on every server node; RKE2's helm controller re-applies the chart with it.`,
      `If a HelmChartConfig named ${chart} already exists (\`kubectl -n kube-system get helmchartconfig ${chart} -o yaml\`), merge these values into its valuesContent instead: there can be only one.`,
    ],
    diff: unifiedDiff("", content, destination),
    default: true,
  };
}

function canalXdpOverridden(install: CalicoInstall): boolean {
  const env = install.calicoNode?.env.FELIX_XDPENABLED?.value;
  // Felix reads anything but its false spellings (an invalid value such as "off" included) as on.
  return env !== undefined && parseFelixBool(env) !== false;
}

export function planRke2(facts: PlanFacts): PlannerResult {
  const snapshot = facts.snapshot;
  if (snapshot?.distribution?.value !== "rke2") return { steps: [], notes: [] };
  const steps: Step[] = [];
  const notes: string[] = [];
  const version = snapshot.nodes.find((n) => n.kubeletVersion?.includes("+rke2") === true)?.kubeletVersion;
  for (const install of snapshot.installs) {
    const chart = chartOf(install);
    if (chart === undefined) continue;
    if (version !== undefined) {
      const up = upgradeStep(facts, version, chart);
      if (typeof up === "string") notes.push(up);
      else steps.push(up);
    } else notes.push("No node reports an RKE2 kubelet version; cannot choose the fixed RKE2 release.");
    if (chart === "rke2-calico") steps.push(xdpStep(facts, chart));
    else if (canalXdpOverridden(install)) steps.push(xdpStep(facts, chart));
    else
      notes.push(
        `${install.namespace}/${install.name} (rke2-canal): the chart disables XDP (FELIX_XDPENABLED=false), so it needs nothing unless that value was overridden.`,
      );
  }
  return { steps, notes };
}

export const rke2Planner: Planner = {
  name: "RKE2",
  implements: ["upgrade-rke2", "rke2-helmchartconfig-disable-xdp"],
  plan: planRke2,
};
