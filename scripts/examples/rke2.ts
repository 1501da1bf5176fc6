// An RKE2 cluster: control-plane components and kube-proxy as static pods, packaged components from
// HelmCharts (helm-install-* job pods, Helm labels and annotations), and either rke2-canal
// (kube-system/rke2-canal, FELIX_XDPENABLED="false" as the chart renders it), rke2-calico
// (tigera-operator in its namespace, calico-system/calico-node owned by the operator Installation),
// rke2-flannel (`cni: flannel`: kube-system/kube-flannel-ds from the rke2-flannel chart, VNI 4096)
// or, with `cni: none`, flannel's own kube-flannel.yml (kube-flannel/kube-flannel-ds, VNI 1).

import { createHash } from "node:crypto";
import type { ClusterParts } from "./common.js";
import {
  calicoComponentLine,
  calicoNodeLog,
  configMapRef,
  corednsLog,
  fieldRef,
  canalFlannelLog,
  installCniLog,
  klog,
  metricsServerLog,
  silent,
  text,
  value,
  withFelixEnv,
} from "./common.js";
import { uid } from "./ids.js";
import type { EnvVar, JsonObject, ServiceDef, WorkloadDef } from "./k8s.js";
import { vtepMac } from "./rke1.js";
import type { BundleSpec, NodeSpec } from "./spec.js";

const IMAGES = {
  kubernetes: (v: string): string => `rancher/hardened-kubernetes:${v.replace("+", "-")}-build20240717`,
  etcd: "rancher/hardened-etcd:v3.5.13-k3s1-build20240531",
  coredns: "rancher/hardened-coredns:v1.11.1-build20240305",
  metrics: "rancher/hardened-k8s-metrics-server:v0.7.1-build20240401",
  ingress: "rancher/nginx-ingress-controller:v1.10.1-hardened1",
  helm: "rancher/klipper-helm:v0.8.4-build20240523",
  rancherAgent: "rancher/rancher-agent:v2.9.1",
};

function isServer(n: NodeSpec): boolean {
  return n.roles.includes("controlplane") || n.roles.includes("etcd");
}

function helmMeta(
  release: string,
  chart: string,
): { labels: Record<string, string>; annotations: Record<string, string> } {
  return {
    labels: { "app.kubernetes.io/managed-by": "Helm", "helm.sh/chart": chart },
    annotations: { "meta.helm.sh/release-name": release, "meta.helm.sh/release-namespace": "kube-system" },
  };
}

function staticPod(
  spec: BundleSpec,
  component: string,
  image: string,
  nodes: string[],
  args: string[],
): WorkloadDef {
  return {
    kind: "Static",
    namespace: "kube-system",
    name: component,
    labels: {},
    selector: { component, tier: "control-plane" },
    hostNetwork: true,
    priorityClassName: "system-node-critical",
    tolerations: [{ operator: "Exists", effect: "NoExecute" }],
    containers: [
      {
        name: component,
        image,
        command: [component],
        args,
        requests: { cpu: "250m", memory: "256Mi" },
        log: text(
          klog(spec.createdAt, 400, "server.go:150", `Version: ${spec.kubernetesVersion}`),
          klog(spec.createdAt, 1800, "leaderelection.go:250", "attempting to acquire leader lease..."),
        ),
      },
    ],
    nodes,
    created: spec.createdAt,
    podsStarted: spec.createdAt,
  };
}

function controlPlane(spec: BundleSpec): WorkloadDef[] {
  const servers = spec.nodes.filter(isServer).map((n) => n.name);
  const k8s = IMAGES.kubernetes(spec.kubernetesVersion);
  const out = [
    staticPod(spec, "etcd", IMAGES.etcd, servers, [
      "--config-file=/var/lib/rancher/rke2/server/db/etcd/config",
    ]),
    staticPod(spec, "kube-apiserver", k8s, servers, [
      "--allow-privileged=true",
      "--service-cluster-ip-range=10.43.0.0/16",
      "--secure-port=6443",
    ]),
    staticPod(spec, "kube-controller-manager", k8s, servers, [
      "--cluster-cidr=10.42.0.0/16",
      "--allocate-node-cidrs=true",
    ]),
    staticPod(spec, "kube-scheduler", k8s, servers, ["--bind-address=127.0.0.1", "--secure-port=10259"]),
  ];
  if (!spec.kubeProxyDisabled) {
    const all = spec.nodes.map((n) => n.name);
    out.push(
      staticPod(spec, "kube-proxy", k8s, all, ["--cluster-cidr=10.42.0.0/16", "--proxy-mode=iptables"]),
    );
  }
  return out;
}

