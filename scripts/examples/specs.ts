// The example bundles shipped in examples/: one per situation cnidoctor must tell apart.
// Expected per-node statuses are documented in examples/README.md.

import type { FlannelLogKind } from "../fixtures/flannel-log.js";
import type { BundleSpec, CniSpec, NodeFactsSpec, NodeSpec } from "./spec.js";

const UBUNTU = "Ubuntu 20.04.6 LTS";
const CREATED = "2024-08-02T10:15:00Z";
const LOG_START = "2024-08-14T09:00:00Z";

interface ClusterYmlOptions {
  name: string;
  kubernetesVersion: string;
  nodes: NodeSpec[];
  note: string;
}

/** A commented RKE CLI cluster.yml: no system_images override, so the KDM defaults apply. */
function rke1ClusterYml(o: ClusterYmlOptions): string {
  const nodes = o.nodes
    .map((n) =>
      [
        `  - address: ${n.externalIP ?? n.internalIP}`,
        `    internal_address: ${n.internalIP}`,
        `    hostname_override: ${n.name}`,
        "    user: rke",
        `    role: [${n.roles.join(", ")}]`,
        "    ssh_key_path: ~/.ssh/id_ed25519",
      ].join("\n"),
    )
    .join("\n");
  return `# RKE CLI configuration for the ${o.name} cluster.
# Apply with: rke up --config cluster.yml   (keep cluster.rkestate next to this file)
# ${o.note}

cluster_name: ${o.name}

# Pinned Kubernetes version; the Calico/Canal images come from the KDM defaults for it.
kubernetes_version: ${o.kubernetesVersion}

nodes:
${nodes}

services:
  etcd:
    snapshot: true      # recurring local snapshots
    creation: 6h
    retention: 24h
  kube-api:
    service_cluster_ip_range: 10.43.0.0/16
    service_node_port_range: 30000-32767
  kube-controller:
    cluster_cidr: 10.42.0.0/16
    service_cluster_ip_range: 10.43.0.0/16
  kubelet:
    cluster_domain: cluster.local
    cluster_dns_server: 10.43.0.10
    fail_swap_on: false

# Canal: flannel VXLAN for pod traffic, Calico (Felix) for network policy.
network:
  plugin: canal
  options:
    canal_iface: ens160
  mtu: 0    # 0 = let the plugin decide

authentication:
  strategy: x509

authorization:
  mode: rbac

ingress:
  provider: none    # traffic enters through the external load balancer

dns:
  provider: coredns

monitoring:
  provider: metrics-server

# No system_images section: every image is the default of kubernetes_version above.
`;
}

/** A node of the examples: all run Ubuntu 20.04, the OS every report of the incident names. */
function node(n: Omit<NodeSpec, "osImage">): NodeSpec {
  return { ...n, osImage: UBUNTU };
}

const RKE1_AFFECTED_NODES: NodeSpec[] = [
  node({
    name: "rke1-cp-01",
    roles: ["controlplane", "etcd"],
    internalIP: "10.20.0.11",
    kernelVersion: "5.4.0-177-generic",
    calicoLog: "quiet",
    externalIP: "203.0.113.11",
  }),
  node({
    name: "rke1-wk-01",
    roles: ["worker"],
    internalIP: "10.20.0.21",
    kernelVersion: "5.4.0-177-generic",
    calicoLog: "storm",
    externalIP: "203.0.113.21",
  }),
  node({
    name: "rke1-wk-02",
    roles: ["worker"],
    internalIP: "10.20.0.22",
    kernelVersion: "5.4.0-177-generic",
    calicoLog: "quiet",
    externalIP: "203.0.113.22",
  }),
  node({
    name: "rke1-wk-03",
    roles: ["worker"],
    internalIP: "10.20.0.23",
    kernelVersion: "5.4.0-177-generic",
    calicoLog: "storm",
    externalIP: "203.0.113.23",
  }),
];

/** Felix's default FelixConfiguration as calico-node creates it on a KDD cluster: no xdpEnabled. */
const KDD_DEFAULT_FELIX = {
  name: "default",
  spec: { bpfLogLevel: "", floatingIPs: "Disabled", logSeverityScreen: "Info", reportingInterval: "0s" },
};

