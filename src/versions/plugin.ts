// Which Calico flavour a DaemonSet runs (calico or canal) and who renders and reconciles it.

import type { CalicoInstall, CalicoPlugin, Distribution } from "../model/index.js";

export interface DaemonSetMetadata {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  containerNames: string[];
  /** DaemonSet annotations (helm's meta.helm.sh/release-name lives here). */
  annotations?: Record<string, string>;
  /** Container images of the pod template, used to tell RKE2's mirrored Calico from upstream's. */
  images?: string[];
  /** The cluster's distribution when already known; keeps RKE1 add-on and plain manifests apart. */
  distribution?: Distribution;
}

export type ManagedBy = CalicoInstall["managedBy"];

export interface PluginDetection {
  plugin: CalicoPlugin;
  managedBy: ManagedBy;
  /** One sentence saying what decided it. */
  reason: string;
}

const HELM_RELEASE_KEYS = ["meta.helm.sh/release-name", "app.kubernetes.io/instance", "release"];
const HELM_CHART_KEYS = ["helm.sh/chart", "chart"];

/** The helm release or chart named in labels/annotations, when it is one of RKE2's Calico charts. */
function rke2ChartMarker(ds: DaemonSetMetadata): string | undefined {
  const all: Record<string, string> = { ...ds.labels, ...(ds.annotations ?? {}) };
  for (const key of HELM_RELEASE_KEYS) {
    const v = all[key];
    if (v === "rke2-calico" || v === "rke2-canal") return `${key}=${v}`;
  }
  for (const key of HELM_CHART_KEYS) {
    const v = all[key];
    if (v !== undefined && /^rke2-ca(lico|nal)(-v|$)/.test(v)) return `${key}=${v}`;
  }
  return undefined;
}

function isCanal(ds: DaemonSetMetadata): boolean {
  return (
    ds.containerNames.includes("kube-flannel") ||
    ds.name === "canal" ||
    ds.name === "rke2-canal" ||
    ds.labels["k8s-app"] === "canal"
  );
}

function usesRancherMirroredCalico(ds: DaemonSetMetadata): boolean {
  return (ds.images ?? []).some((i) => /(^|\/)rancher\/mirrored-calico-node[:@]/.test(i));
}

function managerOf(ds: DaemonSetMetadata, plugin: CalicoPlugin): { managedBy: ManagedBy; why: string } {
  const where = `${ds.namespace}/${ds.name}`;
  const marker = rke2ChartMarker(ds);
  if (plugin === "canal" && (ds.name === "rke2-canal" || marker?.endsWith("rke2-canal") === true)) {
    return { managedBy: "rke2-canal-chart", why: `${where} is the rke2-canal chart's DaemonSet` };
  }
  if (ds.namespace === "calico-system") {
    if (marker !== undefined) return { managedBy: "rke2-calico-chart", why: `${where} carries ${marker}` };
    if (ds.distribution === "rke2") {
      return { managedBy: "rke2-calico-chart", why: `${where} is operator-managed on an RKE2 cluster` };
    }
    if (usesRancherMirroredCalico(ds)) {
      return {
        managedBy: "rke2-calico-chart",
        why: `${where} runs rancher/mirrored-calico-node (RKE2 chart)`,
      };
    }
    return {
      managedBy: "tigera-operator",
      why: `${where} is in calico-system, the tigera-operator namespace`,
    };
  }
  const rke1Name = plugin === "canal" ? "canal" : "calico-node";
  if (ds.namespace === "kube-system" && ds.name === rke1Name) {
    if (ds.distribution === undefined || ds.distribution === "rke1") {
      return { managedBy: "rke1-addon", why: `${where} is the RKE1 ${plugin} add-on DaemonSet` };
    }
    return {
      managedBy: "manifest",
      why: `${where} has the RKE1 add-on name but the cluster is ${ds.distribution}`,
    };
  }
  return { managedBy: "manifest", why: `${where} matches no known installer` };
}

/**
 * Recognises a Calico install from its DaemonSet: any DaemonSet with a `calico-node` container.
 * It is canal when it also runs `kube-flannel`, is named canal/rke2-canal or is labelled
 * k8s-app=canal. managedBy: kube-system/canal and kube-system/calico-node are RKE1's add-on
 * (unless `distribution` says the cluster is not RKE1), kube-system/rke2-canal is the rke2-canal
 * chart, calico-system/* is the tigera-operator, attributed to the rke2-calico chart when helm
 * markers, the cluster distribution or Rancher's mirrored images say so; anything else is "manifest".
 */
export function detectPlugin(ds: DaemonSetMetadata): PluginDetection | undefined {
  if (!ds.containerNames.includes("calico-node")) return undefined;
  const plugin: CalicoPlugin = isCanal(ds) ? "canal" : "calico";
  const { managedBy, why } = managerOf(ds, plugin);
  return { plugin, managedBy, reason: why };
}