function helmInstall(spec: BundleSpec, chart: string, chartVersion: string): WorkloadDef {
  const server = spec.nodes.find(isServer)?.name ?? "";
  return {
    kind: "Job",
    namespace: "kube-system",
    name: `helm-install-${chart}`,
    labels: {},
    selector: {},
    podLabels: { "helmcharts.helm.cattle.io/chart": chart },
    podAnnotations: {
      "helmcharts.helm.cattle.io/configHash": `SHA256=${createHash("sha256").update(chart).digest("hex").toUpperCase()}`,
    },
    serviceAccount: `helm-${chart}`,
    hostNetwork: true,
    tolerations: [{ operator: "Exists" }],
    containers: [
      {
        name: "helm",
        image: IMAGES.helm,
        args: ["install"],
        env: [
          value("NAME", chart),
          value("VERSION", ""),
          value("REPO", ""),
          value("HELM_DRIVER", "secret"),
          value("CHART_NAMESPACE", "kube-system"),
          value("CHART", `https://%{KUBERNETES_API}%/static/charts/${chart}-${chartVersion}.tgz`),
        ],
        log: text(
          "+ helm_v3 upgrade --namespace kube-system " +
            chart +
            ` https://10.43.0.1:443/static/charts/${chart}-${chartVersion}.tgz`,
          `Release "${chart}" has been upgraded. Happy Helming!`,
          `NAME: ${chart}`,
          "STATUS: deployed",
          "REVISION: 2",
          "TEST SUITE: None",
        ),
      },
    ],
    nodes: [server],
    created: spec.createdAt,
    podsStarted: spec.createdAt,
  };
}

function packaged(spec: BundleSpec): WorkloadDef[] {
  const names = spec.nodes.map((n) => n.name);
  const agents = spec.nodes.filter((n) => !isServer(n)).map((n) => n.name);
  const a0 = agents[0] ?? names[0] ?? "";
  const a1 = agents[1] ?? a0;
  const base = { namespace: "kube-system", created: spec.createdAt, podsStarted: spec.createdAt } as const;
  const dns = helmMeta("rke2-coredns", "rke2-coredns-1.29.002");
  return [
    {
      ...base,
      kind: "Deployment",
      name: "rke2-coredns-rke2-coredns",
      labels: { ...dns.labels, "app.kubernetes.io/instance": "rke2-coredns", "k8s-app": "kube-dns" },
      annotations: dns.annotations,
      selector: {
        "app.kubernetes.io/instance": "rke2-coredns",
        "app.kubernetes.io/name": "rke2-coredns",
        "k8s-app": "kube-dns",
      },
      serviceAccount: "coredns",
      priorityClassName: "system-cluster-critical",
      containers: [
        {
          name: "coredns",
          image: IMAGES.coredns,
          args: ["-conf", "/etc/coredns/Corefile"],
          requests: { cpu: "100m", memory: "128Mi" },
          limits: { cpu: "100m", memory: "128Mi" },
          log: corednsLog("1.11.1"),
        },
      ],
      nodes: [a0, a1],
    },
    {
      ...base,
      kind: "Deployment",
      name: "rke2-metrics-server",
      ...(() => {
        const m = helmMeta("rke2-metrics-server", "rke2-metrics-server-3.12.002");
        return { labels: { ...m.labels, app: "rke2-metrics-server" }, annotations: m.annotations };
      })(),
      selector: { app: "rke2-metrics-server", release: "rke2-metrics-server" },
      serviceAccount: "rke2-metrics-server",
      priorityClassName: "system-cluster-critical",
      containers: [
        {
          name: "metrics-server",
          image: IMAGES.metrics,
          args: ["--secure-port=10250", "--cert-dir=/tmp", "--kubelet-preferred-address-types=InternalIP"],
          log: metricsServerLog(spec.createdAt),
        },
      ],
      nodes: [a1],
    },
    {
      ...base,
      kind: "DaemonSet",
      name: "rke2-ingress-nginx-controller",
      ...(() => {
        const m = helmMeta("rke2-ingress-nginx", "rke2-ingress-nginx-4.10.102");
        return {
          labels: {
            ...m.labels,
            "app.kubernetes.io/component": "controller",
            "app.kubernetes.io/instance": "rke2-ingress-nginx",
          },
          annotations: m.annotations,
        };
      })(),
      selector: {
        "app.kubernetes.io/component": "controller",
        "app.kubernetes.io/instance": "rke2-ingress-nginx",
        "app.kubernetes.io/name": "rke2-ingress-nginx",
      },
      serviceAccount: "rke2-ingress-nginx",
      containers: [
        {
          name: "rke2-ingress-nginx-controller",
          image: IMAGES.ingress,
          args: [
            "/nginx-ingress-controller",
            "--election-id=rke2-ingress-nginx-leader",
            "--controller-class=k8s.io/ingress-nginx",
            "--ingress-class=nginx",
            "--watch-ingress-without-class=true",
          ],
          env: [fieldRef("POD_NAME", "metadata.name"), fieldRef("POD_NAMESPACE", "metadata.namespace")],
          ports: [
            { name: "http", hostPort: 80, containerPort: 80, protocol: "TCP" },
            { name: "https", hostPort: 443, containerPort: 443, protocol: "TCP" },
          ],
          requests: { cpu: "100m", memory: "90Mi" },
          log: text(
            "-------------------------------------------------------------------------------",
            "NGINX Ingress controller",
            "  Release:       v1.10.1-hardened1",
            "-------------------------------------------------------------------------------",
            "",
            klog(spec.createdAt, 4200, "nginx.go:319", '"Starting NGINX process"'),
          ),
        },
      ],
      nodes: names,
    },
  ];
}

