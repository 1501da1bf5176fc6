// Pieces shared by the RKE1 and RKE2 renderers: env helpers, the calico-node log (always from the
// project's Felix log generator) and short logs for the other containers.

import { felixLog } from "../fixtures/felix-log.js";
import { flannelLogText } from "../fixtures/flannel-log.js";
import type { EnvVar, JsonObject, ServiceDef, WorkloadDef } from "./k8s.js";
import type { BundleSpec, NodeSpec } from "./spec.js";

/** Everything a distribution renderer contributes besides the nodes' common fields. */
export interface ClusterParts {
  namespaces: string[];
  workloads: WorkloadDef[];
  services: ServiceDef[];
  nodeLabels: (node: NodeSpec) => Record<string, string>;
  nodeAnnotations: (node: NodeSpec) => Record<string, string>;
  nodeTaints: (node: NodeSpec) => JsonObject[] | undefined;
}

export function value(name: string, v: string): EnvVar {
  return { name, value: v };
}

export function fieldRef(name: string, path: string): EnvVar {
  return { name, valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: path } } };
}

export function configMapRef(name: string, map: string, key: string): EnvVar {
  return { name, valueFrom: { configMapKeyRef: { name: map, key } } };
}

/** Template env with the spec's FELIX_* overrides applied (null removes, new names append). */
export function withFelixEnv(template: EnvVar[], overrides: Record<string, string | null>): EnvVar[] {
  const out: EnvVar[] = [];
  const seen = new Set<string>();
  for (const e of template) {
    seen.add(e.name);
    const o = overrides[e.name];
    if (o === null) continue;
    out.push(o === undefined ? e : value(e.name, o));
  }
  for (const [name, v] of Object.entries(overrides)) {
    if (!seen.has(name) && v !== null) out.push(value(name, v));
  }
  return out;
}

function severityOf(env: EnvVar[]): "Info" | "Warning" {
  const e = env.find((x) => x.name === "FELIX_LOGSEVERITYSCREEN");
  const v = e && "value" in e ? e.value.toLowerCase() : "info";
  return v === "warning" || v === "error" || v === "fatal" ? "Warning" : "Info";
}

/** The calico-node container's log for one node, from scripts/fixtures/felix-log.ts. */
export function calicoNodeLog(spec: BundleSpec, env: EnvVar[]): (node: string) => string {
  return (nodeName) => {
    const node = spec.nodes.find((n) => n.name === nodeName);
    const index = spec.nodes.findIndex((n) => n.name === nodeName);
    const lines: string[] = [];
    for (const line of felixLog({
      calicoVersion: spec.cni.calicoVersion,
      kind: node?.calicoLog ?? "quiet",
      start: new Date(spec.logStart),
      durationSeconds: spec.logSeconds,
      severityScreen: severityOf(env),
      stormIntervalSeconds: spec.stormIntervalSeconds,
      nodeName,
      seed: spec.seed * 100 + index,
      ...(spec.cni.checksumOffloadBroken !== undefined && node !== undefined
        ? {
            detectedFeatures: {
              checksumOffloadBroken: spec.cni.checksumOffloadBroken,
              kernel: node.kernelVersion,
            },
          }
        : {}),
    })) {
      lines.push(line.text);
    }
    return lines.length > 0 ? lines.join("\n") + "\n" : "";
  };
}

/** Fixed text, the same on every node. */
export function text(...lines: string[]): (node: string) => string {
  const body = lines.length > 0 ? lines.join("\n") + "\n" : "";
  return () => body;
}

export function silent(): (node: string) => string {
  return () => "";
}

/** klog-style header: I0814 08:59:51.123456       1 file.go:12] msg */
export function klog(at: string, offsetMs: number, where: string, message: string): string {
  const t = new Date(Date.parse(at) + offsetMs);
  const p = (n: number, w = 2): string => String(n).padStart(w, "0");
  const stamp =
    `${p(t.getUTCMonth() + 1)}${p(t.getUTCDate())} ${p(t.getUTCHours())}:${p(t.getUTCMinutes())}:` +
    `${p(t.getUTCSeconds())}.${p(t.getUTCMilliseconds(), 3)}${p((offsetMs * 7) % 1000, 3)}`;
  return `I${stamp}       1 ${where}] ${message}`;
}

