// Planners for turning TX checksum offload off on VXLAN devices (CNID-2021-0001's remediations):
// a udev rule for flannel's device (the node-level form, a file for /etc/udev/rules.d), the same
// as a DaemonSet the plan writes out, Felix's featureDetectOverride in FelixConfiguration default
// (a kube-patch, so apply backs it up and rollback restores it), the rke2-calico HelmChartConfig
// that restores the chart's override, and moving VXLAN off the port vSphere intercepts.

import { join } from "node:path";
import { stringify } from "yaml";
import type { FileWriteStep, KubePatchStep, ManualStep, Step } from "../model/plan.js";
import type { CniPlugin, FelixConfigurationFacts } from "../model/snapshot.js";
import { felixRef } from "./felix.js";
import { helmChartConfig, RKE2_MANIFESTS_DIR } from "./rke2.js";
import { unifiedDiff } from "./diff.js";
import type { PlanFacts, Planner, PlannerResult } from "./types.js";

const FEATURE = "ChecksumOffloadBroken";
/** flannel's VXLAN devices: Canal and kubeadm flannel (VNI 1), RKE2 `cni: flannel` (VNI 4096). */
const FLANNEL_DEVICES = ["flannel.1", "flannel.4096"] as const;
const UDEV_DESTINATION = "/etc/udev/rules.d/90-flannel.rules";

function remediation(facts: PlanFacts, id: string): { summary: string; tradeoffs?: string } {
  const r = facts.advisory.remediations.find((x) => x.id === id);
  return { summary: r?.summary ?? id, ...(r?.tradeoffs !== undefined ? { tradeoffs: r.tradeoffs } : {}) };
}

/** Whether the scan found something for this advisory (or there is no scan to say otherwise). */
function exposed(facts: PlanFacts): boolean {
  const verdicts = facts.diagnosis?.verdicts;
  return verdicts === undefined || verdicts.some((v) => v.status === "affected" || v.status === "at-risk");
}

function hasPlugin(facts: PlanFacts, ...plugins: CniPlugin[]): boolean {
  const installs = facts.snapshot?.installs;
  return installs === undefined || installs.some((i) => plugins.includes(i.plugin));
}

export function udevRules(): string {
  return [
    "# Turn off TX checksum offload on flannel's VXLAN device whenever it appears (cnidoctor).",
    "# flannel.1: Canal and flannel; flannel.4096: RKE2 with `cni: flannel`.",
    ...FLANNEL_DEVICES.map(
      (dev) =>
        `SUBSYSTEM=="net", ACTION=="add|change|move", ENV{INTERFACE}=="${dev}", RUN+="/usr/sbin/ethtool -K ${dev} tx-checksum-ip-generic off"`,
    ),
    "",
  ].join("\n");
}

function udevStep(facts: PlanFacts): FileWriteStep {
  const id = "flannel-tx-checksum-off-udev";
  const path = join(facts.options.outputDir, "90-flannel.rules");
  const content = udevRules();
  return {
    id: "flannel-udev-rule",
    remediationId: id,
    kind: "file-write",
    title: "Write a udev rule that turns TX checksum offload off on flannel.1 / flannel.4096 (every node)",
    ...remediation(facts, id),
    notes: [
      `Copy it to ${UDEV_DESTINATION} on every node, then run \`/usr/sbin/ethtool -K flannel.1 tx-checksum-ip-generic off\` once (flannel.4096 on RKE2 \`cni: flannel\`); the rule covers later re-creation and reboots.`,
      "Check with `ethtool -k flannel.1 | grep tx-checksum-ip-generic`: it must say off. New nodes need the rule too (put it in the node image or its cloud-init).",
    ],
    diff: unifiedDiff("", content, UDEV_DESTINATION),
    default: false,
    durable: true,
    alreadyApplied: false,
    path,
    destination: UDEV_DESTINATION,
    content,
  };
}

