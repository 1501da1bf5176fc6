// Collector for `kubectl cluster-info dump --all-namespaces --output-directory DIR` bundles, plus the
// optional extras documented in the README (felixconfigurations.json, clusterinformations.json,
// cluster.yml). A missing or broken file becomes a Gap: "could not be read", never "empty".

import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Gap } from "../../model/provenance.js";
import type {
  AgentNodeFacts,
  CalicoInstall,
  Distribution,
  NodeFacts,
  ObjectList,
  Snapshot,
} from "../../model/snapshot.js";
import type { LogSourceResult } from "../../model/logs.js";
import { InputError } from "../../errors.js";
import type { SignatureSet } from "../../logs/index.js";
import {
  agentNodeFacts,
  calicoInstall,
  clusterInformationVersion,
  daemonSetTemplate,
  felixConfigurationFacts,
  installContainer,
  metaOf,
  nodeFacts,
  objectFacts,
  ownerDaemonSet,
  podFacts,
  podLogContainers,
} from "../k8s-objects.js";
import { NO_OBJECT_NEEDS, type ObjectNeeds } from "../object-needs.js";
import { NODE_FACTS_HELM_VALUE } from "../../model/node-fact-series.js";
import { readList } from "./read-list.js";
import type { ListRead } from "./read-list.js";
import { readPodLogs } from "./pod-logs.js";
import { RANCHER_AGENT, rancherFacts } from "../../versions/rancher-cluster.js";
import { readRkeClusterConfig } from "./rke-config.js";

export interface BundleOptions {
  /** The container whose image and logs matter (calico-node). */
  container: string;
  /**
   * Further containers whose logs the advisories read (e.g. Canal's kube-flannel), read in the
   * pods that run them.
   */
  logContainers?: readonly string[];
  signatures: SignatureSet;
  now: Date;
  /** Objects and node agent data the advisories' conditions read (default: none). */
  needs?: ObjectNeeds;
}

/** The file inside the bundle, JSON first, YAML when the dump was taken with -o yaml. */
async function readListAny(dir: string, stem: string): Promise<ListRead> {
  const json = await readList(join(dir, `${stem}.json`));
  if (json.ok || !json.missing) return json;
  const yaml = await readList(join(dir, `${stem}.yaml`));
  return yaml.ok || !yaml.missing ? yaml : json;
}

function gapFrom(check: string, r: Extract<ListRead, { ok: false }>, hint = "", optionalExtra = false): Gap {
  return {
    check,
    reason: `${r.path}: ${r.problem}${hint}`,
    ...(optionalExtra && r.missing ? { optional: true } : {}),
  };
}

/**
 * Reads one of the optional Calico extras (`kubectl get <plural>.crd.projectcalico.org -o json`
 * saved into the bundle). Absent is an optional gap that says how to add it; broken is a real gap.
 */
async function readCalicoExtra(dir: string, plural: string, check: string, gaps: Gap[]): Promise<ListRead> {
  const read = await readListAny(dir, plural);
  if (!read.ok) {
    const hint = read.missing ? ` (add \`kubectl get ${plural}.crd.projectcalico.org -o json\`)` : "";
    gaps.push(gapFrom(check, read, hint, true));
  }
  return read;
}

/**
 * The named ConfigMaps from `<ns>/configmaps.json` (an extra: `kubectl get configmap -n NS NAME -o
 * json` for each name the advisories give). Only the named ones are kept. Undefined when no
 * namespace that should hold one had the file.
 */
async function readConfigMaps(
  dir: string,
  nsList: readonly string[],
  wanted: ObjectNeeds["configMaps"],
  gaps: Gap[],
): Promise<ObjectList | undefined> {
  if (wanted.length === 0) return undefined;
  const where = wanted.map((w) => `${w.namespace}/${w.name}`).join(", ");
  const namespaces = [...new Set(wanted.map((w) => w.namespace))].filter((ns) => nsList.includes(ns));
  let read = false;
  const items: ObjectList["items"] = [];
  for (const ns of namespaces) {
    const r = await readListAny(join(dir, ns), "configmaps");
    if (!r.ok) {
      if (!r.missing) gaps.push({ ...gapFrom("configmaps", r), subject: ns });
      continue;
    }
    read = true;
    for (const o of r.items) {
      const meta = metaOf(o);
      if (wanted.some((w) => w.namespace === (meta.namespace || ns) && w.name === meta.name))
        items.push(
          objectFacts({ ...o, metadata: { ...meta, namespace: meta.namespace || ns } }, "ConfigMap", r.path),
        );
    }
  }
  if (read) return { items, where };
  gaps.push({
    check: "configmaps",
    reason: `no <namespace>/configmaps.json in the bundle (add \`kubectl get configmap -n NAMESPACE NAME -o json\` for ${where})`,
    optional: true,
  });
  return undefined;
}

