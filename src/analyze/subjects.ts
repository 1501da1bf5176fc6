// Works out, per node, which Calico/Canal pod runs there, its calico-node container, the container
// an advisory names (calico-node itself, or e.g. Canal's kube-flannel) and which of that container's
// log sources belong to it, so the diagnosis can be done node by node.

import type { CalicoInstall, ContainerFacts, NodeFacts, PodFacts, Snapshot } from "../model/snapshot.js";
import type { LogSourceResult } from "../model/logs.js";

export interface NodeSubject {
  name: string;
  facts: NodeFacts | undefined;
  install: CalicoInstall | undefined;
  pod: PodFacts | undefined;
  /** The calico-node container of the pod template (Felix's settings); none on a flannel install. */
  container: ContainerFacts | undefined;
  /** The pod template's container the advisory names (its image is the version fallback). */
  component: ContainerFacts | undefined;
  logs: LogSourceResult[];
}

/** Node names from nodes.json plus any node a Calico pod is scheduled on, sorted. */
function nodeNames(snapshot: Snapshot): string[] {
  const names = new Set(snapshot.nodes.map((n) => n.name));
  for (const install of snapshot.installs) {
    for (const pod of install.pods) if (pod.nodeName !== undefined) names.add(pod.nodeName);
  }
  return [...names].sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
}

export function nodeSubjects(snapshot: Snapshot, container: string): NodeSubject[] {
  return nodeNames(snapshot).map((name) => {
    let install: CalicoInstall | undefined;
    let pod: PodFacts | undefined;
    for (const i of snapshot.installs) {
      const p = i.pods.find((x) => x.nodeName === name);
      if (p) {
        install = i;
        pod = p;
        break;
      }
    }
    const logs = snapshot.logs.filter(
      (l) =>
        l.source.kind === "pod" &&
        l.source.container === container &&
        (l.source.node === name ||
          (pod !== undefined && l.source.pod === pod.name && l.source.namespace === pod.namespace)),
    );
    return {
      name,
      facts: snapshot.nodes.find((n) => n.name === name),
      install,
      pod,
      container: install?.calicoNode,
      component:
        install?.calicoNode?.name === container ? install.calicoNode : install?.containers?.[container],
      logs,
    };
  });
}
