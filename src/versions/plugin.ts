// Which CNI a DaemonSet runs (calico, canal, or flannel on its own) and who renders and reconciles it.

import type { CalicoInstall, CalicoPlugin, CniPlugin, Distribution } from "../model/index.js";

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
  plugin: CniPlugin;
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

/** flannel's daemon container, in Canal pods and in flannel's own DaemonSet alike. */
export const FLANNEL_CONTAINER = "kube-flannel";
/** The container a Calico or Canal install is recognised by and read for Felix. */
export const CALICO_CONTAINER = "calico-node";

/** The containers each plugin's DaemonSet runs that advisories name (Canal runs both). */
const PLUGIN_CONTAINERS: Readonly<Record<CniPlugin, readonly string[]>> = {
  calico: [CALICO_CONTAINER],
  canal: [CALICO_CONTAINER, FLANNEL_CONTAINER],
  flannel: [FLANNEL_CONTAINER],
};

/** Whether a plugin's pods run `container` (calico-node: Calico and Canal; kube-flannel: Canal and flannel). */
export function pluginRuns(plugin: CniPlugin, container: string): boolean {
  return PLUGIN_CONTAINERS[plugin].includes(container);
}

/** Whether two plugins are the same product: the Calico flavours, or flannel on its own. */
export function samePluginFamily(a: CniPlugin, b: CniPlugin): boolean {
  return (a === "flannel") === (b === "flannel");
}

/**
 * The container whose log, restarts and resources stand for an install's pod: `container`
 * (calico-node) for Calico and Canal, flannel's own container on a flannel install.
 */
export function installContainer(install: { plugin: CniPlugin }, container: string): string {
  return install.plugin === "flannel" ? FLANNEL_CONTAINER : container;
}

/** The helm release or chart named in labels/annotations, when it is RKE2's flannel chart. */
function rke2FlannelMarker(ds: DaemonSetMetadata): string | undefined {
  const all: Record<string, string> = { ...ds.labels, ...(ds.annotations ?? {}) };
  for (const key of HELM_RELEASE_KEYS) if (all[key] === "rke2-flannel") return `${key}=rke2-flannel`;
  for (const key of HELM_CHART_KEYS) {
    const v = all[key];
    if (v !== undefined && /^rke2-flannel(-v|$)/.test(v)) return `${key}=${v}`;
  }
  return undefined;
}

/**
 * A DaemonSet running flannel's daemon without Calico: RKE2's rke2-flannel chart (its helm
 * release/chart markers) or flannel's own kube-flannel.yml / chart (kube-flannel-ds in
 * kube-flannel, or kube-system in older manifests), which is a manifest install.
 */
function detectFlannel(ds: DaemonSetMetadata): PluginDetection | undefined {
  if (!ds.containerNames.includes(FLANNEL_CONTAINER)) return undefined;
  const where = `${ds.namespace}/${ds.name}`;
  const marker = rke2FlannelMarker(ds);
  if (marker !== undefined)
    return { plugin: "flannel", managedBy: "rke2-flannel-chart", reason: `${where} carries ${marker}` };
  // RKE1's `network.plugin: flannel` add-on: `rke up` re-renders it from cluster.yml. Only on a
  // cluster known to be RKE1, since older upstream manifests used the same name.
  if (ds.namespace === "kube-system" && ds.name === "kube-flannel" && ds.distribution === "rke1")
    return {
      plugin: "flannel",
      managedBy: "rke1-addon",
      reason: `${where} is the RKE1 flannel add-on DaemonSet`,
    };
  return {
    plugin: "flannel",
    managedBy: "manifest",
    reason: `${where} runs ${FLANNEL_CONTAINER} without calico-node and matches no known installer`,
  };
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
 * Recognises a CNI install from its DaemonSet: any DaemonSet with a `calico-node` container is
 * Calico or Canal; one with a `kube-flannel` container and no calico-node is flannel on its own
 * (managed by the rke2-flannel chart when its helm markers say so, else a manifest install).
 * It is canal when it also runs `kube-flannel`, is named canal/rke2-canal or is labelled
 * k8s-app=canal. managedBy: kube-system/canal and kube-system/calico-node are RKE1's add-on
 * (unless `distribution` says the cluster is not RKE1), kube-system/rke2-canal is the rke2-canal
 * chart, calico-system/* is the tigera-operator, attributed to the rke2-calico chart when helm
 * markers, the cluster distribution or Rancher's mirrored images say so; anything else is "manifest".
 */
export function detectPlugin(ds: DaemonSetMetadata): PluginDetection | undefined {
  if (!ds.containerNames.includes(CALICO_CONTAINER)) return detectFlannel(ds);
  const plugin: CalicoPlugin = isCanal(ds) ? "canal" : "calico";
  const { managedBy, why } = managerOf(ds, plugin);
  return { plugin, managedBy, reason: why };
}