const RKE2_CALICO_FELIX = {
  bpfLogLevel: "",
  featureDetectOverride: "ChecksumOffloadBroken=true",
  floatingIPs: "Disabled",
  healthPort: 9099,
  logSeverityScreen: "Info",
  reportingInterval: "0s",
  wireguardEnabled: false,
  xdpEnabled: true,
};

function rke2CalicoImages(version: string): BundleSpec["cni"]["images"] {
  const image = (name: string): string => `docker.io/rancher/mirrored-calico-${name}:${version}`;
  return {
    node: image("node"),
    cni: image("cni"),
    flexvol: image("pod2daemon-flexvol"),
    kubeControllers: image("kube-controllers"),
    typha: image("typha"),
    operator: "rancher/mirrored-calico-operator:v1.32.7",
  };
}

const rke1CanalAffected: BundleSpec = {
  name: "rke1-canal-affected",
  seed: 101,
  distribution: "rke1",
  kubernetesVersion: "v1.30.3-rancher1-1",
  rancherManaged: false,
  createdAt: CREATED,
  logStart: LOG_START,
  logSeconds: 180,
  stormIntervalSeconds: 90,
  nodes: RKE1_AFFECTED_NODES,
  cni: {
    flavor: "rke1-canal",
    calicoVersion: "v3.28.0",
    images: {
      node: "rancher/mirrored-calico-node:v3.28.0",
      cni: "rancher/calico-cni:v3.28.0-rancher1",
      flexvol: "rancher/mirrored-calico-pod2daemon-flexvol:v3.28.0",
      kubeControllers: "rancher/mirrored-calico-kube-controllers:v3.28.0",
      flannel: "rancher/mirrored-flannel-flannel:v0.25.1",
    },
    felixEnv: {},
  },
  felixConfigurations: [KDD_DEFAULT_FELIX],
  clusterInformation: { calicoVersion: "v3.28.0", clusterType: "k8s,canal,kdd" },
  clusterYml: rke1ClusterYml({
    name: "payments-prod",
    kubernetesVersion: "v1.30.3-rancher1-1",
    nodes: RKE1_AFFECTED_NODES,
    note: "Upgraded with RKE v1.6.1 on 2024-08-02.",
  }),
};

const rke2CanalXdpOff: BundleSpec = {
  name: "rke2-canal-xdp-off",
  seed: 202,
  distribution: "rke2",
  kubernetesVersion: "v1.30.3+rke2r1",
  rancherManaged: false,
  createdAt: CREATED,
  logStart: LOG_START,
  logSeconds: 180,
  stormIntervalSeconds: 90,
  nodes: [
    node({
      name: "rke2-srv-01",
      roles: ["controlplane", "etcd"],
      internalIP: "10.20.1.11",
      kernelVersion: "5.4.0-177-generic",
      calicoLog: "quiet",
    }),
    node({
      name: "rke2-agt-01",
      roles: ["worker"],
      internalIP: "10.20.1.21",
      kernelVersion: "5.4.0-177-generic",
      calicoLog: "quiet",
    }),
    node({
      name: "rke2-agt-02",
      roles: ["worker"],
      internalIP: "10.20.1.22",
      kernelVersion: "5.4.0-177-generic",
      calicoLog: "quiet",
    }),
  ],
  cni: {
    flavor: "rke2-canal",
    calicoVersion: "v3.28.0",
    chartVersion: "v3.28.0-build2024062503",
    images: {
      node: "rancher/hardened-calico:v3.28.0-build20240625",
      cni: "rancher/hardened-calico:v3.28.0-build20240625",
      flexvol: "rancher/hardened-calico:v3.28.0-build20240625",
      kubeControllers: "rancher/hardened-calico:v3.28.0-build20240625",
      flannel: "rancher/hardened-flannel:v0.25.4-build20240610",
    },
    // The chart's FELIX_XDPENABLED="false" is part of the rke2-canal template.
    felixEnv: {},
  },
  clusterInformation: { calicoVersion: "v3.28.0", clusterType: "k8s,canal,kdd" },
};

