// The raw objects a live scan reads, fetched once: nodes, every DaemonSet, the pods of the Calico
// and Canal DaemonSets, FelixConfigurations and ClusterInformations. Kept raw so the same read can
// become a Snapshot (through ../k8s-objects.ts, like the bundle collector) or be written as a bundle.

import { NODE_FACTS_HELM_VALUE } from "../../model/node-fact-series.js";
import { UsageError } from "../../errors.js";
import type { Gap } from "../../model/provenance.js";
import { calicoInstall, daemonSetTemplate, metaOf, ownerDaemonSet } from "../k8s-objects.js";
import type { ApiFailure, KubeClient, Obj } from "../../kube/client.js";
import { NO_OBJECT_NEEDS, type ObjectNeeds } from "../object-needs.js";
import { FLANNEL_CONTAINER } from "../../versions/index.js";

export interface RawInventory {
  nodes?: Obj[];
  /** Calico, Canal and flannel DaemonSets (undefined: the list failed). */
  calicoDaemonSets?: Obj[];
  /** Calico pods (owned by those DaemonSets), limited to the selected nodes. */
  pods?: Obj[];
  felixConfigurations?: Obj[];
  clusterInformations?: Obj[];
  /** Namespaces known to exist (from DaemonSets and pods seen), for the Rancher check. */
  namespaces: string[];
  /** cattle-system/cattle-cluster-agent (the Rancher version it names), when Rancher's agent runs. */
  rancherAgent?: Obj;
  /** The named ConfigMaps that exist (undefined: none was asked for, or reading them failed). */
  configMaps?: Obj[];
  /** IPPools (undefined: not asked for, or the list failed). */
  ipPools?: Obj[];
  gaps: Gap[];
}

export interface InventoryOptions {
  container: string;
  /** Label selector on nodes (--nodes). */
  nodeSelector?: string;
  /**
   * Drop what no analysis reads — metadata.managedFields everywhere, a Node's status.images — as
   * each page arrives (scan). A bundle (collect) keeps objects whole.
   */
  trim?: boolean;
  /** Objects the advisories' conditions read beyond the Calico install (default: none). */
  needs?: ObjectNeeds;
}

/** The parts of an API object that a scan never reads, removed in place. */
export function trimObject(item: Obj): Obj {
  const meta = item.metadata as Obj | undefined;
  if (meta !== undefined) delete meta.managedFields;
  const status = item.status as Obj | undefined;
  if (status?.nodeInfo !== undefined) delete status.images;
  return item;
}

const CALICO_GROUP = "/apis/crd.projectcalico.org/v1";

function q(selector: string | undefined): string {
  return selector !== undefined && selector !== "" ? `?labelSelector=${encodeURIComponent(selector)}` : "";
}

function apiGap(check: string, r: ApiFailure, subject?: string): Gap {
  return { check, reason: r.problem, ...(subject !== undefined ? { subject } : {}) };
}

/** A Calico CRD that is not served is an absent optional extra; anything else is a real gap. */
function crdGap(check: string, kind: string, r: ApiFailure): Gap {
  if (r.status === 404)
    return { check, reason: `${kind} not served: Calico CRDs not installed (${r.problem})`, optional: true };
  return apiGap(check, r);
}

/** The DaemonSet's matchLabels as a label selector, to list only its pods. */
function selectorOf(ds: Obj): string {
  const sel = ((ds.spec as Obj | undefined)?.selector ?? {}) as { matchLabels?: unknown };
  const labels = (sel.matchLabels ?? {}) as Record<string, unknown>;
  return Object.entries(labels)
    .filter((e): e is [string, string] => typeof e[1] === "string")
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}

function isCalico(ds: Obj, container: string): boolean {
  const meta = metaOf(ds);
  return (
    calicoInstall({
      ...meta,
      podSpec: daemonSetTemplate(ds),
      container,
      ref: "",
      source: "daemonset",
    }) !== undefined
  );
}

type Keep = ((item: Obj) => Obj) | undefined;

