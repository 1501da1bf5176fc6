// An RKE1 cluster as the RKE CLI deploys it: kubelet and kube-proxy run as docker containers (not
// pods), add-ons are applied by rke-*-deploy-job pods, Canal is kube-system/canal from the KDM
// template (FELIX_LOGSEVERITYSCREEN=Warning, no FELIX_XDPENABLED), ingress-nginx in its namespace.

import type { ClusterParts } from "./common.js";
import {
  calicoNodeLog,
  configMapRef,
  corednsLog,
  fieldRef,
  flannelLog,
  installCniLog,
  kubectlApplyLog,
  metricsServerLog,
  silent,
  value,
  withFelixEnv,
} from "./common.js";
import type { EnvVar, JsonObject, WorkloadDef } from "./k8s.js";
import type { BundleSpec, NodeSpec } from "./spec.js";

function canalNodeEnv(spec: BundleSpec): EnvVar[] {
  const template: EnvVar[] = [
    value("DATASTORE_TYPE", "kubernetes"),
    value("USE_POD_CIDR", "true"),
    value("WAIT_FOR_DATASTORE", "true"),
    fieldRef("NODENAME", "spec.nodeName"),
    value("CALICO_NETWORKING_BACKEND", "none"),
    value("CLUSTER_TYPE", "k8s,canal"),
    value("FELIX_IPTABLESREFRESHINTERVAL", "60"),
    value("IP", ""),
    value("CALICO_DISABLE_FILE_LOGGING", "true"),
    value("FELIX_DEFAULTENDPOINTTOHOSTACTION", "ACCEPT"),
    value("FELIX_IPV6SUPPORT", "false"),
    value("FELIX_LOGSEVERITYSCREEN", "Warning"),
    value("FELIX_HEALTHENABLED", "true"),
    value("FELIX_IPTABLESBACKEND", "auto"),
  ];
  return withFelixEnv(template, spec.cni.felixEnv);
}

function isWorker(n: NodeSpec): boolean {
  return n.roles.includes("worker");
}

function canal(spec: BundleSpec): WorkloadDef {
  const images = spec.cni.images;
  const env = canalNodeEnv(spec);
  return {
    kind: "DaemonSet",
    namespace: "kube-system",
    name: "canal",
    labels: { "k8s-app": "canal" },
    selector: { "k8s-app": "canal" },
    podAnnotations: { "scheduler.alpha.kubernetes.io/critical-pod": "" },
    hostNetwork: true,
    serviceAccount: "canal",
    priorityClassName: "system-node-critical",
    tolerations: [
      { operator: "Exists", effect: "NoSchedule" },
      { key: "CriticalAddonsOnly", operator: "Exists" },
      { operator: "Exists", effect: "NoExecute" },
    ],
    initContainers: [
      {
        name: "install-cni",
        image: images.cni,
        command: ["/opt/cni/bin/install"],
        env: [
          value("CNI_CONF_NAME", "10-canal.conflist"),
          configMapRef("CNI_NETWORK_CONFIG", "canal-config", "cni_network_config"),
          fieldRef("KUBERNETES_NODE_NAME", "spec.nodeName"),
          configMapRef("CNI_MTU", "canal-config", "veth_mtu"),
          value("SLEEP", "false"),
        ],
        privileged: true,
        log: installCniLog(spec.logStart, "10-canal.conflist"),
      },
      { name: "flexvol-driver", image: images.flexvol, privileged: true, log: silent() },
    ],
    containers: [
      {
        name: "calico-node",
        image: images.node,
        env,
        privileged: true,
        requests: { cpu: "250m" },
        log: calicoNodeLog(spec, env),
      },
      {
        name: "kube-flannel",
        image: images.flannel ?? "rancher/mirrored-flannel-flannel:v0.25.1",
        command: ["/opt/bin/flanneld", "--ip-masq", "--kube-subnet-mgr"],
        env: [
          fieldRef("POD_NAME", "metadata.name"),
          fieldRef("POD_NAMESPACE", "metadata.namespace"),
          configMapRef("FLANNELD_IFACE", "canal-config", "canal_iface"),
          configMapRef("FLANNELD_IP_MASQ", "canal-config", "masquerade"),
        ],
        privileged: true,
        log: flannelLog(spec.logStart, "ens160"),
      },
    ],
    nodes: spec.nodes.map((n) => n.name),
    created: spec.createdAt,
    podsStarted: spec.logStart,
  };
}