const rke2CalicoAtRisk: BundleSpec = {
  name: "rke2-calico-at-risk",
  seed: 303,
  distribution: "rke2",
  kubernetesVersion: "v1.30.3+rke2r1",
  rancherManaged: true,
  createdAt: CREATED,
  logStart: LOG_START,
  logSeconds: 180,
  stormIntervalSeconds: 90,
  nodes: [
    node({
      name: "edge-cp-01",
      roles: ["controlplane", "etcd"],
      internalIP: "10.20.2.11",
      kernelVersion: "5.4.0-182-generic",
      calicoLog: "quiet",
    }),
    node({
      name: "edge-wk-01",
      roles: ["worker"],
      internalIP: "10.20.2.21",
      kernelVersion: "5.4.0-182-generic",
      calicoLog: "quiet",
    }),
    node({
      name: "edge-wk-02",
      roles: ["worker"],
      internalIP: "10.20.2.22",
      kernelVersion: "5.4.0-182-generic",
      calicoLog: "quiet",
    }),
  ],
  cni: {
    flavor: "rke2-calico",
    calicoVersion: "v3.27.3",
    chartVersion: "v3.27.300",
    images: rke2CalicoImages("v3.27.3"),
    felixEnv: {},
  },
  felixConfigurations: [{ name: "default", spec: RKE2_CALICO_FELIX, helmRelease: "rke2-calico" }],
  clusterInformation: { calicoVersion: "v3.27.3", clusterType: "typha,kdd,k8s,operator" },
};

const ebpfLookalike: BundleSpec = {
  name: "ebpf-lookalike",
  seed: 404,
  distribution: "rke2",
  kubernetesVersion: "v1.30.3+rke2r1",
  rancherManaged: false,
  createdAt: CREATED,
  logStart: LOG_START,
  logSeconds: 180,
  stormIntervalSeconds: 90,
  kubeProxyDisabled: true,
  nodes: [
    node({
      name: "bpf-srv-01",
      roles: ["controlplane", "etcd"],
      internalIP: "10.20.3.11",
      kernelVersion: "5.4.0-177-generic",
      calicoLog: "quiet",
    }),
    node({
      name: "bpf-agt-01",
      roles: ["worker"],
      internalIP: "10.20.3.21",
      kernelVersion: "5.4.0-177-generic",
      calicoLog: "ebpf-vmlinux-lookalike",
    }),
    node({
      name: "bpf-agt-02",
      roles: ["worker"],
      internalIP: "10.20.3.22",
      kernelVersion: "5.4.0-177-generic",
      calicoLog: "ebpf-vmlinux-lookalike",
    }),
  ],
  cni: {
    flavor: "rke2-calico",
    calicoVersion: "v3.27.3",
    chartVersion: "v3.27.300",
    images: rke2CalicoImages("v3.27.3"),
    felixEnv: {},
  },
  felixConfigurations: [
    {
      name: "default",
      spec: {
        ...RKE2_CALICO_FELIX,
        bpfEnabled: true,
        bpfExternalServiceMode: "Tunnel",
        bpfKubeProxyIptablesCleanupEnabled: true,
      },
      helmRelease: "rke2-calico",
    },
  ],
  clusterInformation: { calicoVersion: "v3.27.3", clusterType: "typha,kdd,k8s,operator" },
};

const HEALTHY_NODES: NodeSpec[] = [
  node({
    name: "ops-node-01",
    roles: ["controlplane", "etcd", "worker"],
    internalIP: "10.20.4.11",
    kernelVersion: "5.4.0-177-generic",
    calicoLog: "quiet",
    externalIP: "198.51.100.11",
  }),
  node({
    name: "ops-node-02",
    roles: ["controlplane", "etcd", "worker"],
    internalIP: "10.20.4.12",
    kernelVersion: "5.4.0-177-generic",
    calicoLog: "quiet",
    externalIP: "198.51.100.12",
  }),
  node({
    name: "ops-node-03",
    roles: ["controlplane", "etcd", "worker"],
    internalIP: "10.20.4.13",
    kernelVersion: "5.4.0-177-generic",
    calicoLog: "quiet",
    externalIP: "198.51.100.13",
  }),
];

