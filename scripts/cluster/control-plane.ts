// Command lines of the control-plane components (research doc "Path B"), all bound to 127.0.0.1.
// Tuned for thousands of simulated nodes on 2 cores: long node leases, a node-monitor grace
// period above the lease, and client QPS limits raised so DaemonSet fan-out is not throttled.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ComponentSpec } from "./processes.js";
import type { Pki } from "./pki.js";
import type { Tools } from "./tools.js";

export interface Ports {
  etcd: number;
  etcdPeer: number;
  apiserver: number;
  controllerManager: number;
  scheduler: number;
  kwok: number;
}

/** kwok renews each node's lease every duration/4: 400 s keeps 5,000 nodes at ~50 writes/s. */
export const NODE_LEASE_SECONDS = 400;

export function etcdSpec(tools: Tools, stateDir: string, ports: Ports): ComponentSpec {
  const peer = `http://127.0.0.1:${ports.etcdPeer}`;
  const client = `http://127.0.0.1:${ports.etcd}`;
  return {
    name: "etcd",
    command: tools.etcd,
    args: [
      "--name=n0",
      `--data-dir=${join(stateDir, "etcd")}`,
      "--logger=zap",
      "--log-level=warn",
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=n0=${peer}`,
      "--auto-compaction-retention=1",
      "--quota-backend-bytes=8589934592",
    ],
  };
}

export function apiserverSpec(tools: Tools, stateDir: string, ports: Ports, pki: Pki): ComponentSpec {
  return {
    name: "kube-apiserver",
    command: tools.kubeApiserver,
    args: [
      `--etcd-servers=http://127.0.0.1:${ports.etcd}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${ports.apiserver}`,
      `--tls-cert-file=${pki.serverCert}`,
      `--tls-private-key-file=${pki.serverKey}`,
      `--client-ca-file=${pki.caCert}`,
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      `--service-account-key-file=${pki.saPub}`,
      `--service-account-signing-key-file=${pki.saKey}`,
      "--service-cluster-ip-range=10.43.0.0/16",
      "--authorization-mode=Node,RBAC",
      "--allow-privileged=true",
      // Kubelet traffic (logs, node proxy) goes through the kubelet gateway; see kubelet-gateway.ts.
      `--egress-selector-config-file=${join(stateDir, "egress-selector.yaml")}`,
      "--kubelet-preferred-address-types=InternalIP",
      `--kubelet-client-certificate=${pki.adminCert}`,
      `--kubelet-client-key=${pki.adminKey}`,
      "--max-requests-inflight=0",
      "--max-mutating-requests-inflight=0",
      "--enable-priority-and-fairness=false",
      "--profiling=false",
      "--event-ttl=15m",
    ],
  };
}

export function egressSelectorConfig(socketPath: string): string {
  return [
    "apiVersion: apiserver.k8s.io/v1beta1",
    "kind: EgressSelectorConfiguration",
    "egressSelections:",
    "- name: cluster",
    "  connection:",
    "    proxyProtocol: HTTPConnect",
    "    transport:",
    "      uds:",
    `        udsName: ${socketPath}`,
    "",
  ].join("\n");
}

function clientFlags(kubeconfig: string): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    "--bind-address=127.0.0.1",
    "--leader-elect=false",
    "--kube-api-qps=1000",
    "--kube-api-burst=2000",
    "--profiling=false",
  ];
}

export function controllerManagerSpec(
  tools: Tools,
  kubeconfig: string,
  ports: Ports,
  pki: Pki,
): ComponentSpec {
  return {
    name: "kube-controller-manager",
    command: tools.kubeControllerManager,
    args: [
      ...clientFlags(kubeconfig),
      `--secure-port=${ports.controllerManager}`,
      `--root-ca-file=${pki.caCert}`,
      `--service-account-private-key-file=${pki.saKey}`,
      "--use-service-account-credentials=true",
      `--cluster-signing-cert-file=${pki.caCert}`,
      `--cluster-signing-key-file=${pki.caKey}`,
      "--node-monitor-period=30s",
      // Above the lease duration, or a busy kwok would let nodes go NotReady and pods be evicted.
      `--node-monitor-grace-period=${NODE_LEASE_SECONDS + 80}s`,
      "--concurrent-daemonset-syncs=4",
      "--concurrent-gc-syncs=40",
    ],
  };
}

export function schedulerSpec(tools: Tools, kubeconfig: string, ports: Ports): ComponentSpec {
  return {
    name: "kube-scheduler",
    command: tools.kubeScheduler,
    args: [...clientFlags(kubeconfig), `--secure-port=${ports.scheduler}`],
  };
}

export function kwokSpec(tools: Tools, stateDir: string, kubeconfig: string, ports: Ports): ComponentSpec {
  return {
    name: "kwok",
    command: tools.kwok,
    args: [
      `--kubeconfig=${kubeconfig}`,
      `--config=${join(stateDir, "kwok.yaml")}`,
      "--manage-all-nodes=true",
      "--node-ip=127.0.0.1",
      "--node-name=localhost",
      // What nodes advertise as their kubelet port; the gateway maps 10.10.x.y:10250 to kwok.
      "--node-port=10250",
      `--server-address=127.0.0.1:${ports.kwok}`,
      `--node-lease-duration-seconds=${NODE_LEASE_SECONDS}`,
      "--cidr=10.0.0.1/16",
      // Plain HTTP on loopback: only the gateway talks to kwok, and the apiserver's side of the
      // tunnel stays TLS. A second TLS hop cost the gateway more CPU than anything else in a
      // log-heavy scan, and a real cluster has no such hop.
    ],
  };
}

export function gatewaySpec(stateDir: string): ComponentSpec {
  const script = fileURLToPath(new URL("./kubelet-gateway.js", import.meta.url));
  return {
    name: "kubelet-gateway",
    command: process.execPath,
    args: [script, join(stateDir, "kubelet-gateway.json")],
  };
}
