// The clusters the harness can impersonate. Every name, image, env var and node string here comes
// from shared/docs/incident-facts.md (KDM templates, rke2-charts values, the issue reports), so the
// diagnostics under test see what they would see on a real RKE1/RKE2 cluster.
import type { FelixLogKind } from "../fixtures/felix-log.js";
import type { FlannelLogKind } from "../fixtures/flannel-log.js";

export type Distro = "rke1" | "rke2";

export interface Container {
  name: string;
  image: string;
  env: Record<string, string>;
}

export interface Scenario {
  name: string;
  description: string;
  distro: Distro;
  /** The distribution's own version string (RKE1 kubernetes_version or RKE2 release). */
  distroVersion: string;
  node: {
    namePrefix: string;
    osImage: string;
    kernelVersion: string;
    kubeletVersion: string;
    containerRuntimeVersion: string;
  };
  daemonSet: {
    namespace: string;
    name: string;
    labels: Record<string, string>;
    serviceAccount: string;
    initContainers: Container[];
    containers: Container[];
  };
  calicoVersion: string;
  felixConfiguration: Record<string, unknown>;
  /** Felix log kind on the "hot" nodes (first ceil(N/3)); every other node logs quietly. */
  hotNodeLog: FelixLogKind | undefined;
  /** Felix's screen log level as the distribution configures it. */
  severityScreen: "Info" | "Warning";
  /** kube-flannel log kind on the hot nodes (absent: every node serves flanneld's start-up lines). */
  hotFlannelLog?: FlannelLogKind;
  /** Nodes on VMware vSphere with its cloud provider: providerID vsphere://<uuid>, its instance-type label. */
  vsphere?: boolean;
  /** Calico IPPools (name and spec). */
  ipPools?: { name: string; spec: Record<string, unknown> }[];
  /** ConfigMaps of the CNI (the flannel net-conf.json). */
  configMaps?: { namespace: string; name: string; data: Record<string, string> }[];
  /**
   * flannel on its own (kube-flannel.yml on RKE2 started with `cni: none`): the DaemonSet runs no
   * calico-node, and the cluster has no Calico CRDs or objects (calicoVersion and
   * felixConfiguration are left empty and unused).
   */
  withoutCalico?: boolean;
}

const UBUNTU_2004 = "Ubuntu 20.04.6 LTS";

// RKE1's canal template (KDM canal_v3.28.go): XDP is not mentioned, so Felix's default (on) applies.
function rke1Canal(calico: string, cniTag: string): Scenario["daemonSet"] {
  const felixEnv = {
    DATASTORE_TYPE: "kubernetes",
    FELIX_LOGSEVERITYSCREEN: "Warning",
    FELIX_DEFAULTENDPOINTTOHOSTACTION: "ACCEPT",
    FELIX_IPV6SUPPORT: "false",
    FELIX_HEALTHENABLED: "true",
    CALICO_NETWORKING_BACKEND: "none",
    CLUSTER_TYPE: "k8s,canal",
    CALICO_DISABLE_FILE_LOGGING: "true",
    WAIT_FOR_DATASTORE: "true",
  };
  return {
    namespace: "kube-system",
    name: "canal",
    labels: { "k8s-app": "canal" },
    serviceAccount: "canal",
    initContainers: [
      {
        name: "install-cni",
        image: `rancher/calico-cni:${cniTag}`,
        env: { CNI_CONF_NAME: "10-canal.conflist" },
      },
      { name: "flexvol-driver", image: `rancher/mirrored-calico-pod2daemon-flexvol:${calico}`, env: {} },
    ],
    containers: [
      { name: "calico-node", image: `rancher/mirrored-calico-node:${calico}`, env: felixEnv },
      {
        name: "kube-flannel",
        image: "rancher/mirrored-flannel-flannel:v0.25.1",
        env: { FLANNELD_IFACE: "", FLANNELD_IP_MASQ: "true" },
      },
    ],
  };
}

const RKE1_NODE = {
  namePrefix: "rke1-node",
  osImage: UBUNTU_2004,
  containerRuntimeVersion: "docker://26.1.4",
};