function hyperkube(spec: BundleSpec): string {
  return `rancher/hyperkube:${spec.kubernetesVersion.replace(/-\d+$/, "")}`;
}

function deployJob(spec: BundleSpec, name: string, addon: string, applied: string[]): WorkloadDef {
  const cp = spec.nodes.find((n) => n.roles.includes("controlplane"))?.name ?? spec.nodes[0]?.name ?? "";
  return {
    kind: "Job",
    namespace: "kube-system",
    name,
    labels: {},
    selector: {},
    hostNetwork: true,
    serviceAccount: "rke-job-deployer",
    tolerations: [{ operator: "Exists" }],
    containers: [
      {
        name,
        image: hyperkube(spec),
        command: ["kubectl", "apply", "-f", `/etc/config/${addon}.yaml`],
        log: kubectlApplyLog(...applied),
      },
    ],
    nodes: [cp],
    created: spec.createdAt,
    podsStarted: spec.createdAt,
  };
}

function addons(spec: BundleSpec): WorkloadDef[] {
  const workers = spec.nodes.filter(isWorker).map((n) => n.name);
  const first = workers[0] ?? "";
  const second = workers[1] ?? first;
  const addonTolerations: JsonObject[] = [
    { key: "CriticalAddonsOnly", operator: "Exists" },
    { effect: "NoExecute", operator: "Exists" },
    { effect: "NoSchedule", operator: "Exists" },
  ];
  const base = { namespace: "kube-system", created: spec.createdAt, podsStarted: spec.createdAt } as const;
  const kcImage = spec.cni.images.kubeControllers;
  return [
    {
      ...base,
      kind: "Deployment",
      name: "coredns",
      labels: { "k8s-app": "kube-dns" },
      selector: { "k8s-app": "kube-dns" },
      serviceAccount: "coredns",
      priorityClassName: "system-cluster-critical",
      tolerations: addonTolerations,
      containers: [
        {
          name: "coredns",
          image: "rancher/mirrored-coredns-coredns:1.11.1",
          args: ["-conf", "/etc/coredns/Corefile"],
          ports: [
            { name: "dns", containerPort: 53, protocol: "UDP" },
            { name: "dns-tcp", containerPort: 53, protocol: "TCP" },
            { name: "metrics", containerPort: 9153, protocol: "TCP" },
          ],
          requests: { cpu: "100m", memory: "70Mi" },
          limits: { memory: "170Mi" },
          log: corednsLog("1.11.1"),
        },
      ],
      nodes: [first, second],
    },
    {
      ...base,
      kind: "Deployment",
      name: "metrics-server",
      labels: { "k8s-app": "metrics-server" },
      selector: { "k8s-app": "metrics-server" },
      serviceAccount: "metrics-server",
      priorityClassName: "system-cluster-critical",
      tolerations: addonTolerations,
      containers: [
        {
          name: "metrics-server",
          image: "rancher/mirrored-metrics-server:v0.7.1",
          args: [
            "--cert-dir=/tmp",
            "--secure-port=10250",
            "--kubelet-insecure-tls",
            "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
            "--metric-resolution=15s",
          ],
          requests: { cpu: "100m", memory: "200Mi" },
          log: metricsServerLog(spec.createdAt),
        },
      ],
      nodes: [second],
    },
    {
      ...base,
      kind: "Deployment",
      name: "calico-kube-controllers",
      labels: { "k8s-app": "calico-kube-controllers" },
      selector: { "k8s-app": "calico-kube-controllers" },
      serviceAccount: "calico-kube-controllers",
      priorityClassName: "system-cluster-critical",
      tolerations: addonTolerations,
      containers: [
        {
          name: "calico-kube-controllers",
          image: kcImage,
          env: [value("ENABLED_CONTROLLERS", "node"), value("DATASTORE_TYPE", "kubernetes")],
          log: silent(),
        },
      ],
      nodes: [first],
    },
    deployJob(spec, "rke-network-plugin-deploy-job", "rke-network-plugin", [
      "configmap/canal-config",
      "daemonset.apps/canal",
      "deployment.apps/calico-kube-controllers",
    ]),
  ];
}