/** node-facts.json: what node agents read on their nodes; absent is an optional gap. */
async function readAgentFacts(dir: string, gaps: Gap[]): Promise<AgentNodeFacts[] | undefined> {
  const r = await readListAny(dir, "node-facts");
  if (!r.ok) {
    const hint = r.missing
      ? ` (the node agent's facts: its --state-dir/node-facts.json from each node, with --host-root set; or scan with --prometheus URL to read them from the agent's series, with ${NODE_FACTS_HELM_VALUE}=true in its Helm chart)`
      : "";
    gaps.push({ ...gapFrom("node-agent", r, hint, true) });
    return undefined;
  }
  return r.items.flatMap((o) => {
    const f = agentNodeFacts(o, r.path);
    return f ? [f] : [];
  });
}

/** What advisory conditions read beyond the Calico install: named ConfigMaps, IPPools, node facts. */
async function readConditionExtras(
  dir: string,
  nsList: readonly string[],
  needs: ObjectNeeds,
  gaps: Gap[],
): Promise<Pick<Snapshot, "objects" | "agentFacts">> {
  const configmaps = await readConfigMaps(dir, nsList, needs.configMaps, gaps);
  const poolRead = needs.ipPools ? await readCalicoExtra(dir, "ippools", "ippools", gaps) : undefined;
  const ippools: ObjectList | undefined =
    poolRead?.ok === true
      ? { items: poolRead.items.map((o) => objectFacts(o, "IPPool", poolRead.path)), where: poolRead.path }
      : undefined;
  const agentFacts = needs.agentFacts ? await readAgentFacts(dir, gaps) : undefined;
  return {
    ...(configmaps !== undefined || ippools !== undefined
      ? { objects: { ...(configmaps ? { configmaps } : {}), ...(ippools ? { ippools } : {}) } }
      : {}),
    ...(agentFacts !== undefined ? { agentFacts } : {}),
  };
}