/** A DaemonSet that keeps offload off on flannel's devices; hostNetwork and NET_ADMIN only. */
export function offloadDaemonSet(): string {
  const script = [
    "set -u",
    "command -v ethtool >/dev/null || apk add --no-cache ethtool >/dev/null",
    "while true; do",
    `  for dev in ${FLANNEL_DEVICES.join(" ")}; do`,
    '    if [ -e "/sys/class/net/$dev" ] && ethtool -k "$dev" | grep -q "^tx-checksum-ip-generic: on"; then',
    '      ethtool -K "$dev" tx-checksum-ip-generic off && echo "$(date -u +%FT%TZ) $dev: tx-checksum-ip-generic off"',
    "    fi",
    "  done",
    "  sleep 30",
    "done",
  ].join("\n");
  const labels = {
    "app.kubernetes.io/name": "vxlan-tx-checksum-off",
    "app.kubernetes.io/managed-by": "cnidoctor",
  };
  const doc = {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: "vxlan-tx-checksum-off", namespace: "kube-system", labels },
    spec: {
      selector: { matchLabels: { "app.kubernetes.io/name": "vxlan-tx-checksum-off" } },
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "10%" } },
      template: {
        metadata: { labels },
        spec: {
          // The device lives in the host's network namespace; ethtool's ioctl needs only NET_ADMIN.
          hostNetwork: true,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          priorityClassName: "system-node-critical",
          tolerations: [{ operator: "Exists" }],
          containers: [
            {
              name: "ethtool",
              image: "docker.io/library/alpine:3.20",
              command: ["/bin/sh", "-c", script],
              securityContext: {
                privileged: false,
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: false,
                capabilities: { drop: ["ALL"], add: ["NET_ADMIN"] },
              },
              resources: { requests: { cpu: "1m", memory: "8Mi" }, limits: { cpu: "50m", memory: "32Mi" } },
            },
          ],
        },
      },
    },
  };
  return `# Keeps TX checksum offload off on flannel's VXLAN devices (written by cnidoctor).\n${stringify(doc, { blockQuote: "literal", lineWidth: 0 })}`;
}

function daemonSetStep(facts: PlanFacts): FileWriteStep {
  const id = "flannel-tx-checksum-off-daemonset";
  const path = join(facts.options.outputDir, "vxlan-tx-checksum-off.yaml");
  const content = offloadDaemonSet();
  return {
    id: "flannel-offload-daemonset",
    remediationId: id,
    kind: "file-write",
    title: "Write a DaemonSet that keeps TX checksum offload off on flannel's VXLAN device",
    ...remediation(facts, id),
    notes: [
      `Review and \`kubectl apply -f ${path}\`. Privileges: hostNetwork (the device is in the host's network namespace) and the NET_ADMIN capability (ethtool's ioctl); not privileged, no service account token, no host paths.`,
      "The image installs ethtool from the Alpine repositories at start; in an air-gapped cluster use a mirrored image that already carries ethtool.",
      "Use either this or the udev rule, not both.",
    ],
    diff: unifiedDiff("", content, path),
    default: false,
    durable: true,
    alreadyApplied: false,
    path,
    content,
  };
}

/** "A=true,B=false" with the feature set to true, other keys kept in their order. */
export function withFeature(existing: string | undefined, feature: string): string {
  const parts = (existing ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "" && p.split("=")[0]?.trim() !== feature);
  return [...parts, `${feature}=true`].join(",");
}

function render(spec: Record<string, unknown> | undefined): string {
  return spec === undefined
    ? ""
    : stringify({
        apiVersion: "crd.projectcalico.org/v1",
        kind: "FelixConfiguration",
        metadata: { name: "default" },
        spec,
      });
}

function felixStep(facts: PlanFacts, fc: FelixConfigurationFacts | undefined): KubePatchStep {
  const id = "felixconfiguration-checksum-offload-override";
  const before = fc?.spec;
  const current =
    typeof before?.featureDetectOverride === "string" ? before.featureDetectOverride : undefined;
  const value = withFeature(current, FEATURE);
  const after = { ...(before ?? {}), featureDetectOverride: value };
  const notes: string[] = [];
  for (const i of facts.snapshot?.installs ?? []) {
    const env = Object.entries(i.calicoNode?.env ?? {}).find(
      ([k]) => k.toUpperCase() === "FELIX_FEATUREDETECTOVERRIDE",
    );
    if (env !== undefined)
      notes.push(
        `${i.namespace}/${i.name} sets env ${env[0]}=${env[1].value ?? "(from a reference)"} (${env[1].from.ref}); it OVERRIDES FelixConfiguration: add ${FEATURE}=true there instead.`,
      );
    if (i.managedBy === "rke2-calico-chart" || i.managedBy === "tigera-operator")
      notes.push(
        "The rke2-calico chart / tigera-operator renders FelixConfiguration default and may drop this on its next apply: prefer the HelmChartConfig step as the durable fix.",
      );
  }
  if (facts.snapshot?.felixConfigurations === undefined)
    notes.push("FelixConfigurations were not readable when planning; apply reads the live object first.");
  return {
    id: "felix-checksum-offload-override",
    remediationId: id,
    kind: "kube-patch",
    title: `Set featureDetectOverride ${FEATURE}=true in FelixConfiguration default`,
    ...remediation(facts, id),
    notes: [...new Set(notes)],
    diff: unifiedDiff(render(before), render(after), "FelixConfiguration/default"),
    default: true,
    durable: true,
    alreadyApplied: current !== undefined && current === value,
    target: felixRef("default"),
    patchType: "merge",
    patch: { spec: { featureDetectOverride: value } },
    createIfMissing: {
      apiVersion: "crd.projectcalico.org/v1",
      kind: "FelixConfiguration",
      metadata: { name: "default" },
      spec: { featureDetectOverride: value },
    },
    expect: [{ path: ["spec", "featureDetectOverride"], value }],
  };
}