const healthy: BundleSpec = {
  name: "healthy",
  seed: 505,
  distribution: "rke1",
  kubernetesVersion: "v1.30.4-rancher1-1",
  rancherManaged: false,
  createdAt: CREATED,
  logStart: LOG_START,
  logSeconds: 180,
  stormIntervalSeconds: 90,
  nodes: HEALTHY_NODES,
  cni: {
    flavor: "rke1-canal",
    calicoVersion: "v3.28.1",
    images: {
      node: "rancher/mirrored-calico-node:v3.28.1",
      cni: "rancher/calico-cni:v3.28.1-rancher1",
      flexvol: "rancher/mirrored-calico-pod2daemon-flexvol:v3.28.1",
      kubeControllers: "rancher/mirrored-calico-kube-controllers:v3.28.1",
      flannel: "rancher/mirrored-flannel-flannel:v0.25.1",
    },
    felixEnv: {},
  },
  felixConfigurations: [KDD_DEFAULT_FELIX],
  clusterInformation: { calicoVersion: "v3.28.1", clusterType: "k8s,canal,kdd" },
  clusterYml: rke1ClusterYml({
    name: "ops-tools",
    kubernetesVersion: "v1.30.4-rancher1-1",
    nodes: HEALTHY_NODES,
    note: "Moved to v1.30.4-rancher1-1 (Calico v3.28.1) with RKE v1.6.2.",
  }),
};

/** RKE2 v1.28.8+rke2r1's rke2-canal (v3.27.2-build2024030800): its Calico, with `flannel` for kube-flannel. */
function rke2Canal0308(flannel: string): BundleSpec["cni"] {
  const calico = "rancher/hardened-calico:v3.27.2-build20240308";
  return {
    flavor: "rke2-canal",
    calicoVersion: "v3.27.2",
    chartVersion: "v3.27.2-build2024030800",
    images: { node: calico, cni: calico, flexvol: calico, kubeControllers: calico, flannel },
    felixEnv: {},
  };
}

function flannelNodes(prefix: string, subnet: number, logs: readonly FlannelLogKind[]): NodeSpec[] {
  return logs.map((flannelLog, i) =>
    node({
      name: i === 0 ? `${prefix}-srv-01` : `${prefix}-agt-0${String(i)}`,
      roles: i === 0 ? ["controlplane", "etcd"] : ["worker"],
      internalIP: `10.20.${String(subnet)}.${String(i === 0 ? 11 : 20 + i)}`,
      kernelVersion: "5.15.0-105-generic",
      calicoLog: "quiet",
      flannelLog,
    }),
  );
}

/** RKE2 v1.28.8: flannel v0.24.3 in the IPv6 rule loop on two IPv4-only nodes, quiet on the third. */
const rke2CanalFlannelLoop: BundleSpec = {
  name: "rke2-canal-flannel-loop",
  seed: 606,
  distribution: "rke2",
  kubernetesVersion: "v1.28.8+rke2r1",
  rancherManaged: false,
  createdAt: CREATED,
  logStart: LOG_START,
  logSeconds: 180,
  stormIntervalSeconds: 90,
  nodes: flannelNodes("v4", 6, ["ipv6-loop", "ipv6-loop", "quiet"]),
  cni: rke2Canal0308("rancher/hardened-flannel:v0.24.3-build20240307"),
  clusterInformation: { calicoVersion: "v3.27.2", clusterType: "k8s,canal,kdd" },
};

/**
 * The same release with a HelmChartConfig pinning flannel v0.24.4: no loop, and one node logs
 * flannel#2145's "Bad rule" lookalike from v0.24.4's own lines.
 */
const rke2CanalFlannelPinned: BundleSpec = {
  name: "rke2-canal-flannel-pinned",
  seed: 707,
  distribution: "rke2",
  kubernetesVersion: "v1.28.8+rke2r1",
  rancherManaged: false,
  createdAt: CREATED,
  logStart: LOG_START,
  logSeconds: 180,
  stormIntervalSeconds: 90,
  nodes: flannelNodes("pin", 7, ["quiet", "bad-rule-lookalike", "quiet"]),
  cni: rke2Canal0308("rancher/hardened-flannel:v0.24.4-build20240321"),
  clusterInformation: { calicoVersion: "v3.27.2", clusterType: "k8s,canal,kdd" },
};

// The VXLAN checksum-offload examples: RKE2 v1.30.10+rke2r1 (Calico v3.29.2 in both charts) on
// VMware vSphere with the vSphere cloud provider (providerID vsphere://, its instance-type label),
// Ubuntu 22.04 with 5.15. Logs start in March 2025, when that release was current.
const VSPHERE_CREATED = "2025-03-03T10:15:00Z";
const VSPHERE_LOG_START = "2025-03-10T09:00:00Z";
const UBUNTU_2204 = "Ubuntu 22.04.5 LTS";
const KERNEL_515 = "5.15.0-131-generic";