async function namespaces(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

/** The distribution most nodes show; shared with the live collector. */
export function majority(nodes: NodeFacts[]): Snapshot["distribution"] {
  const counts = new Map<Distribution, number>();
  for (const n of nodes) counts.set(n.distribution.value, (counts.get(n.distribution.value) ?? 0) + 1);
  const best = [...counts.entries()].sort((a, b) => b[1] - a[1])[0];
  if (!best) return undefined;
  const example = nodes.find((n) => n.distribution.value === best[0]);
  return {
    value: best[0],
    from: {
      source: "node",
      ref: `${best[1]} of ${nodes.length} nodes; e.g. ${example?.distribution.from.ref ?? ""}`,
    },
  };
}

/** Rancher agent namespace or Rancher node annotations; shared with the live collector. */
export function rancherManaged(nodes: NodeFacts[], nsList: string[]): Snapshot["rancherManaged"] {
  if (nsList.includes("cattle-system"))
    return { value: true, from: { source: "file", ref: "namespace cattle-system present (Rancher agent)" } };
  const marked = nodes.find((n) =>
    Object.keys(n.annotations).some(
      (k) => k.startsWith("management.cattle.io/") || k === "cattle.io/creator",
    ),
  );
  if (marked)
    return {
      value: true,
      from: { source: "node", ref: `node ${marked.name} carries Rancher management annotations` },
    };
  return {
    value: false,
    from: { source: "file", ref: "no cattle-system namespace and no Rancher node annotations" },
  };
}

/** The cattle-cluster-agent Deployment from cattle-system/deployments.json, when the dump has it. */
async function rancherAgent(
  dir: string,
  nsList: string[],
): Promise<{ deployment: Record<string, unknown>; ref: string } | undefined> {
  if (!nsList.includes(RANCHER_AGENT.namespace)) return undefined;
  const read = await readListAny(join(dir, RANCHER_AGENT.namespace), "deployments");
  if (!read.ok) return undefined;
  const deployment = read.items.find((d) => metaOf(d).name === RANCHER_AGENT.name);
  return deployment === undefined
    ? undefined
    : { deployment, ref: `${read.path} ${RANCHER_AGENT.namespace}/${RANCHER_AGENT.name}` };
}

/**
 * A Calico/Canal DaemonSet that wants pods (status.desiredNumberScheduled > 0) but of which no pod
 * is visible (an empty pods.json, a list that came back empty) cannot vouch for any node: that is
 * a gap on its pods, which makes the nodes without a visible pod `unknown`, never not-affected.
 */
export function unseenPodsGaps(
  daemonSets: readonly Record<string, unknown>[],
  installs: readonly CalicoInstall[],
  where: string,
): Gap[] {
  const gaps: Gap[] = [];
  for (const ds of daemonSets) {
    const meta = metaOf(ds);
    const install = installs.find((i) => i.namespace === meta.namespace && i.name === meta.name);
    if (install === undefined || install.pods.length > 0) continue;
    const wanted = ((ds.status ?? {}) as { desiredNumberScheduled?: unknown }).desiredNumberScheduled;
    if (typeof wanted !== "number" || wanted <= 0) continue;
    gaps.push({
      check: "pods",
      subject: meta.namespace,
      reason: `DaemonSet ${meta.namespace}/${meta.name} wants ${wanted} pods but none is visible in ${where}`,
    });
  }
  return gaps;
}

interface NamespaceResult {
  installs: CalicoInstall[];
  gaps: Gap[];
}

async function collectNamespace(dir: string, ns: string, container: string): Promise<NamespaceResult> {
  const nsDir = join(dir, ns);
  const [dsRead, podRead] = await Promise.all([readListAny(nsDir, "daemonsets"), readListAny(nsDir, "pods")]);
  const gaps: Gap[] = [];
  const installs = new Map<string, CalicoInstall>();
  if (dsRead.ok) {
    for (const ds of dsRead.items) {
      const meta = metaOf(ds);
      const install = calicoInstall({
        ...meta,
        namespace: meta.namespace || ns,
        podSpec: daemonSetTemplate(ds),
        container,
        ref: `${dsRead.path} DaemonSet ${ns}/${meta.name}`,
        source: "daemonset",
      });
      if (install) installs.set(meta.name, install);
    }
  } else {
    gaps.push({ ...gapFrom("daemonsets", dsRead), subject: ns });
  }
  if (!podRead.ok) {
    gaps.push({ ...gapFrom("pods", podRead), subject: ns });
    return { installs: [...installs.values()], gaps };
  }
  for (const p of podRead.items) {
    const owner = ownerDaemonSet(p);
    if (owner === undefined) continue;
    let install = installs.get(owner);
    if (!install && !dsRead.ok) {
      // DaemonSets unreadable: the pod's own spec stands in for the template.
      const meta = metaOf(p);
      install = calicoInstall({
        ...meta,
        name: owner,
        namespace: meta.namespace || ns,
        podSpec: (p.spec ?? {}) as Record<string, unknown>,
        container,
        ref: `${podRead.path} pod ${ns}/${meta.name}`,
        source: "pod-spec",
      });
      if (install) installs.set(owner, install);
    }
    install?.pods.push(podFacts(p, installContainer(install, container), podRead.path));
  }
  if (dsRead.ok)
    gaps.push(
      ...unseenPodsGaps(
        dsRead.items.map((ds) => ({
          ...ds,
          metadata: { ...metaOf(ds), namespace: metaOf(ds).namespace || ns },
        })),
        [...installs.values()],
        podRead.path,
      ),
    );
  return { installs: [...installs.values()], gaps };
}

async function collectLogs(
  dir: string,
  installs: CalicoInstall[],
  container: string,
  others: readonly string[],
  set: SignatureSet,
): Promise<LogSourceResult[]> {
  const requests = installs.flatMap((i) =>
    i.pods.map((p) => ({
      path: join(dir, p.namespace, p.name, "logs.txt"),
      namespace: p.namespace,
      pod: p.name,
      containers: podLogContainers(p, installContainer(i, container), others),
      ...(p.startTime !== undefined ? { startTime: p.startTime } : {}),
      ...(p.nodeName !== undefined ? { node: p.nodeName } : {}),
    })),
  );
  const results: LogSourceResult[] = [];
  // A few files at a time: enough to overlap I/O, little enough to keep memory flat on big bundles.
  const queue = [...requests];
  const workers = Array.from({ length: 4 }, async () => {
    for (let req = queue.shift(); req; req = queue.shift()) results.push(...(await readPodLogs(req, set)));
  });
  await Promise.all(workers);
  return results.sort((a, b) => JSON.stringify(a.source).localeCompare(JSON.stringify(b.source)));
}

/** A pod log the bundle names but that could not be read is a gap for its node. */
function unreadableLogGaps(logs: readonly LogSourceResult[]): Gap[] {
  return logs.flatMap((l): Gap[] =>
    l.status === "unreadable" && l.source.kind === "pod"
      ? [
          {
            check: "logs",
            reason: l.problem ?? "unreadable",
            subject: l.source.node ?? `${l.source.namespace}/${l.source.pod}`,
          },
        ]
      : [],
  );
}

export async function collectBundle(dir: string, options: BundleOptions): Promise<Snapshot> {
  const st = await stat(dir).catch(() => undefined);
  if (!st) throw new InputError(dir, "no such directory");
  if (!st.isDirectory())
    throw new InputError(
      dir,
      "not a directory (expected the output of `kubectl cluster-info dump --output-directory`)",
    );
  const gaps: Gap[] = [];
  const nodesRead = await readListAny(dir, "nodes");
  const nodes = nodesRead.ok ? nodesRead.items.map((n) => nodeFacts(n, nodesRead.path)) : [];
  if (!nodesRead.ok) gaps.push(gapFrom("nodes", nodesRead));
  const nsList = await namespaces(dir);
  const perNs = await Promise.all(nsList.map((ns) => collectNamespace(dir, ns, options.container)));
  const installs = perNs.flatMap((r) => r.installs);
  gaps.push(...perNs.flatMap((r) => r.gaps));
  const felixRead = await readCalicoExtra(dir, "felixconfigurations", "felix-configuration", gaps);
  const infoRead = await readCalicoExtra(dir, "clusterinformations", "cluster-information", gaps);
  const extras = await readConditionExtras(dir, nsList, options.needs ?? NO_OBJECT_NEEDS, gaps);
  const rke = await readRkeClusterConfig(dir);
  if (rke.gap) gaps.push(rke.gap);
  const logs = await collectLogs(
    dir,
    installs,
    options.container,
    options.logContainers ?? [],
    options.signatures,
  );
  gaps.push(...unreadableLogGaps(logs));
  const clusterVersion = infoRead.ok ? clusterInformationVersion(infoRead.items) : undefined;
  const distribution = majority(nodes);
  const managed = nodes.length > 0 || nsList.length > 0 ? rancherManaged(nodes, nsList) : undefined;
  const rancher =
    managed?.value === true
      ? rancherFacts(nodes, distribution?.value, nodesRead.ok, await rancherAgent(dir, nsList))
      : undefined;
  return {
    target: { kind: "bundle", name: dir },
    collectedAt: options.now.toISOString(),
    nodes,
    installs,
    logs,
    gaps,
    ...(distribution ? { distribution } : {}),
    ...(managed ? { rancherManaged: managed } : {}),
    ...(rancher ? { rancher } : {}),
    ...(felixRead.ok
      ? { felixConfigurations: felixRead.items.map((i) => felixConfigurationFacts(i, felixRead.path)) }
      : {}),
    ...(clusterVersion !== undefined && infoRead.ok
      ? {
          clusterCalicoVersion: {
            value: clusterVersion,
            from: { source: "cluster-information", ref: `${infoRead.path} ClusterInformation default` },
          },
        }
      : {}),
    ...(rke.config ? { rkeConfig: rke.config } : {}),
    ...extras,
  };
}