function canalEnv(spec: BundleSpec): EnvVar[] {
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
    value("FELIX_HEALTHENABLED", "true"),
    value("FELIX_IPTABLESBACKEND", "auto"),
    value("FELIX_XDPENABLED", "false"),
  ];
  return withFelixEnv(template, spec.cni.felixEnv);
}

function rke2Canal(spec: BundleSpec): WorkloadDef[] {
  const images = spec.cni.images;
  const flannelImage = images.flannel ?? "rancher/hardened-flannel:v0.25.4-build20240610";
  const chart = spec.cni.chartVersion ?? "v3.28.0-build2024062503";
  const meta = helmMeta("rke2-canal", `rke2-canal-${chart}`);
  const env = canalEnv(spec);
  const canal: WorkloadDef = {
    kind: "DaemonSet",
    namespace: "kube-system",
    name: "rke2-canal",
    labels: { ...meta.labels, "k8s-app": "canal" },
    annotations: meta.annotations,
    selector: { "k8s-app": "canal" },
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
          configMapRef("CNI_NETWORK_CONFIG", "rke2-canal-config", "cni_network_config"),
          fieldRef("KUBERNETES_NODE_NAME", "spec.nodeName"),
          configMapRef("CNI_MTU", "rke2-canal-config", "veth_mtu"),
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
        image: flannelImage,
        command: ["/opt/bin/flanneld", "--ip-masq", "--kube-subnet-mgr"],
        env: [
          fieldRef("POD_NAME", "metadata.name"),
          fieldRef("POD_NAMESPACE", "metadata.namespace"),
          configMapRef("FLANNELD_IFACE", "rke2-canal-config", "canal_iface"),
          configMapRef("FLANNELD_IP_MASQ", "rke2-canal-config", "masquerade"),
        ],
        privileged: true,
        log: canalFlannelLog(spec, flannelImage, "ens192"),
      },
    ],
    nodes: spec.nodes.map((n) => n.name),
    created: spec.createdAt,
    podsStarted: spec.logStart,
  };
  return [canal, helmInstall(spec, "rke2-canal", chart)];
}

/** VNI of flannel's VXLAN device: 4096 in the rke2-flannel chart's values, flannel's default 1 elsewhere. */
function flannelVni(spec: BundleSpec): number {
  return spec.cni.flavor === "rke2-flannel" ? 4096 : 1;
}

/**
 * flannel on its own, as the rke2-flannel chart (kube-system, helm release rke2-flannel) or
 * kube-flannel.yml (namespace kube-flannel) render it: DaemonSet kube-flannel-ds with labels
 * app=flannel and tier=node, the install-cni-plugin and install-cni init containers, and the
 * kube-flannel container running flanneld against ConfigMap kube-flannel-cfg.
 */
