// The live collector: reads the cluster through the API and fills the same Snapshot the bundle
// collector fills, through the same ../k8s-objects.ts helpers, so a live scan and a scan of a
// bundle of the same cluster give the same verdicts. Whatever cannot be read becomes a Gap.

import { InputError } from "../../errors.js";
import type { Gap } from "../../model/provenance.js";
import type { CalicoInstall, Snapshot } from "../../model/snapshot.js";
import type { SignatureSet } from "../../logs/index.js";
import { majority, rancherManaged, unseenPodsGaps } from "../bundle/collect-bundle.js";
import { rancherFacts } from "../../versions/rancher-cluster.js";
import {
  calicoInstall,
  clusterInformationVersion,
  daemonSetTemplate,
  felixConfigurationFacts,
  metaOf,
  nodeFacts,
  objectFacts,
  installContainer,
  ownerDaemonSet,
  podFacts,
  podLogContainers,
} from "../k8s-objects.js";
import type { KubeClient, Obj } from "../../kube/client.js";
import type { ObjectNeeds } from "../object-needs.js";
import { nothingRead, readInventory, type RawInventory } from "./inventory.js";
import { scanPodLogs, type LogBounds, type PodLogTarget } from "./logs.js";
import { collectResources, type MetricTarget } from "./metrics.js";

export interface LiveOptions {
  container: string;
  /** Further containers whose logs the advisories read, where the install pods run them. */
  logContainers?: readonly string[];
  signatures: SignatureSet;
  now: Date;
  /** Shown as the report's target (the kube context). */
  targetName: string;
  nodeSelector?: string;
  bounds: LogBounds;
  concurrency: number;
  /** Seconds over which to take several resource samples; 0: two scrapes, around the log phase. */
  sampleSeconds: number;
  progress?: (done: number, total: number) => void;
  /** Phase timings for benchmarks (milliseconds). */
  onPhase?: (phase: "inventory" | "logs" | "resources", ms: number) => void;
  clock?: { now(): number; sleep(ms: number): Promise<void> };
  /** Objects the advisories' conditions read beyond the Calico install. */
  needs?: ObjectNeeds;
}

const API = "api";

/** Installs with their pods, exactly as the bundle collector groups them (per namespace, by owner). */
export function installsFrom(inv: RawInventory, container: string): CalicoInstall[] {
  const installs = new Map<string, CalicoInstall>();
  for (const ds of inv.calicoDaemonSets ?? []) {
    const meta = metaOf(ds);
    const install = calicoInstall({
      ...meta,
      podSpec: daemonSetTemplate(ds),
      container,
      ref: `${API} DaemonSet ${meta.namespace}/${meta.name}`,
      source: "daemonset",
    });
    if (install) installs.set(`${meta.namespace}/${meta.name}`, install);
  }
  for (const p of inv.pods ?? []) {
    const owner = ownerDaemonSet(p);
    if (owner === undefined) continue;
    const meta = metaOf(p);
    const key = `${meta.namespace}/${owner}`;
    let install = installs.get(key);
    if (!install && inv.calicoDaemonSets === undefined) {
      install = calicoInstall({
        ...meta,
        name: owner,
        podSpec: (p.spec ?? {}) as Obj,
        container,
        ref: `${API} pod ${meta.namespace}/${meta.name}`,
        source: "pod-spec",
      });
      if (install) installs.set(key, install);
    }
    install?.pods.push(podFacts(p, installContainer(install, container), API));
  }
  return [...installs.values()];
}

/** The Snapshot parts that come from objects alone (no logs, no metrics). */
export function snapshotFromInventory(
  inv: RawInventory,
  opts: { container: string; now: Date; targetName: string },
): Snapshot {
  const nodes = (inv.nodes ?? []).map((n) => nodeFacts(n, API));
  const installs = installsFrom(inv, opts.container);
  const distribution = majority(nodes);
  const managed =
    nodes.length > 0 || inv.namespaces.length > 0 ? rancherManaged(nodes, inv.namespaces) : undefined;
  const rancher =
    managed?.value === true
      ? rancherFacts(
          nodes,
          distribution?.value,
          inv.nodes !== undefined,
          inv.rancherAgent !== undefined
            ? { deployment: inv.rancherAgent, ref: `${API} deployment cattle-system/cattle-cluster-agent` }
            : undefined,
        )
      : undefined;
  const clusterVersion = inv.clusterInformations
    ? clusterInformationVersion(inv.clusterInformations)
    : undefined;
  return {
    target: { kind: "live", name: opts.targetName },
    collectedAt: opts.now.toISOString(),
    nodes,
    installs,
    logs: [],
    gaps: [...inv.gaps],
    ...(distribution ? { distribution } : {}),
    ...(managed ? { rancherManaged: managed } : {}),
    ...(rancher ? { rancher } : {}),
    ...(inv.felixConfigurations
      ? { felixConfigurations: inv.felixConfigurations.map((i) => felixConfigurationFacts(i, API)) }
      : {}),
    ...(clusterVersion !== undefined
      ? {
          clusterCalicoVersion: {
            value: clusterVersion,
            from: { source: "cluster-information", ref: `${API} ClusterInformation default` },
          },
        }
      : {}),
    ...(inv.configMaps !== undefined || inv.ipPools !== undefined
      ? {
          objects: {
            ...(inv.configMaps
              ? {
                  configmaps: {
                    items: inv.configMaps.map((o) => objectFacts(o, "ConfigMap", API)),
                    where: "named ConfigMaps",
                  },
                }
              : {}),
            ...(inv.ipPools
              ? { ippools: { items: inv.ipPools.map((o) => objectFacts(o, "IPPool", API)), where: API } }
              : {}),
          },
        }
      : {}),
  };
}