function nodeLabels(node: NodeSpec): Record<string, string> {
  const labels: Record<string, string> = {
    "beta.kubernetes.io/arch": "amd64",
    "beta.kubernetes.io/os": "linux",
    "kubernetes.io/arch": "amd64",
    "kubernetes.io/hostname": node.name,
    "kubernetes.io/os": "linux",
  };
  for (const role of node.roles) labels[`node-role.kubernetes.io/${role}`] = "true";
  return labels;
}

function nodeAnnotations(node: NodeSpec): Record<string, string> {
  const publicIP = node.internalIP;
  return {
    "flannel.alpha.coreos.com/backend-data": JSON.stringify({ VNI: 1, VtepMAC: vtepMac(node.name) }),
    "flannel.alpha.coreos.com/backend-type": "vxlan",
    "flannel.alpha.coreos.com/kube-subnet-manager": "true",
    "flannel.alpha.coreos.com/public-ip": publicIP,
    "node.alpha.kubernetes.io/ttl": "0",
    "rke.cattle.io/external-ip": node.externalIP ?? node.internalIP,
    "rke.cattle.io/internal-ip": node.internalIP,
    "volumes.kubernetes.io/controller-managed-attach-detach": "true",
  };
}

export function vtepMac(name: string): string {
  let h = 0;
  for (const ch of name) h = (Math.imul(h, 31) + ch.charCodeAt(0)) >>> 0;
  const bytes = [0x2a, h & 0xff, (h >>> 8) & 0xff, (h >>> 16) & 0xff, (h >>> 24) & 0xff, name.length & 0xff];
  return bytes.map((b) => b.toString(16).padStart(2, "0")).join(":");
}

function nodeTaints(node: NodeSpec): JsonObject[] | undefined {
  if (node.roles.includes("worker")) return undefined;
  const taints: JsonObject[] = [];
  if (node.roles.includes("controlplane")) {
    taints.push({ key: "node-role.kubernetes.io/controlplane", value: "true", effect: "NoSchedule" });
  }
  if (node.roles.includes("etcd")) {
    taints.push({ key: "node-role.kubernetes.io/etcd", value: "true", effect: "NoExecute" });
  }
  return taints;
}

export function rke1Parts(spec: BundleSpec): ClusterParts {
  return {
    namespaces: ["default", "kube-node-lease", "kube-public", "kube-system"],
    workloads: [canal(spec), ...addons(spec)],
    services: [
      {
        namespace: "default",
        name: "kubernetes",
        labels: { component: "apiserver", provider: "kubernetes" },
        clusterIP: "10.43.0.1",
        ports: [{ name: "https", protocol: "TCP", port: 443, targetPort: 6443 }],
        created: spec.createdAt,
      },
      {
        namespace: "kube-system",
        name: "kube-dns",
        labels: {
          "k8s-app": "kube-dns",
          "kubernetes.io/cluster-service": "true",
          "kubernetes.io/name": "CoreDNS",
        },
        annotations: { "prometheus.io/port": "9153", "prometheus.io/scrape": "true" },
        selector: { "k8s-app": "kube-dns" },
        clusterIP: "10.43.0.10",
        ports: [
          { name: "dns", protocol: "UDP", port: 53, targetPort: 53 },
          { name: "dns-tcp", protocol: "TCP", port: 53, targetPort: 53 },
          { name: "metrics", protocol: "TCP", port: 9153, targetPort: 9153 },
        ],
        created: spec.createdAt,
      },
      {
        namespace: "kube-system",
        name: "metrics-server",
        labels: { "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "Metrics-server" },
        selector: { "k8s-app": "metrics-server" },
        clusterIP: "10.43.117.204",
        ports: [{ name: "https", protocol: "TCP", port: 443, targetPort: "https" }],
        created: spec.createdAt,
      },
    ],
    nodeLabels,
    nodeAnnotations,
    nodeTaints,
  };
}