function flannelDaemonSet(spec: BundleSpec): WorkloadDef[] {
  const chart = spec.cni.flavor === "rke2-flannel";
  const images = spec.cni.images;
  const flannelImage = images.flannel ?? "docker.io/flannel/flannel:v0.24.3";
  const chartVersion = spec.cni.chartVersion ?? "v0.24.201";
  const meta = chart ? helmMeta("rke2-flannel", `rke2-flannel-${chartVersion}`) : undefined;
  const ds: WorkloadDef = {
    kind: "DaemonSet",
    namespace: chart ? "kube-system" : "kube-flannel",
    name: "kube-flannel-ds",
    labels: { ...(meta?.labels ?? {}), app: "flannel", tier: "node" },
    ...(meta !== undefined ? { annotations: meta.annotations } : {}),
    selector: { app: "flannel" },
    podLabels: { tier: "node" },
    hostNetwork: true,
    serviceAccount: "flannel",
    priorityClassName: "system-node-critical",
    tolerations: [{ operator: "Exists", effect: "NoSchedule" }],
    initContainers: [
      {
        name: chart ? "install-cni-plugins" : "install-cni-plugin",
        image: images.cni,
        command: ["cp"],
        args: ["-f", "/flannel", "/opt/cni/bin/flannel"],
        log: silent(),
      },
      {
        name: "install-cni",
        image: flannelImage,
        command: ["cp"],
        args: ["-f", "/etc/kube-flannel/cni-conf.json", "/etc/cni/net.d/10-flannel.conflist"],
        log: silent(),
      },
    ],
    containers: [
      {
        name: "kube-flannel",
        image: flannelImage,
        command: ["/opt/bin/flanneld", "--ip-masq", "--kube-subnet-mgr"],
        env: [
          fieldRef("POD_NAME", "metadata.name"),
          fieldRef("POD_NAMESPACE", "metadata.namespace"),
          value("EVENT_QUEUE_DEPTH", "5000"),
        ],
        privileged: chart,
        requests: { cpu: "100m", memory: "50Mi" },
        log: canalFlannelLog(spec, flannelImage, "ens192", flannelVni(spec)),
      },
    ],
    nodes: spec.nodes.map((n) => n.name),
    created: spec.createdAt,
    podsStarted: spec.logStart,
  };
  return chart ? [ds, helmInstall(spec, "rke2-flannel", chartVersion)] : [ds];
}

function operatorEnv(spec: BundleSpec): EnvVar[] {
  const template: EnvVar[] = [
    value("DATASTORE_TYPE", "kubernetes"),
    value("WAIT_FOR_DATASTORE", "true"),
    value("CLUSTER_TYPE", "k8s,operator"),
    value("CALICO_DISABLE_FILE_LOGGING", "false"),
    value("FELIX_DEFAULTENDPOINTTOHOSTACTION", "ACCEPT"),
    value("FELIX_HEALTHENABLED", "true"),
    value("FELIX_HEALTHPORT", "9099"),
    fieldRef("NODENAME", "spec.nodeName"),
    fieldRef("NAMESPACE", "metadata.namespace"),
    value("FELIX_TYPHAK8SNAMESPACE", "calico-system"),
    value("FELIX_TYPHAK8SSERVICENAME", "calico-typha"),
    value("FELIX_TYPHACAFILE", "/etc/pki/tls/certs/tigera-ca-bundle.crt"),
    value("FELIX_TYPHACERTFILE", "/node-certs/tls.crt"),
    value("FELIX_TYPHAKEYFILE", "/node-certs/tls.key"),
    value("FIPS_MODE_ENABLED", "false"),
    value("FELIX_TYPHACN", "typha-server"),
    value("CALICO_MANAGE_CNI", "true"),
    value("CALICO_NETWORKING_BACKEND", "vxlan"),
    value("IP", "autodetect"),
    value("IP_AUTODETECTION_METHOD", "first-found"),
    value("IP6", "none"),
    value("FELIX_IPV6SUPPORT", "false"),
    value("KUBERNETES_SERVICE_HOST", "10.43.0.1"),
    value("KUBERNETES_SERVICE_PORT", "443"),
  ];
  return withFelixEnv(template, spec.cni.felixEnv);
}