function vsphereNode(name: string, roles: NodeSpec["roles"], internalIP: string, uuid: string): NodeSpec {
  return {
    name,
    roles,
    internalIP,
    osImage: UBUNTU_2204,
    kernelVersion: KERNEL_515,
    calicoLog: "quiet",
    providerID: `vsphere://${uuid}`,
    labels: { "node.kubernetes.io/instance-type": "vsphere-vm.cpu-4.mem-16gb.os-ubuntu" },
  };
}

function vsphereNodes(prefix: string, subnet: number): NodeSpec[] {
  return [
    vsphereNode(
      `${prefix}-srv-01`,
      ["controlplane", "etcd"],
      `10.30.${String(subnet)}.11`,
      `4230a1b2-0000-4c3d-8e9f-${String(subnet).padStart(4, "0")}00000011`,
    ),
    vsphereNode(
      `${prefix}-agt-01`,
      ["worker"],
      `10.30.${String(subnet)}.21`,
      `4230a1b2-0000-4c3d-8e9f-${String(subnet).padStart(4, "0")}00000021`,
    ),
    vsphereNode(
      `${prefix}-agt-02`,
      ["worker"],
      `10.30.${String(subnet)}.22`,
      `4230a1b2-0000-4c3d-8e9f-${String(subnet).padStart(4, "0")}00000022`,
    ),
  ];
}

/** The flannel ConfigMap the rke2-canal chart renders (backend vxlan, port 8472, VNI 1). */
const RKE2_CANAL_CONFIG = {
  namespace: "kube-system",
  name: "rke2-canal-config",
  data: {
    canal_iface: "",
    masquerade: "true",
    "net-conf.json": JSON.stringify(
      { Network: "10.42.0.0/16", Backend: { Type: "vxlan", Port: 8472, VNI: 1 } },
      null,
      2,
    ),
  },
};

const RKE2_CANAL_3292: CniSpec = {
  flavor: "rke2-canal",
  calicoVersion: "v3.29.2",
  chartVersion: "v3.29.2-build2025021800",
  images: {
    node: "rancher/hardened-calico:v3.29.2-build20250218",
    cni: "rancher/hardened-calico:v3.29.2-build20250218",
    flexvol: "rancher/hardened-calico:v3.29.2-build20250218",
    kubeControllers: "rancher/hardened-calico:v3.29.2-build20250218",
    flannel: "rancher/hardened-flannel:v0.26.4-build20250218",
  },
  felixEnv: {},
  checksumOffloadBroken: false,
};

/** What the node agent read on a vmxnet3 node: the driver, UDP InCsumErrors, kernel lines. */
function agentFacts(node: string, csum: [number, number], lines: string[]): NodeFactsSpec {
  return {
    node,
    nicDriver: { value: "vmxnet3", source: "/sys/class/net/ens192/device/driver" },
    udpInCsumErrors: { first: csum[0], last: csum[1], source: "/proc/net/snmp Udp InCsumErrors" },
    kernelLog: { lines, source: "/dev/kmsg" },
  };
}

const vxlanVsphereAffected: BundleSpec = {
  name: "vxlan-vsphere-affected",
  seed: 606,
  distribution: "rke2",
  kubernetesVersion: "v1.30.10+rke2r1",
  rancherManaged: false,
  createdAt: VSPHERE_CREATED,
  logStart: VSPHERE_LOG_START,
  logSeconds: 180,
  stormIntervalSeconds: 90,
  nodes: vsphereNodes("vmw", 1),
  cni: RKE2_CANAL_3292,
  clusterInformation: { calicoVersion: "v3.29.2", clusterType: "k8s,canal,kdd" },
  configMaps: [RKE2_CANAL_CONFIG],
  nodeFacts: {
    readAt: "2025-03-10T09:03:00Z",
    nodes: [
      agentFacts(
        "vmw-agt-01",
        [412, 1187],
        [
          "[ 8123.035722] UDP: bad checksum. From 10.30.1.22:41873 to 10.30.1.21:8472 ulen 75",
          "[ 8124.101337] UDP: bad checksum. From 10.30.1.11:50211 to 10.30.1.21:8472 ulen 83",
        ],
      ),
      agentFacts(
        "vmw-agt-02",
        [96, 402],
        ["[ 8130.512004] UDP: bad checksum. From 10.30.1.21:36625 to 10.30.1.22:8472 ulen 75"],
      ),
      agentFacts("vmw-srv-01", [0, 0], []),
    ],
  },
};

