// Node objects that look like the ones RKE1 and RKE2 kubelets register: labels, annotations,
// taints on control-plane nodes, addresses and nodeInfo. kwok's node-initialize stage keeps any
// nodeInfo field that is already set (it only fills empty ones with "kwok-<version>"), and
// Node create accepts status, so setting status here is what makes `kubectl get nodes -o wide`
// show Ubuntu/5.4.0-177/docker:// instead of kwok placeholders.
import type { KubeObject } from "./api-client.js";
import type { Scenario } from "./scenarios.js";

export interface NodePlan {
  name: string;
  /** Realistic private address; the kubelet gateway maps it back to the node. */
  ip: string;
  controlPlane: boolean;
}

/** Hosts per /24: last octets 10..249, never the network, broadcast or a low infrastructure address. */
const HOSTS_PER_BLOCK = 240;

/** Node i (0-based) gets 10.10.<i/240>.<i%240+10>: unique, private and global-unicast. */
export function nodeIp(index: number): string {
  return `10.10.${Math.floor(index / HOSTS_PER_BLOCK)}.${(index % HOSTS_PER_BLOCK) + 10}`;
}

export function planNodes(scenario: Scenario, count: number): NodePlan[] {
  const width = Math.max(3, String(count).length);
  // One control-plane node per cluster, like the smallest real HA-less RKE setups; the rest are workers.
  return Array.from({ length: count }, (_, i) => ({
    name: `${scenario.node.namePrefix}-${String(i + 1).padStart(width, "0")}`,
    ip: nodeIp(i),
    controlPlane: i === 0 && count > 1,
  }));
}

function rke1Metadata(
  plan: NodePlan,
  canal: boolean,
): { labels: Record<string, string>; annotations: Record<string, string> } {
  const labels: Record<string, string> = plan.controlPlane
    ? { "node-role.kubernetes.io/controlplane": "true", "node-role.kubernetes.io/etcd": "true" }
    : { "node-role.kubernetes.io/worker": "true" };
  const annotations: Record<string, string> = {
    "rke.cattle.io/external-ip": plan.ip,
    "rke.cattle.io/internal-ip": plan.ip,
    "node.alpha.kubernetes.io/ttl": "0",
    "volumes.kubernetes.io/controller-managed-attach-detach": "true",
    "projectcalico.org/IPv4Address": `${plan.ip}/24`,
  };
  if (canal) {
    annotations["flannel.alpha.coreos.com/backend-type"] = "vxlan";
    annotations["flannel.alpha.coreos.com/kube-subnet-manager"] = "true";
    annotations["flannel.alpha.coreos.com/public-ip"] = plan.ip;
  }
  return { labels, annotations };
}

function rke2Metadata(
  plan: NodePlan,
  scenario: Scenario,
): { labels: Record<string, string>; annotations: Record<string, string> } {
  const labels: Record<string, string> = {
    "node.kubernetes.io/instance-type": "rke2",
    "beta.kubernetes.io/instance-type": "rke2",
  };
  if (plan.controlPlane) {
    labels["node-role.kubernetes.io/control-plane"] = "true";
    labels["node-role.kubernetes.io/etcd"] = "true";
    labels["node-role.kubernetes.io/master"] = "true";
  } else {
    labels["node-role.kubernetes.io/worker"] = "true";
  }
  const cni =
    scenario.withoutCalico === true ? "none" : scenario.daemonSet.name === "rke2-canal" ? "canal" : "calico";
  const args = plan.controlPlane
    ? ["server", "--cni", cni]
    : ["agent", "--server", "https://10.10.0.10:9345"];
  return {
    labels,
    annotations: {
      "rke2.io/hostname": plan.name,
      "rke2.io/internal-ip": plan.ip,
      "rke2.io/node-args": JSON.stringify(args),
      "rke2.io/node-config-hash": "JQ4DEDVZZSCGZ3ZTJ2BNKRDS3PBBDGF2KGGAOCUIXDFTXQC6SIYA====",
      "rke2.io/node-env": "{}",
      "node.alpha.kubernetes.io/ttl": "0",
      "volumes.kubernetes.io/controller-managed-attach-detach": "true",
      "projectcalico.org/IPv4Address": `${plan.ip}/24`,
    },
  };
}

function taintsFor(scenario: Scenario, plan: NodePlan): unknown[] {
  if (!plan.controlPlane) return [];
  if (scenario.distro === "rke1") {
    return [
      { key: "node-role.kubernetes.io/controlplane", value: "true", effect: "NoSchedule" },
      { key: "node-role.kubernetes.io/etcd", value: "true", effect: "NoExecute" },
    ];
  }
  return [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }];
}

export function nodeObject(scenario: Scenario, plan: NodePlan, index: number): KubeObject {
  const meta =
    scenario.distro === "rke1"
      ? rke1Metadata(plan, scenario.daemonSet.name === "canal")
      : rke2Metadata(plan, scenario);
  const kubeProxyVersion = scenario.node.kubeletVersion;
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: plan.name,
      labels: {
        "kubernetes.io/hostname": plan.name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "beta.kubernetes.io/arch": "amd64",
        ...meta.labels,
        ...(scenario.vsphere === true
          ? { "node.kubernetes.io/instance-type": "vsphere-vm.cpu-8.mem-32gb.os-ubuntu" }
          : {}),
      },
      annotations: meta.annotations,
    },
    spec: {
      podCIDR: podCidr(index),
      podCIDRs: [podCidr(index)],
      taints: taintsFor(scenario, plan),
      // The vSphere cloud provider names the VM by its BIOS UUID.
      ...(scenario.vsphere === true ? { providerID: `vsphere://${systemUuid(index)}` } : {}),
    },
    status: {
      addresses: [
        { type: "InternalIP", address: plan.ip },
        { type: "Hostname", address: plan.name },
      ],
      capacity: { cpu: "8", memory: "32873852Ki", pods: "110", "ephemeral-storage": "101430960Ki" },
      allocatable: { cpu: "8", memory: "32771452Ki", pods: "110", "ephemeral-storage": "93478772582" },
      nodeInfo: {
        architecture: "amd64",
        operatingSystem: "linux",
        osImage: scenario.node.osImage,
        kernelVersion: scenario.node.kernelVersion,
        kubeletVersion: scenario.node.kubeletVersion,
        kubeProxyVersion,
        containerRuntimeVersion: scenario.node.containerRuntimeVersion,
        machineID: machineId(index),
        systemUUID: systemUuid(index),
        bootID: systemUuid(index + 1_000_000),
      },
    },
  };
}

/** A distinct /24 per node out of 10.42.0.0/16 and up, as RKE's cluster_cidr allocation would give. */
function podCidr(index: number): string {
  return `10.${42 + Math.floor(index / 256)}.${index % 256}.0/24`;
}

function hex(n: number, width: number): string {
  return (n >>> 0).toString(16).padStart(width, "0").slice(-width);
}

/** Stable, distinct ids per node (real nodes never share a machine-id). */
function machineId(index: number): string {
  return `${hex(0x5e1f0000 + index, 8)}${hex(index * 2654435761, 8)}${hex(index * 40503, 8)}${hex(0xc0ffee, 8)}`;
}

function systemUuid(index: number): string {
  const id = machineId(index);
  return `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20, 32)}`;
}