function calicoSystem(spec: BundleSpec): WorkloadDef[] {
  const images = spec.cni.images;
  const installation: JsonObject = {
    apiVersion: "operator.tigera.io/v1",
    kind: "Installation",
    name: "default",
    uid: uid(spec.seed, "Installation", "default"),
    controller: true,
    blockOwnerDeletion: true,
  };
  const env = operatorEnv(spec);
  const hashes = {
    "hash.operator.tigera.io/cni-config": "9f0a1c3c7d1e2b0f5a4e6d7c8b9a0f1e2d3c4b5a",
    "hash.operator.tigera.io/system": "bb4746872201725da2dea19756c475aa67d9c1e9",
    "tigera-operator.hash.operator.tigera.io/tigera-ca-private": "2f1b6e1e9c5f0d3a7b8c4d2e6f1a0b9c8d7e6f5a",
  };
  const base: Pick<WorkloadDef, "namespace" | "created" | "ownerReferences"> = {
    namespace: "calico-system",
    created: spec.createdAt,
    ownerReferences: [installation],
  };
  const agents = spec.nodes.filter((n) => !isServer(n)).map((n) => n.name);
  const nodes = spec.nodes.map((n) => n.name);
  return [
    {
      ...base,
      kind: "DaemonSet",
      name: "calico-node",
      labels: { "app.kubernetes.io/name": "calico-node", "k8s-app": "calico-node" },
      selector: { "k8s-app": "calico-node" },
      podLabels: { "app.kubernetes.io/name": "calico-node" },
      podAnnotations: hashes,
      hostNetwork: true,
      serviceAccount: "calico-node",
      priorityClassName: "system-node-critical",
      tolerations: [
        { key: "CriticalAddonsOnly", operator: "Exists" },
        { operator: "Exists", effect: "NoSchedule" },
        { operator: "Exists", effect: "NoExecute" },
      ],
      initContainers: [
        { name: "flexvol-driver", image: images.flexvol, privileged: true, log: silent() },
        {
          name: "install-cni",
          image: images.cni,
          command: ["/opt/cni/bin/install"],
          env: [
            value("CNI_CONF_NAME", "10-calico.conflist"),
            value("SLEEP", "false"),
            value("CNI_NET_DIR", "/etc/cni/net.d"),
            configMapRef("CNI_NETWORK_CONFIG", "cni-config", "config"),
            fieldRef("KUBERNETES_NODE_NAME", "spec.nodeName"),
          ],
          privileged: true,
          log: installCniLog(spec.logStart, "10-calico.conflist"),
        },
      ],
      containers: [
        { name: "calico-node", image: images.node, env, privileged: true, log: calicoNodeLog(spec, env) },
      ],
      nodes,
      podsStarted: spec.logStart,
    },
    {
      ...base,
      kind: "Deployment",
      name: "calico-typha",
      labels: { "app.kubernetes.io/name": "calico-typha", "k8s-app": "calico-typha" },
      selector: { "k8s-app": "calico-typha" },
      podLabels: { "app.kubernetes.io/name": "calico-typha" },
      podAnnotations: { "hash.operator.tigera.io/system": hashes["hash.operator.tigera.io/system"] },
      hostNetwork: true,
      serviceAccount: "calico-typha",
      priorityClassName: "system-cluster-critical",
      containers: [
        {
          name: "calico-typha",
          image: images.typha ?? "docker.io/rancher/mirrored-calico-typha:v3.27.3",
          env: [
            value("TYPHA_LOGSEVERITYSCREEN", "info"),
            value("TYPHA_DATASTORETYPE", "kubernetes"),
            value("TYPHA_HEALTHENABLED", "true"),
          ],
          log: silent(),
        },
      ],
      nodes: [agents[0] ?? nodes[0] ?? ""],
      podsStarted: spec.createdAt,
    },
    {
      ...base,
      kind: "Deployment",
      name: "calico-kube-controllers",
      labels: { "app.kubernetes.io/name": "calico-kube-controllers", "k8s-app": "calico-kube-controllers" },
      selector: { "k8s-app": "calico-kube-controllers" },
      podLabels: { "app.kubernetes.io/name": "calico-kube-controllers" },
      serviceAccount: "calico-kube-controllers",
      priorityClassName: "system-cluster-critical",
      containers: [
        {
          name: "calico-kube-controllers",
          image: images.kubeControllers,
          env: [
            value("KUBE_CONTROLLERS_CONFIG_NAME", "default"),
            value("DATASTORE_TYPE", "kubernetes"),
            value("ENABLED_CONTROLLERS", "node"),
            value("FIPS_MODE_ENABLED", "false"),
          ],
          log: text(
            calicoComponentLine(
              spec.createdAt,
              2000,
              "main.go 107",
              'Loaded configuration from environment config=&config.Config{LogLevel:"info"}',
            ),
            calicoComponentLine(
              spec.createdAt,
              2600,
              "main.go 149",
              "Getting initial config snapshot from datastore",
            ),
          ),
        },
      ],
      nodes: [agents[1] ?? agents[0] ?? nodes[0] ?? ""],
      podsStarted: spec.createdAt,
    },
  ];
}