async function listCalicoPods(
  client: KubeClient,
  daemonSets: readonly Obj[],
  keep: Keep,
): Promise<{ pods: Obj[]; gaps: Gap[] }> {
  const pods: Obj[] = [];
  const gaps: Gap[] = [];
  for (const ds of daemonSets) {
    const meta = metaOf(ds);
    const r = await client.list(
      `/api/v1/namespaces/${encodeURIComponent(meta.namespace)}/pods${q(selectorOf(ds))}`,
      undefined,
      keep,
    );
    if (!r.ok) {
      gaps.push(apiGap("pods", r, meta.namespace));
      continue;
    }
    pods.push(...r.value.filter((p) => ownerDaemonSet(p) === meta.name));
  }
  return { pods, gaps };
}

/** When DaemonSets cannot be listed, pods owned by any DaemonSet stand in (like the bundle reader). */
async function podsWithoutDaemonSets(
  client: KubeClient,
  container: string,
  keep: Keep,
): Promise<{ pods?: Obj[]; gap?: Gap }> {
  const r = await client.list("/api/v1/pods", undefined, keep);
  if (!r.ok) return { gap: apiGap("pods", r) };
  const pods = r.value.filter((p) => {
    if (ownerDaemonSet(p) === undefined) return false;
    const spec = (p.spec ?? {}) as { containers?: unknown };
    // calico-node for Calico and Canal, flannel's own container for a flannel install.
    return (
      Array.isArray(spec.containers) &&
      (spec.containers as Obj[]).some((c) => c.name === container || c.name === FLANNEL_CONTAINER)
    );
  });
  return { pods };
}

function nodeNameOf(pod: Obj): string {
  const name = (pod.spec as Obj | undefined)?.nodeName;
  return typeof name === "string" ? name : "";
}

async function rancherAgentPresent(client: KubeClient): Promise<boolean> {
  const r = await client.getJson("/api/v1/namespaces/cattle-system/pods?limit=1");
  return r.ok && Array.isArray(r.value.items) && r.value.items.length > 0;
}

/**
 * Why nothing at all could be read (no node, DaemonSet or pod list came back): credentials or
 * connectivity, not a partial read. Undefined when anything was read.
 */
export function nothingRead(inv: RawInventory): string | undefined {
  if (inv.nodes !== undefined || inv.calicoDaemonSets !== undefined || inv.pods !== undefined)
    return undefined;
  return inv.gaps[0]?.reason ?? "no object could be listed";
}

/** A selector that picks no node would report "nothing affected" about nothing: a mistake. */
function refuseEmptySelection(nodes: readonly Obj[], selector: string | undefined): void {
  if (nodes.length === 0 && selector !== undefined && selector !== "")
    throw new UsageError(`--nodes '${selector}' matches no node of the cluster`);
}

/**
 * The named ConfigMaps, one GET each (the least-RBAC role grants get on these names only, never a
 * ConfigMap list). Absent is no gap: a cluster without Canal has no canal-config.
 */
async function readConfigMaps(
  client: KubeClient,
  wanted: ObjectNeeds["configMaps"],
): Promise<{ items?: Obj[]; gaps: Gap[] }> {
  if (wanted.length === 0) return { gaps: [] };
  const items: Obj[] = [];
  const gaps: Gap[] = [];
  for (const w of wanted) {
    const r = await client.getJson(
      `/api/v1/namespaces/${encodeURIComponent(w.namespace)}/configmaps/${encodeURIComponent(w.name)}`,
    );
    if (r.ok) items.push(r.value);
    else if (r.status !== 404) gaps.push(apiGap("configmaps", r, w.namespace));
  }
  return gaps.length > 0 && items.length === 0 ? { gaps } : { items, gaps };
}