const RKE2_NODE = {
  namePrefix: "rke2-node",
  osImage: UBUNTU_2004,
  kubeletVersion: "v1.30.3+rke2r1",
  containerRuntimeVersion: "containerd://1.7.17-k3s1",
};

/** RKE2's rke2-canal DaemonSet as its chart renders it (XDP off), with these image builds. */
function rke2CanalDaemonSet(calicoBuild: string, flannelBuild: string): Scenario["daemonSet"] {
  const calico = `rancher/hardened-calico:${calicoBuild}`;
  return {
    namespace: "kube-system",
    name: "rke2-canal",
    labels: { "k8s-app": "canal" },
    serviceAccount: "canal",
    initContainers: [
      { name: "install-cni", image: calico, env: {} },
      { name: "flexvol-driver", image: calico, env: {} },
    ],
    containers: [
      {
        name: "calico-node",
        image: calico,
        env: {
          DATASTORE_TYPE: "kubernetes",
          FELIX_XDPENABLED: "false",
          FELIX_LOGSEVERITYSCREEN: "info",
          FELIX_DEFAULTENDPOINTTOHOSTACTION: "ACCEPT",
          FELIX_IPV6SUPPORT: "false",
          CALICO_NETWORKING_BACKEND: "none",
          CLUSTER_TYPE: "k8s,canal",
          CALICO_DISABLE_FILE_LOGGING: "true",
        },
      },
      { name: "kube-flannel", image: `rancher/hardened-flannel:${flannelBuild}`, env: {} },
    ],
  };
}

/**
 * flannel's own kube-flannel.yml: kube-flannel/kube-flannel-ds (labels app=flannel, tier=node), the
 * install-cni-plugin and install-cni init containers, and kube-flannel running flanneld.
 */
function kubeFlannelDaemonSet(flannel: string, cniPlugin: string): Scenario["daemonSet"] {
  return {
    namespace: "kube-flannel",
    name: "kube-flannel-ds",
    labels: { app: "flannel", tier: "node" },
    serviceAccount: "flannel",
    initContainers: [
      { name: "install-cni-plugin", image: cniPlugin, env: {} },
      { name: "install-cni", image: flannel, env: {} },
    ],
    containers: [{ name: "kube-flannel", image: flannel, env: { EVENT_QUEUE_DEPTH: "5000" } }],
  };
}

// rke2-calico's tigera-operator renders calico-system/calico-node; its FelixConfiguration `default`
// comes from the chart (xdpEnabled: true), not from env.
function rke2CalicoDaemonSet(calico: string): Scenario["daemonSet"] {
  return {
    namespace: "calico-system",
    name: "calico-node",
    labels: { "k8s-app": "calico-node" },
    serviceAccount: "calico-node",
    initContainers: [
      {
        name: "flexvol-driver",
        image: `docker.io/rancher/mirrored-calico-pod2daemon-flexvol:${calico}`,
        env: {},
      },
      { name: "install-cni", image: `docker.io/rancher/mirrored-calico-cni:${calico}`, env: {} },
    ],
    containers: [
      {
        name: "calico-node",
        image: `docker.io/rancher/mirrored-calico-node:${calico}`,
        env: {
          DATASTORE_TYPE: "kubernetes",
          WAIT_FOR_DATASTORE: "true",
          CLUSTER_TYPE: "k8s,operator,bgp",
          CALICO_DISABLE_FILE_LOGGING: "false",
          FELIX_DEFAULTENDPOINTTOHOSTACTION: "ACCEPT",
          FELIX_HEALTHENABLED: "true",
          FELIX_HEALTHPORT: "9099",
        },
      },
    ],
  };
}

// The VXLAN checksum-offload scenarios (CNID-2021-0001): RKE2 v1.30.10+rke2r1 (Calico v3.29.2 in
// both charts) on vSphere, Ubuntu 22.04 with 5.15. The node agent's facts cannot be simulated on
// KWOK nodes, so a scan of these is at risk (no corroboration) or not affected, never affected.
const RKE2_VSPHERE_NODE = {
  namePrefix: "vmw-node",
  osImage: "Ubuntu 22.04.5 LTS",
  kernelVersion: "5.15.0-131-generic",
  kubeletVersion: "v1.30.10+rke2r1",
  containerRuntimeVersion: "containerd://1.7.23-k3s2",
};