/** Each install pod's log target; `others`: further containers to read where the pod runs them. */
export function logTargets(
  installs: readonly CalicoInstall[],
  container?: string,
  others: readonly string[] = [],
): PodLogTarget[] {
  return installs.flatMap((i) =>
    i.pods.map((p) => {
      const main = container === undefined ? undefined : installContainer(i, container);
      const extra = main === undefined ? [] : podLogContainers(p, main, others).slice(1);
      return {
        namespace: p.namespace,
        pod: p.name,
        ...(main !== undefined && main !== container ? { container: main } : {}),
        restartCount: p.restartCount,
        ...(p.nodeName !== undefined ? { node: p.nodeName } : {}),
        ...(p.startTime !== undefined ? { startTime: p.startTime } : {}),
        ...(extra.length > 0 ? { others: extra } : {}),
      };
    }),
  );
}

function elapsed(clock: { now(): number }, since: number): number {
  return clock.now() - since;
}

/**
 * The inventory part of the snapshot. Its own function so that the raw API objects (~20 MB per
 * 1,000 nodes) are garbage once it returns, instead of living in collectLive's frame through the
 * long log phase.
 */
async function inventorySnapshot(client: KubeClient, opts: LiveOptions): Promise<Snapshot> {
  const inv = await readInventory(client, {
    container: opts.container,
    trim: true,
    ...(opts.needs !== undefined ? { needs: opts.needs } : {}),
    ...(opts.nodeSelector !== undefined ? { nodeSelector: opts.nodeSelector } : {}),
  });
  const unread = nothingRead(inv);
  if (unread !== undefined) throw new InputError("could not read the cluster", unread);
  const snapshot = snapshotFromInventory(inv, opts);
  // With --nodes, a DaemonSet may rightly have no pod on the selected nodes.
  if (inv.calicoDaemonSets !== undefined && inv.pods !== undefined && opts.nodeSelector === undefined)
    snapshot.gaps.push(...unseenPodsGaps(inv.calicoDaemonSets, snapshot.installs, "the API's pod list"));
  return snapshot;
}

export async function collectLive(client: KubeClient, opts: LiveOptions): Promise<Snapshot> {
  // Pauses between resource samples end when the overall deadline aborts the client.
  const clock = opts.clock ?? { now: () => Date.now(), sleep: (ms: number) => client.sleep(ms) };
  const t0 = clock.now();
  const snapshot = await inventorySnapshot(client, opts);
  opts.onPhase?.("inventory", elapsed(clock, t0));
  const targets = logTargets(snapshot.installs, opts.container, opts.logContainers);
  // CPU and memory are calico-node's: a flannel pod (its own main container) has none to read.
  const metricTargets: MetricTarget[] = targets.flatMap((t) =>
    t.node !== undefined && t.container === undefined
      ? [{ node: t.node, namespace: t.namespace, pod: t.pod }]
      : [],
  );
  let logsDone: () => void = () => undefined;
  const afterLogs = new Promise<void>((resolve) => {
    logsDone = resolve;
  });
  const t1 = clock.now();
  const resourcesP = collectResources(client, metricTargets, {
    container: opts.container,
    concurrency: opts.concurrency,
    rounds: opts.sampleSeconds > 0 ? 4 : 2,
    // Without --resource-sample the two scrapes sit around the log phase, at least 2 s apart.
    intervalMs: opts.sampleSeconds > 0 ? (opts.sampleSeconds * 1000) / 3 : 2000,
    ...(opts.sampleSeconds > 0 ? {} : { beforeLastRound: afterLogs }),
    now: () => clock.now(),
    sleep: (ms) => clock.sleep(ms),
  });
  const logs = await scanPodLogs(client, targets, {
    container: opts.container,
    signatures: opts.signatures,
    bounds: opts.bounds,
    concurrency: opts.concurrency,
    ...(opts.progress ? { onPodDone: opts.progress } : {}),
  });
  opts.onPhase?.("logs", elapsed(clock, t1));
  logsDone();
  const resources = await resourcesP;
  opts.onPhase?.("resources", elapsed(clock, t1));
  const gaps: Gap[] = [...snapshot.gaps, ...logs.gaps, ...resources.gaps];
  return {
    ...snapshot,
    logs: logs.logs,
    gaps,
    ...(resources.source !== "none" || resources.series.length > 0 ? { resources: resources.series } : {}),
  };
}