function tigeraOperator(spec: BundleSpec): WorkloadDef[] {
  const chart = spec.cni.chartVersion ?? "v3.27.300";
  const meta = helmMeta("rke2-calico", `rke2-calico-${chart}`);
  const server = spec.nodes.find(isServer)?.name ?? "";
  const operatorImage = spec.cni.images.operator ?? "rancher/mirrored-calico-operator:v1.32.7";
  const version = operatorImage.slice(operatorImage.lastIndexOf(":") + 1);
  return [
    {
      kind: "Deployment",
      namespace: "tigera-operator",
      name: "tigera-operator",
      labels: { ...meta.labels, "k8s-app": "tigera-operator" },
      annotations: meta.annotations,
      selector: { name: "tigera-operator" },
      podLabels: { "k8s-app": "tigera-operator" },
      hostNetwork: true,
      serviceAccount: "tigera-operator",
      tolerations: [
        { effect: "NoExecute", operator: "Exists" },
        { effect: "NoSchedule", operator: "Exists" },
      ],
      containers: [
        {
          name: "tigera-operator",
          image: operatorImage,
          command: ["operator"],
          env: [
            value("WATCH_NAMESPACE", ""),
            fieldRef("POD_NAME", "metadata.name"),
            value("OPERATOR_NAME", "tigera-operator"),
            value("TIGERA_OPERATOR_INIT_IMAGE_VERSION", version),
          ],
          log: text(
            `{"level":"info","ts":"${spec.createdAt}","logger":"setup","msg":"Checking type of cluster","provider":""}`,
            `{"level":"info","ts":"${spec.createdAt}","logger":"setup","msg":"Starting manager"}`,
          ),
        },
      ],
      nodes: [server],
      created: spec.createdAt,
      podsStarted: spec.createdAt,
    },
    helmInstall(spec, "rke2-calico", chart),
  ];
}

function rancherAgents(spec: BundleSpec): WorkloadDef[] {
  const agents = spec.nodes.filter((n) => !isServer(n)).map((n) => n.name);
  const base = { namespace: "cattle-system", created: spec.createdAt, podsStarted: spec.createdAt } as const;
  return [
    {
      ...base,
      kind: "Deployment",
      name: "cattle-cluster-agent",
      labels: { app: "cattle-cluster-agent" },
      selector: { app: "cattle-cluster-agent" },
      serviceAccount: "cattle",
      containers: [
        {
          name: "cluster-register",
          image: IMAGES.rancherAgent,
          env: [
            value("CATTLE_SERVER", "https://rancher.example.internal"),
            value("CATTLE_IS_RKE", "false"),
            value("CATTLE_CLUSTER", "true"),
            value("CATTLE_K8S_MANAGED", "true"),
          ],
          log: text(
            `INFO: Environment: CATTLE_ADDRESS=10.42.1.17 CATTLE_CA_CHECKSUM= CATTLE_CLUSTER=true CATTLE_K8S_MANAGED=true CATTLE_NODE_NAME=${agents[0] ?? ""} CATTLE_SERVER=https://rancher.example.internal`,
            "INFO: Using resolv.conf: search cattle-system.svc.cluster.local svc.cluster.local cluster.local nameserver 10.43.0.10 options ndots:5",
            "INFO: https://rancher.example.internal/ping is accessible",
            "INFO: rancher.example.internal resolves to 203.0.113.80",
          ),
        },
      ],
      nodes: agents.length > 0 ? agents.slice(0, 2) : [spec.nodes[0]?.name ?? ""],
    },
  ];
}

function base32(bytes: Uint8Array): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let acc = 0;
  let out = "";
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(acc >>> (bits - 5)) & 31] ?? "A";
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(acc << (5 - bits)) & 31] ?? "A";
  while (out.length % 8 !== 0) out += "=";
  return out;
}