const vxlanVsphereAtRisk: BundleSpec = {
  ...vxlanVsphereAffected,
  name: "vxlan-vsphere-at-risk",
  seed: 607,
  nodes: vsphereNodes("esx", 2),
  nodeFacts: undefined,
};

const RKE2_CALICO_3292_FELIX = { ...RKE2_CALICO_FELIX, xdpEnabled: false };

interface CalicoVsphereOptions {
  name: string;
  prefix: string;
  seed: number;
  subnet: number;
  felix: BundleSpec["felixConfigurations"];
  pool: Record<string, string | boolean | number>;
  offloadBroken: boolean;
}

function rke2CalicoVsphere(o: CalicoVsphereOptions): BundleSpec {
  const { name, prefix, seed, subnet, felix, pool, offloadBroken } = o;
  return {
    name,
    seed,
    distribution: "rke2",
    kubernetesVersion: "v1.30.10+rke2r1",
    rancherManaged: false,
    createdAt: VSPHERE_CREATED,
    logStart: VSPHERE_LOG_START,
    logSeconds: 180,
    stormIntervalSeconds: 90,
    nodes: vsphereNodes(prefix, subnet),
    cni: {
      flavor: "rke2-calico",
      calicoVersion: "v3.29.2",
      chartVersion: "v3.29.200",
      images: rke2CalicoImages("v3.29.2"),
      felixEnv: {},
      checksumOffloadBroken: offloadBroken,
    },
    felixConfigurations: felix,
    clusterInformation: { calicoVersion: "v3.29.2", clusterType: "typha,kdd,k8s,operator" },
    ipPools: [
      {
        name: "default-ipv4-ippool",
        spec: { cidr: "10.42.0.0/16", natOutgoing: true, nodeSelector: "all()", blockSize: 24, ...pool },
      },
    ],
  };
}

/** A values override that drops the chart's featureDetectOverride from FelixConfiguration default. */
const RKE2_CALICO_FELIX_OVERRIDDEN = Object.fromEntries(
  Object.entries(RKE2_CALICO_3292_FELIX).filter(([k]) => k !== "featureDetectOverride"),
);

const rke2CalicoVxlanProtected = rke2CalicoVsphere({
  name: "calico-vxlan-protected",
  prefix: "prot",
  seed: 608,
  subnet: 3,
  felix: [{ name: "default", spec: RKE2_CALICO_3292_FELIX, helmRelease: "rke2-calico" }],
  pool: { vxlanMode: "Always", ipipMode: "Never" },
  offloadBroken: true,
});

const rke2CalicoVxlanOverrideRemoved = rke2CalicoVsphere({
  name: "calico-vxlan-override-removed",
  prefix: "ovr",
  seed: 609,
  subnet: 4,
  felix: [{ name: "default", spec: RKE2_CALICO_FELIX_OVERRIDDEN, helmRelease: "rke2-calico" }],
  pool: { vxlanMode: "Always", ipipMode: "Never" },
  offloadBroken: false,
});

const rke2CalicoIpipLookalike = rke2CalicoVsphere({
  name: "calico-ipip-lookalike",
  prefix: "ipip",
  seed: 610,
  subnet: 5,
  felix: [{ name: "default", spec: RKE2_CALICO_FELIX_OVERRIDDEN, helmRelease: "rke2-calico" }],
  pool: { vxlanMode: "Never", ipipMode: "Always" },
  offloadBroken: false,
});

// flannel on its own, in March 2024 (RKE2 v1.28.8+rke2r1, when flannel v0.24.3 was current).
const FLANNEL_CREATED = "2024-03-18T10:15:00Z";
const FLANNEL_LOG_START = "2024-03-25T09:00:00Z";