const RKE2_CALICO_VXLAN_FELIX = {
  featureDetectOverride: "ChecksumOffloadBroken=true",
  logSeverityScreen: "Info",
  bpfEnabled: false,
  xdpEnabled: false,
};

function vxlanPool(mode: "vxlan" | "ipip"): { name: string; spec: Record<string, unknown> }[] {
  return [
    {
      name: "default-ipv4-ippool",
      spec: {
        cidr: "10.42.0.0/16",
        blockSize: 24,
        natOutgoing: true,
        nodeSelector: "all()",
        vxlanMode: mode === "vxlan" ? "Always" : "Never",
        ipipMode: mode === "ipip" ? "Always" : "Never",
      },
    },
  ];
}

const SCENARIOS: Scenario[] = [
  {
    name: "rke1-canal-affected",
    description:
      "RKE1 v1.30.3-rancher1-1, canal with calico v3.28.0 on Ubuntu 20.04 5.4.0-177: XDP retry storm",
    distro: "rke1",
    distroVersion: "v1.30.3-rancher1-1",
    node: { ...RKE1_NODE, kernelVersion: "5.4.0-177-generic", kubeletVersion: "v1.30.3" },
    daemonSet: rke1Canal("v3.28.0", "v3.28.0-rancher1"),
    calicoVersion: "v3.28.0",
    felixConfiguration: { logSeverityScreen: "Info", reportingInterval: "0s", bpfLogLevel: "" },
    hotNodeLog: "storm",
    severityScreen: "Warning",
  },
  {
    name: "rke2-canal-xdp-off",
    description:
      "RKE2 v1.30.3+rke2r1, rke2-canal hardened-calico v3.28.0 with FELIX_XDPENABLED=false: not exposed",
    distro: "rke2",
    distroVersion: "v1.30.3+rke2r1",
    node: { ...RKE2_NODE, kernelVersion: "5.4.0-177-generic" },
    // incident-facts names only the repository (rancher/hardened-flannel); the flannel tag is the
    // build that rke2-canal v3.28.0-build2024062503 paired with, not a verified fact.
    daemonSet: rke2CanalDaemonSet("v3.28.0-build20240625", "v0.25.4-build20240610"),
    calicoVersion: "v3.28.0",
    felixConfiguration: { logSeverityScreen: "Info", reportingInterval: "0s" },
    hotNodeLog: undefined,
    severityScreen: "Info",
  },
  {
    // CNID-2024-0002 (shared/docs/next-advisories): RKE2 v1.28.8+rke2r1 ships rke2-canal
    // v3.27.2-build2024030800, whose values pin hardened-calico v3.27.2-build20240308 and
    // hardened-flannel v0.24.3-build20240307; the hot nodes run flannel's IPv6 rule loop.
    name: "rke2-canal-flannel-loop",
    description:
      "RKE2 v1.28.8+rke2r1, rke2-canal with hardened-flannel v0.24.3: the IPv6 iptables-restore loop every 5 s",
    distro: "rke2",
    distroVersion: "v1.28.8+rke2r1",
    node: { ...RKE2_NODE, kernelVersion: "5.15.0-105-generic", kubeletVersion: "v1.28.8+rke2r1" },
    daemonSet: rke2CanalDaemonSet("v3.27.2-build20240308", "v0.24.3-build20240307"),
    calicoVersion: "v3.27.2",
    felixConfiguration: { logSeverityScreen: "Info", reportingInterval: "0s" },
    hotNodeLog: undefined,
    severityScreen: "Info",
    hotFlannelLog: "ipv6-loop",
  },
  {
    // CNID-2024-0002 on flannel installed alone: kube-flannel.yml of flannel v0.24.3 (image
    // docker.io/flannel/flannel:v0.24.3) applied to RKE2 v1.28.8+rke2r1 started with `cni: none`;
    // the hot nodes run the IPv6 rule loop. The CNI plugin tag is plausible, not a verified fact.
    name: "flannel-standalone-loop",
    description:
      "flannel v0.24.3 from kube-flannel.yml (kube-flannel/kube-flannel-ds), RKE2 cni: none: the IPv6 iptables-restore loop every 5 s",
    distro: "rke2",
    distroVersion: "v1.28.8+rke2r1",
    node: { ...RKE2_NODE, kernelVersion: "5.15.0-105-generic", kubeletVersion: "v1.28.8+rke2r1" },
    daemonSet: kubeFlannelDaemonSet(
      "docker.io/flannel/flannel:v0.24.3",
      "docker.io/flannel/flannel-cni-plugin:v1.4.0-flannel1",
    ),
    calicoVersion: "",
    felixConfiguration: {},
    hotNodeLog: undefined,
    severityScreen: "Info",
    hotFlannelLog: "ipv6-loop",
    withoutCalico: true,
    configMaps: [
      {
        namespace: "kube-flannel",
        name: "kube-flannel-cfg",
        data: {
          "net-conf.json": JSON.stringify({ Network: "10.42.0.0/16", Backend: { Type: "vxlan" } }),
        },
      },
    ],
  },
  {
    name: "rke2-calico-at-risk",
    description:
      "RKE2 v1.30.3+rke2r1, rke2-calico v3.27.3 with xdpEnabled: true on 5.4.0-182, no symptom yet",
    distro: "rke2",
    distroVersion: "v1.30.3+rke2r1",
    node: { ...RKE2_NODE, kernelVersion: "5.4.0-182-generic" },
    daemonSet: rke2CalicoDaemonSet("v3.27.3"),
    calicoVersion: "v3.27.3",
    felixConfiguration: { xdpEnabled: true, logSeverityScreen: "Info", bpfEnabled: false },
    hotNodeLog: undefined,
    severityScreen: "Info",
  },
  {
    name: "ebpf-lookalike",
    description:
      "RKE2 rke2-calico in eBPF mode on Debian 12: calico#8001 vmlinux BTF failure, not the incident",
    distro: "rke2",
    distroVersion: "v1.30.3+rke2r1",
    node: { ...RKE2_NODE, osImage: "Debian GNU/Linux 12 (bookworm)", kernelVersion: "6.1.0-21-amd64" },
    daemonSet: rke2CalicoDaemonSet("v3.27.3"),
    calicoVersion: "v3.27.3",
    felixConfiguration: { bpfEnabled: true, xdpEnabled: true, logSeverityScreen: "Info" },
    hotNodeLog: "ebpf-vmlinux-lookalike",
    severityScreen: "Info",
  },
  {
    name: "healthy",
    description: "RKE1 v1.30.4-rancher1-1, canal with the fixed calico v3.28.1",
    distro: "rke1",
    distroVersion: "v1.30.4-rancher1-1",
    node: { ...RKE1_NODE, kernelVersion: "5.4.0-177-generic", kubeletVersion: "v1.30.4" },
    daemonSet: rke1Canal("v3.28.1", "v3.28.1-rancher1"),
    calicoVersion: "v3.28.1",
    felixConfiguration: { logSeverityScreen: "Info", reportingInterval: "0s", bpfLogLevel: "" },
    hotNodeLog: undefined,
    severityScreen: "Warning",
  },
  {
    name: "vxlan-vsphere-canal",
    description:
      "RKE2 v1.30.10+rke2r1, rke2-canal (flannel vxlan owns flannel.1) on vSphere: VXLAN offload at risk",
    distro: "rke2",
    distroVersion: "v1.30.10+rke2r1",
    node: RKE2_VSPHERE_NODE,
    daemonSet: {
      namespace: "kube-system",
      name: "rke2-canal",
      labels: { "k8s-app": "canal" },
      serviceAccount: "canal",
      initContainers: [
        { name: "install-cni", image: "rancher/hardened-calico:v3.29.2-build20250218", env: {} },
      ],
      containers: [
        {
          name: "calico-node",
          image: "rancher/hardened-calico:v3.29.2-build20250218",
          env: {
            DATASTORE_TYPE: "kubernetes",
            FELIX_XDPENABLED: "false",
            FELIX_LOGSEVERITYSCREEN: "info",
            CALICO_NETWORKING_BACKEND: "none",
            CLUSTER_TYPE: "k8s,canal",
          },
        },
        // The flannel tag is the build paired with this chart, not a verified fact.
        { name: "kube-flannel", image: "rancher/hardened-flannel:v0.26.4-build20250218", env: {} },
      ],
    },
    calicoVersion: "v3.29.2",
    felixConfiguration: { logSeverityScreen: "Info", reportingInterval: "0s" },
    hotNodeLog: undefined,
    severityScreen: "Info",
    vsphere: true,
    configMaps: [
      {
        namespace: "kube-system",
        name: "rke2-canal-config",
        data: {
          "net-conf.json": JSON.stringify({
            Network: "10.42.0.0/16",
            Backend: { Type: "vxlan", Port: 8472, VNI: 1 },
          }),
        },
      },
    ],
  },
  {
    name: "vxlan-vsphere-calico-protected",
    description:
      "RKE2 v1.30.10+rke2r1, rke2-calico v3.29.2 VXLAN pool with the chart's featureDetectOverride: not exposed",
    distro: "rke2",
    distroVersion: "v1.30.10+rke2r1",
    node: RKE2_VSPHERE_NODE,
    daemonSet: rke2CalicoDaemonSet("v3.29.2"),
    calicoVersion: "v3.29.2",
    felixConfiguration: RKE2_CALICO_VXLAN_FELIX,
    hotNodeLog: undefined,
    severityScreen: "Info",
    vsphere: true,
    ipPools: vxlanPool("vxlan"),
  },
  {
    name: "vxlan-vsphere-calico-override-removed",
    description:
      "RKE2 v1.30.10+rke2r1, rke2-calico v3.29.2 VXLAN pool, featureDetectOverride removed by a values override: at risk",
    distro: "rke2",
    distroVersion: "v1.30.10+rke2r1",
    node: RKE2_VSPHERE_NODE,
    daemonSet: rke2CalicoDaemonSet("v3.29.2"),
    calicoVersion: "v3.29.2",
    felixConfiguration: { logSeverityScreen: "Info", bpfEnabled: false, xdpEnabled: false },
    hotNodeLog: undefined,
    severityScreen: "Info",
    vsphere: true,
    ipPools: vxlanPool("vxlan"),
  },
  {
    name: "vxlan-vsphere-calico-ipip",
    description:
      "RKE2 v1.30.10+rke2r1, rke2-calico v3.29.2 with an IPIP pool on vSphere: a lookalike, not exposed",
    distro: "rke2",
    distroVersion: "v1.30.10+rke2r1",
    node: RKE2_VSPHERE_NODE,
    daemonSet: rke2CalicoDaemonSet("v3.29.2"),
    calicoVersion: "v3.29.2",
    felixConfiguration: { logSeverityScreen: "Info", bpfEnabled: false, xdpEnabled: false },
    hotNodeLog: undefined,
    severityScreen: "Info",
    vsphere: true,
    ipPools: vxlanPool("ipip"),
  },
];

/** Only Nodes, no Calico: the lightest load for scale benchmarks. */
export const NODES_ONLY = "nodes-only";

export function scenarioNames(): string[] {
  return [...SCENARIOS.map((s) => s.name), NODES_ONLY];
}

export function findScenario(name: string): Scenario | undefined {
  if (name === NODES_ONLY) {
    const base = SCENARIOS[0];
    return base === undefined ? undefined : { ...base, name: NODES_ONLY, description: "nodes only" };
  }
  return SCENARIOS.find((s) => s.name === name);
}

/** Nodes that show the scenario's symptom: the first ceil(N/3). */
export function hotNodeCount(scenario: Scenario, nodes: number): number {
  return scenario.hotNodeLog === undefined && scenario.hotFlannelLog === undefined ? 0 : Math.ceil(nodes / 3);
}