/** The `--cni` RKE2 was started with: kube-flannel.yml is applied by hand on `cni: none`. */
function rke2Cni(spec: BundleSpec): string {
  const cni: Record<BundleSpec["cni"]["flavor"], string> = {
    "rke1-canal": "canal",
    "rke2-canal": "canal",
    "rke2-calico": "calico",
    "rke2-flannel": "flannel",
    "kube-flannel": "none",
  };
  return cni[spec.cni.flavor];
}

function nodeArgs(spec: BundleSpec, node: NodeSpec): string[] {
  const cni = rke2Cni(spec);
  const server = spec.nodes.find(isServer);
  if (!isServer(node)) {
    return ["agent", "--server", `https://${server?.internalIP ?? "10.20.1.11"}:9345`, "--token", "********"];
  }
  const args = [
    "server",
    "--cni",
    cni,
    "--write-kubeconfig-mode",
    "0644",
    "--tls-san",
    "rke2.example.internal",
  ];
  if (spec.kubeProxyDisabled) args.push("--disable-kube-proxy", "true");
  return args;
}

function rke2NodeLabels(spec: BundleSpec): (node: NodeSpec) => Record<string, string> {
  return (node) => {
    const labels: Record<string, string> = {
      "beta.kubernetes.io/arch": "amd64",
      "beta.kubernetes.io/instance-type": "rke2",
      "beta.kubernetes.io/os": "linux",
      "kubernetes.io/arch": "amd64",
      "kubernetes.io/hostname": node.name,
      "kubernetes.io/os": "linux",
    };
    if (spec.rancherManaged) {
      labels["cattle.io/os"] = "linux";
      labels["rke.cattle.io/machine"] = uid(spec.seed, "machine", node.name);
    }
    if (node.roles.includes("controlplane")) {
      labels["node-role.kubernetes.io/control-plane"] = "true";
      labels["node-role.kubernetes.io/master"] = "true";
    }
    if (node.roles.includes("etcd")) labels["node-role.kubernetes.io/etcd"] = "true";
    if (spec.rancherManaged && node.roles.includes("worker"))
      labels["node-role.kubernetes.io/worker"] = "true";
    labels["node.kubernetes.io/instance-type"] = "rke2";
    return labels;
  };
}

function rke2NodeAnnotations(spec: BundleSpec): (node: NodeSpec) => Record<string, string> {
  return (node) => {
    const index = spec.nodes.indexOf(node);
    const a: Record<string, string> = { "alpha.kubernetes.io/provided-node-ip": node.internalIP };
    if (spec.rancherManaged) {
      a["cluster.x-k8s.io/cluster-name"] = spec.name;
      a["cluster.x-k8s.io/cluster-namespace"] = "fleet-default";
      a["cluster.x-k8s.io/machine"] =
        `${spec.name}-${isServer(node) ? "cp" : "worker"}-${uid(spec.seed, "m", node.name).slice(0, 5)}`;
      a["cluster.x-k8s.io/owner-kind"] = "MachineSet";
    }
    if (isServer(node)) {
      a["etcd.rke2.cattle.io/node-address"] = node.internalIP;
      a["etcd.rke2.cattle.io/node-name"] = `${node.name}-${uid(spec.seed, "etcd", node.name).slice(0, 8)}`;
    }
    if (spec.cni.flavor !== "rke2-calico") {
      a["flannel.alpha.coreos.com/backend-data"] = JSON.stringify({
        VNI: flannelVni(spec),
        VtepMAC: vtepMac(node.name),
      });
      a["flannel.alpha.coreos.com/backend-type"] = "vxlan";
      a["flannel.alpha.coreos.com/kube-subnet-manager"] = "true";
      a["flannel.alpha.coreos.com/public-ip"] = node.internalIP;
    }
    a["node.alpha.kubernetes.io/ttl"] = "0";
    if (spec.cni.flavor === "rke2-calico") {
      a["projectcalico.org/IPv4Address"] = `${node.internalIP}/24`;
      a["projectcalico.org/IPv4VXLANTunnelAddr"] = `10.42.${String(index)}.0`;
    }
    if (isServer(node)) {
      a["rke2.io/encryption-config-hash"] = `start-${createHash("sha256").update(spec.name).digest("hex")}`;
    }
    a["rke2.io/hostname"] = node.name;
    a["rke2.io/internal-ip"] = node.internalIP;
    a["rke2.io/node-args"] = JSON.stringify(nodeArgs(spec, node));
    a["rke2.io/node-config-hash"] = base32(createHash("sha256").update(`${spec.name}/${node.name}`).digest());
    a["volumes.kubernetes.io/controller-managed-attach-detach"] = "true";
    return a;
  };
}