/** What flannel's own net-conf.json holds (kube-flannel.yml, the flannel and rke2-flannel charts). */
function kubeFlannelConfig(
  namespace: string,
  backend: Record<string, string | number>,
): {
  namespace: string;
  name: string;
  data: Record<string, string>;
} {
  return {
    namespace,
    name: "kube-flannel-cfg",
    data: {
      "cni-conf.json": JSON.stringify(
        {
          name: "cbr0",
          cniVersion: "0.3.1",
          plugins: [
            { type: "flannel", delegate: { hairpinMode: true, isDefaultGateway: true } },
            { type: "portmap", capabilities: { portMappings: true } },
          ],
        },
        null,
        2,
      ),
      "net-conf.json": JSON.stringify({ Network: "10.42.0.0/16", Backend: backend }, null, 2),
    },
  };
}

/**
 * RKE2 `cni: flannel` on vSphere: the rke2-flannel chart v0.24.201 (flannel v0.24.2) renders
 * kube-system/kube-flannel-ds and kube-flannel-cfg with the vxlan backend on VNI 4096 (device
 * flannel.4096). No Felix anywhere; no node agent data, so nothing corroborates the offload risk.
 */
const rke2FlannelVxlanVsphere: BundleSpec = {
  name: "rke2-flannel-vxlan-vsphere",
  seed: 611,
  distribution: "rke2",
  kubernetesVersion: "v1.28.8+rke2r1",
  rancherManaged: false,
  createdAt: FLANNEL_CREATED,
  logStart: FLANNEL_LOG_START,
  logSeconds: 180,
  stormIntervalSeconds: 90,
  nodes: vsphereNodes("flv", 6),
  cni: {
    flavor: "rke2-flannel",
    calicoVersion: "",
    chartVersion: "v0.24.201",
    images: {
      node: "",
      cni: "rancher/hardened-cni-plugins:v1.4.0-build20240122",
      flexvol: "",
      kubeControllers: "",
      flannel: "rancher/hardened-flannel:v0.24.2-build20240122",
    },
    felixEnv: {},
  },
  configMaps: [kubeFlannelConfig("kube-system", { Port: 4789, VNI: 4096, Type: "vxlan" })],
};

/**
 * flannel v0.24.3 applied from its own kube-flannel.yml (kube-flannel/kube-flannel-ds) on RKE2
 * started with `cni: none`: two IPv4-only nodes log the IPv6 rule loop, the third is quiet.
 */
const flannelStandaloneLoop: BundleSpec = {
  name: "flannel-standalone-v0243-loop",
  seed: 612,
  distribution: "rke2",
  kubernetesVersion: "v1.28.8+rke2r1",
  rancherManaged: false,
  createdAt: FLANNEL_CREATED,
  logStart: FLANNEL_LOG_START,
  logSeconds: 180,
  stormIntervalSeconds: 90,
  nodes: flannelNodes("kfl", 8, ["ipv6-loop", "quiet", "ipv6-loop"]),
  cni: {
    flavor: "kube-flannel",
    calicoVersion: "",
    images: {
      node: "",
      cni: "docker.io/flannel/flannel-cni-plugin:v1.4.0-flannel1",
      flexvol: "",
      kubeControllers: "",
      flannel: "docker.io/flannel/flannel:v0.24.3",
    },
    felixEnv: {},
  },
  configMaps: [kubeFlannelConfig("kube-flannel", { Type: "vxlan" })],
};

const EXAMPLES: readonly BundleSpec[] = [
  rke1CanalAffected,
  rke2CanalXdpOff,
  rke2CalicoAtRisk,
  ebpfLookalike,
  healthy,
  rke2CanalFlannelLoop,
  rke2CanalFlannelPinned,
  vxlanVsphereAffected,
  vxlanVsphereAtRisk,
  rke2CalicoVxlanProtected,
  rke2CalicoVxlanOverrideRemoved,
  rke2CalicoIpipLookalike,
  rke2FlannelVxlanVsphere,
  flannelStandaloneLoop,
];

export const EXAMPLE_NAMES: readonly string[] = EXAMPLES.map((e) => e.name);

/** A fresh copy of every example spec, safe to modify. */
export function exampleSpecs(): BundleSpec[] {
  return EXAMPLES.map((e) => structuredClone(e));
}

/** A fresh copy of one example spec (throws on an unknown name). */
export function exampleSpec(name: string): BundleSpec {
  const found = EXAMPLES.find((e) => e.name === name);
  if (!found) throw new Error(`no example bundle named ${name}; known: ${EXAMPLE_NAMES.join(", ")}`);
  return structuredClone(found);
}