/** Calico's non-Felix components (cni installer, kube-controllers) share Felix's line format. */
export function calicoComponentLine(at: string, offsetMs: number, where: string, message: string): string {
  const t = new Date(Date.parse(at) + offsetMs).toISOString();
  return `${t.slice(0, 10)} ${t.slice(11, 23)} [INFO][1] ${where}: ${message}`;
}

export function installCniLog(at: string, conflist: string): (node: string) => string {
  return text(
    calicoComponentLine(at, -2880, "cni-installer/<nil> <nil>", "Running as a Kubernetes pod"),
    calicoComponentLine(
      at,
      -2690,
      "cni-installer/<nil> <nil>",
      'File is already up to date, skipping file="/host/opt/cni/bin/bandwidth"',
    ),
    calicoComponentLine(at, -2360, "cni-installer/<nil> <nil>", "Installed /host/opt/cni/bin/calico"),
    calicoComponentLine(at, -2345, "cni-installer/<nil> <nil>", "Installed /host/opt/cni/bin/calico-ipam"),
    calicoComponentLine(
      at,
      -2298,
      "cni-installer/<nil> <nil>",
      "Wrote Calico CNI binaries to /host/opt/cni/bin",
    ),
    calicoComponentLine(at, -2269, "cni-installer/<nil> <nil>", `Created /host/etc/cni/net.d/${conflist}`),
    calicoComponentLine(at, -2267, "cni-installer/<nil> <nil>", "Done configuring CNI.  Sleep= false"),
  );
}

/**
 * Each node's kube-flannel log: start-up lines, then what the node's `flannelLog` kind adds (the
 * v0.24.3 IPv6 rule loop, or a lookalike), from the line numbers of the spec's flannel image.
 */
export function canalFlannelLog(
  spec: BundleSpec,
  image: string,
  iface: string,
  vni = 1,
): (node: string) => string {
  const quiet = flannelLog(spec.logStart, iface, vni);
  return (nodeName) => {
    const kind = spec.nodes.find((n) => n.name === nodeName)?.flannelLog ?? "quiet";
    if (kind === "quiet") return quiet(nodeName);
    return flannelLogText({
      kind,
      version: image.slice(image.lastIndexOf(":") + 1),
      start: new Date(spec.logStart),
      durationSeconds: spec.logSeconds,
      iface,
    });
  };
}

export function flannelLog(at: string, iface: string, vni = 1): (node: string) => string {
  return text(
    klog(
      at,
      2100,
      "main.go:211",
      "CLI flags config: {etcdEndpoints:http://127.0.0.1:4001,http://127.0.0.1:2379 kubeSubnetMgr:true ipMasq:true}",
    ),
    klog(at, 2140, "kube.go:139", "Waiting 10m0s for node controller to sync"),
    klog(at, 2190, "main.go:433", `Using interface with name ${iface}`),
    klog(
      at,
      2260,
      "vxlan.go:141",
      `VXLAN config: VNI=${String(vni)} Port=0 GBP=false Learning=false DirectRouting=false`,
    ),
    klog(at, 2310, "main.go:485", "Wrote subnet file to /run/flannel/subnet.env"),
    klog(at, 2312, "main.go:489", "Running backend."),
  );
}

export function corednsLog(version: string): (node: string) => string {
  return text(
    ".:53",
    "[INFO] plugin/reload: Running configuration SHA512 = 7996c7ee7c0d9d3a1c2d3a5e7f8a17c0c4b8f35ef1f1f1e7d4a8c49a2f0b6f1e",
    `CoreDNS-${version}`,
    "linux/amd64, go1.21.11 X:boringcrypto, ae2bbc2",
  );
}

export function metricsServerLog(at: string): (node: string) => string {
  return text(
    klog(at, 900, "serving.go:374", "Generated self-signed cert (/tmp/apiserver.crt, /tmp/apiserver.key)"),
    klog(at, 1400, "handler.go:275", "Adding GroupVersion metrics.k8s.io v1beta1 to ResourceManager"),
    klog(at, 1520, "secure_serving.go:213", "Serving securely on [::]:10250"),
  );
}

export function kubectlApplyLog(...objects: string[]): (node: string) => string {
  return text(...objects.map((o) => `${o} configured`));
}