/** The objects advisory conditions read beyond the Calico install, and the gaps of reading them. */
async function readNeeded(
  client: KubeClient,
  needs: ObjectNeeds = NO_OBJECT_NEEDS,
): Promise<{ configMaps?: Obj[]; ipPools?: Obj[]; gaps: Gap[] }> {
  const gaps: Gap[] = [];
  const maps = await readConfigMaps(client, needs.configMaps);
  gaps.push(...maps.gaps);
  const poolsR = needs.ipPools ? await client.list(`${CALICO_GROUP}/ippools`) : undefined;
  if (poolsR !== undefined && !poolsR.ok) gaps.push(crdGap("ippools", "IPPool", poolsR));
  if (needs.agentFacts)
    gaps.push({
      check: "node-agent",
      reason: `a live scan reads node agent data (NIC driver, UDP checksum counters, kernel log) only from the agent's series in Prometheus: set ${NODE_FACTS_HELM_VALUE}=true in the cnidoctor-agent Helm chart and scan with --prometheus URL`,
      optional: true,
    });
  return {
    gaps,
    ...(maps.items !== undefined ? { configMaps: maps.items } : {}),
    ...(poolsR?.ok === true ? { ipPools: poolsR.value } : {}),
  };
}

export async function readInventory(client: KubeClient, opts: InventoryOptions): Promise<RawInventory> {
  const gaps: Gap[] = [];
  const keep: Keep = opts.trim === true ? trimObject : undefined;
  const [nodesR, dsR, felixR, infoR, rancher] = await Promise.all([
    client.list(`/api/v1/nodes${q(opts.nodeSelector)}`, undefined, keep),
    client.list("/apis/apps/v1/daemonsets", undefined, keep),
    client.list(`${CALICO_GROUP}/felixconfigurations`),
    client.list(`${CALICO_GROUP}/clusterinformations`),
    rancherAgentPresent(client),
  ]);
  if (!nodesR.ok) gaps.push(apiGap("nodes", nodesR));
  if (nodesR.ok) refuseEmptySelection(nodesR.value, opts.nodeSelector);
  // One GET of one Deployment (never Secrets): where the Rancher version shows. Forbidden or absent
  // only leaves the Rancher version unknown.
  const agentR = rancher
    ? await client.getJson("/apis/apps/v1/namespaces/cattle-system/deployments/cattle-cluster-agent")
    : undefined;
  const namespaces = new Set<string>(rancher ? ["cattle-system"] : []);
  let calicoDaemonSets: Obj[] | undefined;
  let pods: Obj[] | undefined;
  if (dsR.ok) {
    for (const ds of dsR.value) namespaces.add(metaOf(ds).namespace);
    calicoDaemonSets = dsR.value.filter((ds) => isCalico(ds, opts.container));
    const r = await listCalicoPods(client, calicoDaemonSets, keep);
    pods = r.pods;
    gaps.push(...r.gaps);
  } else {
    gaps.push(apiGap("daemonsets", dsR));
    const r = await podsWithoutDaemonSets(client, opts.container, keep);
    pods = r.pods;
    if (r.gap) gaps.push(r.gap);
  }
  if (pods && nodesR.ok && opts.nodeSelector !== undefined && opts.nodeSelector !== "") {
    const selected = new Set(nodesR.value.map((n) => metaOf(n).name));
    pods = pods.filter((p) => selected.has(nodeNameOf(p)));
  }
  for (const p of pods ?? []) namespaces.add(metaOf(p).namespace);
  const { gaps: neededGaps, ...needed } = await readNeeded(client, opts.needs);
  gaps.push(...neededGaps);
  if (!felixR.ok) gaps.push(crdGap("felix-configuration", "FelixConfiguration", felixR));
  if (!infoR.ok) gaps.push(crdGap("cluster-information", "ClusterInformation", infoR));
  return {
    namespaces: [...namespaces].filter((n) => n !== "").sort(),
    gaps,
    ...(nodesR.ok ? { nodes: nodesR.value } : {}),
    ...(calicoDaemonSets ? { calicoDaemonSets } : {}),
    ...(pods ? { pods } : {}),
    ...(felixR.ok ? { felixConfigurations: felixR.value } : {}),
    ...(infoR.ok ? { clusterInformations: infoR.value } : {}),
    ...(agentR?.ok === true ? { rancherAgent: agentR.value } : {}),
    ...needed,
  };
}