function helmStep(facts: PlanFacts): FileWriteStep {
  const id = "rke2-calico-helmchartconfig-override";
  const content = helmChartConfig(
    "rke2-calico",
    { felixConfiguration: { featureDetectOverride: `${FEATURE}=true` } },
    facts.advisory.id,
  );
  const destination = `${RKE2_MANIFESTS_DIR}/rke2-calico-config.yaml`;
  return {
    id: "rke2-calico-restore-override",
    remediationId: id,
    kind: "file-write",
    title: "Write a HelmChartConfig for rke2-calico that restores featureDetectOverride",
    ...remediation(facts, id),
    notes: [
      `Copy it to ${destination} on every server node (Rancher-provisioned: put the same under spec.rkeConfig.chartValues.rke2-calico).`,
      "If a HelmChartConfig rke2-calico already exists, it is the one that removed the override: edit its valuesContent instead (there can be only one).",
    ],
    diff: unifiedDiff("", content, destination),
    default: true,
    durable: true,
    alreadyApplied: false,
    path: join(facts.options.outputDir, "rke2-calico-config.yaml"),
    destination,
    content,
  };
}

function portStep(facts: PlanFacts): ManualStep {
  const id = "vsphere-vxlan-port";
  return {
    id: "vxlan-port-change",
    remediationId: id,
    kind: "manual",
    title: "On vSphere, move VXLAN off UDP 4789",
    ...remediation(facts, id),
    notes: ["Open the new port between all nodes before switching, or cross-node traffic stops."],
    diff: "",
    default: false,
    durable: true,
    alreadyApplied: false,
    instructions: [
      'Calico: `kubectl patch felixconfiguration default --type=merge -p \'{"spec":{"vxlanPort":4799}}\'`.',
      "Canal/flannel: set Backend.Port in net-conf.json (RKE2: the flannel values of the rke2-canal or rke2-flannel chart, in a HelmChartConfig) and restart the canal or kube-flannel pods.",
    ],
  };
}

export function planFlannelOffload(facts: PlanFacts): PlannerResult {
  // flannel owns the VXLAN device in Canal and in flannel on its own alike.
  if (!exposed(facts) || !hasPlugin(facts, "canal", "flannel")) return { steps: [], notes: [] };
  return { steps: [udevStep(facts), daemonSetStep(facts)], notes: [] };
}

export function planFelixOffload(facts: PlanFacts): PlannerResult {
  const snapshot = facts.snapshot;
  if (snapshot === undefined || !exposed(facts) || !hasPlugin(facts, "calico"))
    return { steps: [], notes: [] };
  const steps: Step[] = [
    felixStep(
      facts,
      snapshot.felixConfigurations?.find((c) => c.name === "default"),
    ),
  ];
  if (snapshot.installs.some((i) => i.managedBy === "rke2-calico-chart")) steps.push(helmStep(facts));
  return { steps, notes: [] };
}

export function planVxlanPort(facts: PlanFacts): PlannerResult {
  return exposed(facts) && facts.snapshot !== undefined
    ? { steps: [portStep(facts)], notes: [] }
    : { steps: [], notes: [] };
}

export const flannelOffloadPlanner: Planner = {
  name: "flannel VXLAN offload",
  implements: ["flannel-tx-checksum-off-udev", "flannel-tx-checksum-off-daemonset"],
  plan: planFlannelOffload,
};

export const felixOffloadPlanner: Planner = {
  name: "Felix VXLAN offload",
  implements: ["felixconfiguration-checksum-offload-override", "rke2-calico-helmchartconfig-override"],
  plan: planFelixOffload,
};

export const vxlanPortPlanner: Planner = {
  name: "VXLAN port",
  implements: ["vsphere-vxlan-port"],
  plan: planVxlanPort,
};
