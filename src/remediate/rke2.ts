// RKE2 planners: the smallest fixed RKE2 release of the same minor, and the HelmChartConfig that
// turns XDP off in the rke2-calico chart (or its Rancher chartValues form). rke2-canal disables XDP
// in its chart already, so by default it needs nothing.

import { join } from "node:path";
import { stringify } from "yaml";
import type { CalicoInstall } from "../model/snapshot.js";
import type { ManualStep, Step } from "../model/plan.js";
import { rke2FixedReleaseFor, type Rke2ChartName } from "../versions/tables.js";
import { parseFelixBool } from "../analyze/felix-settings.js";
import { unifiedDiff } from "./diff.js";
import type { PlanFacts, PlannerResult } from "./types.js";

export const RKE2_MANIFESTS_DIR = "/var/lib/rancher/rke2/server/manifests";

function chartOf(install: CalicoInstall): Rke2ChartName | undefined {
  if (install.managedBy === "rke2-calico-chart") return "rke2-calico";
  if (install.managedBy === "rke2-canal-chart") return "rke2-canal";
  return undefined;
}

/** A HelmChartConfig for a packaged RKE2 chart whose valuesContent is `values`. */
export function helmChartConfig(chart: Rke2ChartName, values: Record<string, unknown>): string {
  const doc = {
    apiVersion: "helm.cattle.io/v1",
    kind: "HelmChartConfig",
    metadata: { name: chart, namespace: "kube-system" },
    spec: { valuesContent: stringify(values) },
  };
  return `# ${RKE2_MANIFESTS_DIR}/${chart}-config.yaml (written by cnidoctor for CNID-2024-0001)\n${stringify(doc, { blockQuote: "literal" })}`;
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

function upgradeStep(facts: PlanFacts, version: string, chart: Rke2ChartName): Step | string {
  const target = rke2FixedReleaseFor(version, chart);
  if (target === undefined)
    return `No RKE2 release of the ${version.split(".").slice(0, 2).join(".")} line ships a fixed ${chart}; upgrade the minor or use the XDP workaround.`;
  if (target.rke2Version === version) return `${version} already ships a fixed ${chart}.`;
  const remediation = facts.advisory.remediations.find((r) => r.id === "upgrade-rke2");
  const rancher = facts.snapshot?.rancherManaged?.value === true;
  const where = rancher
    ? "Change the cluster's Kubernetes version in Rancher (Cluster Management → Edit Config); Rancher 2.8.8+ / 2.9.2+ offer the fixed releases."
    : `Upgrade the server nodes, then the agents, to ${target.rke2Version} (INSTALL_RKE2_VERSION=${target.rke2Version}, or a system-upgrade-controller Plan).`;
  const offered = target.rancher
    ? ` Rancher channel servers ${target.rancher.minChannelServerVersion}–${target.rancher.maxChannelServerVersion} list it.`
    : "";
  return {
    id: "rke2-upgrade",
    remediationId: "upgrade-rke2",
    kind: "manual",
    title: `Upgrade RKE2 ${version} to ${target.rke2Version} (${chart} ${target.chartVersion}, Calico ${target.calicoVersion})`,
    summary: remediation?.summary ?? "Upgrade RKE2.",
    ...(remediation?.tradeoffs !== undefined ? { tradeoffs: remediation.tradeoffs } : {}),
    notes: [
      `${target.rke2Version} (${target.tagDate}) is the smallest release of the same minor with a fixed ${chart}.${offered}`,
    ],
    diff: `- rke2 ${version}\n+ rke2 ${target.rke2Version}\n`,
    default: false,
    durable: true,
    alreadyApplied: false,
    instructions: [where],
  };
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
  if (facts.snapshot?.rancherManaged?.value === true) {
    const text = rancherChartValues(chart, values);
    const manual: ManualStep = {
      ...base,
      kind: "manual",
      title: `Disable XDP in ${chart} through Rancher's spec.rkeConfig.chartValues`,
      notes: [
        "Rancher-managed RKE2: Rancher owns the server manifests directory; set the values in the cluster object (Edit as YAML, API or Terraform), not on the nodes.",
      ],
      diff: unifiedDiff("", text, "provisioning.cattle.io/v1 Cluster (fragment)"),
      default: false,
      instructions: [
        "Merge this into the cluster's YAML in Rancher and save:",
        ...text
          .trimEnd()
          .split("\n")
          .map((l) => `  ${l}`),
      ],
    };
    return manual;
  }
  const content = helmChartConfig(chart, values);
  const destination = `${RKE2_MANIFESTS_DIR}/${chart}-config.yaml`;
  return {
    ...base,
    kind: "file-write",
    title: `Write a HelmChartConfig for ${chart} that disables XDP`,
    path: join(facts.options.outputDir, `${chart}-config.yaml`),
    destination,
    content,
    notes: [
      `Copy it to ${destination} on every server node; RKE2's helm controller re-applies the chart with it.`,
      `If a HelmChartConfig named ${chart} already exists (\`kubectl -n kube-system get helmchartconfig ${chart} -o yaml\`), merge these values into its valuesContent instead: there can be only one.`,
    ],
    diff: unifiedDiff("", content, destination),
    default: true,
  };
}

function canalXdpOverridden(install: CalicoInstall): boolean {
  const env = install.calicoNode.env.FELIX_XDPENABLED?.value;
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