function services(spec: BundleSpec): ServiceDef[] {
  const out: ServiceDef[] = [
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
      name: "rke2-coredns-rke2-coredns",
      labels: {
        "app.kubernetes.io/instance": "rke2-coredns",
        "app.kubernetes.io/managed-by": "Helm",
        "k8s-app": "kube-dns",
        "kubernetes.io/cluster-service": "true",
        "kubernetes.io/name": "CoreDNS",
      },
      annotations: {
        "meta.helm.sh/release-name": "rke2-coredns",
        "meta.helm.sh/release-namespace": "kube-system",
      },
      selector: {
        "app.kubernetes.io/instance": "rke2-coredns",
        "app.kubernetes.io/name": "rke2-coredns",
        "k8s-app": "kube-dns",
      },
      clusterIP: "10.43.0.10",
      ports: [
        { name: "udp-53", protocol: "UDP", port: 53, targetPort: 53 },
        { name: "tcp-53", protocol: "TCP", port: 53, targetPort: 53 },
      ],
      created: spec.createdAt,
    },
    {
      namespace: "kube-system",
      name: "rke2-metrics-server",
      labels: { app: "rke2-metrics-server", "app.kubernetes.io/managed-by": "Helm" },
      annotations: {
        "meta.helm.sh/release-name": "rke2-metrics-server",
        "meta.helm.sh/release-namespace": "kube-system",
      },
      selector: { app: "rke2-metrics-server", release: "rke2-metrics-server" },
      clusterIP: "10.43.204.91",
      ports: [{ name: "https", protocol: "TCP", port: 443, targetPort: "https" }],
      created: spec.createdAt,
    },
  ];
  if (spec.cni.flavor === "rke2-calico") {
    out.push(
      {
        namespace: "calico-system",
        name: "calico-typha",
        labels: { "k8s-app": "calico-typha" },
        selector: { "k8s-app": "calico-typha" },
        clusterIP: "10.43.148.12",
        ports: [{ name: "calico-typha", protocol: "TCP", port: 5473, targetPort: "calico-typha" }],
        created: spec.createdAt,
      },
      {
        namespace: "calico-system",
        name: "calico-kube-controllers-metrics",
        labels: { "k8s-app": "calico-kube-controllers" },
        selector: { "k8s-app": "calico-kube-controllers" },
        clusterIP: "10.43.31.209",
        ports: [{ name: "metrics-port", protocol: "TCP", port: 9094, targetPort: 9094 }],
        created: spec.createdAt,
      },
    );
  }
  if (spec.rancherManaged) {
    out.push({
      namespace: "cattle-system",
      name: "cattle-cluster-agent",
      labels: {},
      selector: { app: "cattle-cluster-agent" },
      clusterIP: "10.43.88.160",
      ports: [
        { name: "http", protocol: "TCP", port: 80, targetPort: 80 },
        { name: "https-internal", protocol: "TCP", port: 443, targetPort: 444 },
      ],
      created: spec.createdAt,
    });
  }
  return out;
}

export function rke2Parts(spec: BundleSpec): ClusterParts {
  const flavor = spec.cni.flavor;
  const calico = flavor === "rke2-calico";
  const namespaces = ["default", "kube-node-lease", "kube-public", "kube-system"];
  if (calico) namespaces.push("calico-system", "tigera-operator");
  if (flavor === "kube-flannel") namespaces.push("kube-flannel");
  if (spec.rancherManaged) namespaces.push("cattle-system");
  const cni = calico
    ? [...tigeraOperator(spec), ...calicoSystem(spec)]
    : flavor === "rke2-flannel" || flavor === "kube-flannel"
      ? flannelDaemonSet(spec)
      : rke2Canal(spec);
  return {
    namespaces: namespaces.sort(),
    workloads: [
      ...controlPlane(spec),
      ...packaged(spec),
      ...cni,
      ...(spec.rancherManaged ? rancherAgents(spec) : []),
    ],
    services: services(spec),
    nodeLabels: rke2NodeLabels(spec),
    nodeAnnotations: rke2NodeAnnotations(spec),
    nodeTaints: (node) =>
      isServer(node) && !node.roles.includes("worker") && spec.rancherManaged
        ? [{ key: "node-role.kubernetes.io/control-plane", value: "true", effect: "NoSchedule" }]
        : undefined,
  };
}
