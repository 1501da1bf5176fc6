// What a cluster shows of the Rancher that manages it: the Rancher server version (from the
// cattle-cluster-agent Deployment, never from Secrets) and whether Rancher provisioned the cluster
// or it was only imported. The answer decides where a change must be made: a provisioned RKE2
// cluster takes chart values from Rancher's cluster object, an imported one from files on its nodes.
//
// Markers of Rancher provisioning (v2 provisioning, RKE2/K3s), from rancher/rancher pkg/capr:
//  - node label `rke.cattle.io/machine` = the UID of the Rancher machine the node was planned for
//    (capr's MachineUIDLabel; Rancher's own provisioning tests assert it on every node);
//  - node annotations `cluster.x-k8s.io/*` (cluster-name, machine, owner-name...) that Cluster API,
//    which Rancher provisioning drives, puts on the nodes of the machines it manages.
// An imported cluster runs the same cattle-cluster-agent but its nodes carry none of these.

import type { Fact } from "../model/provenance.js";
import type { Distribution, NodeFacts, RancherFacts, RancherProvisioning } from "../model/snapshot.js";
import { parseImageRef } from "./image.js";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

export const RANCHER_AGENT = { namespace: "cattle-system", name: "cattle-cluster-agent" } as const;
export const PROVISIONING_LABELS = ["rke.cattle.io/machine"] as const;
export const PROVISIONING_ANNOTATION_PREFIX = "cluster.x-k8s.io/";

const RANCHER_VERSION = /^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/;

function containersOf(deployment: Obj): Obj[] {
  const spec = isObj(deployment.spec) ? deployment.spec : {};
  const template = isObj(spec.template) ? spec.template : {};
  const podSpec = isObj(template.spec) ? template.spec : {};
  return Array.isArray(podSpec.containers) ? podSpec.containers.filter(isObj) : [];
}

function envValue(container: Obj, name: string): string | undefined {
  const env = Array.isArray(container.env) ? container.env.filter(isObj) : [];
  const v = env.find((e) => e.name === name)?.value;
  return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
}

/**
 * The Rancher server version the cattle-cluster-agent Deployment names: its CATTLE_SERVER_VERSION
 * env (set by Rancher when it renders the agent), else the rancher/rancher-agent image tag.
 */
export function rancherVersionFromAgent(deployment: Obj, ref: string): Fact<string> | undefined {
  for (const c of containersOf(deployment)) {
    const env = envValue(c, "CATTLE_SERVER_VERSION");
    if (env !== undefined && RANCHER_VERSION.test(env))
      return { value: env, from: { source: "file", ref: `${ref} env CATTLE_SERVER_VERSION=${env}` } };
  }
  for (const c of containersOf(deployment)) {
    const image = typeof c.image === "string" ? parseImageRef(c.image) : undefined;
    if (image === undefined || !/(^|\/)rancher-agent$/.test(image.repository)) continue;
    const tag = image.tag;
    if (tag !== undefined && RANCHER_VERSION.test(tag))
      return { value: tag, from: { source: "file", ref: `${ref} image ${c.image as string}` } };
  }
  return undefined;
}

function provisioningMarker(node: NodeFacts): string | undefined {
  const label = PROVISIONING_LABELS.find((l) => l in node.labels);
  if (label !== undefined) return `label ${label}`;
  const annotation = Object.keys(node.annotations)
    .sort()
    .find((k) => k.startsWith(PROVISIONING_ANNOTATION_PREFIX));
  return annotation === undefined ? undefined : `annotation ${annotation}`;
}

/**
 * provisioned when any node carries a provisioning marker; imported when every node was read, the
 * distribution is one those markers cover (RKE2, k3s) and none carries them; unknown otherwise.
 */
export function rancherProvisioning(
  nodes: NodeFacts[],
  distribution: Distribution | undefined,
  nodesRead: boolean,
): Fact<RancherProvisioning> {
  const marked = nodes.find((n) => provisioningMarker(n) !== undefined);
  if (marked !== undefined)
    return {
      value: "provisioned",
      from: {
        source: "node",
        ref: `node ${marked.name} carries ${provisioningMarker(marked) ?? ""} (set by Rancher provisioning)`,
      },
    };
  if (!nodesRead || nodes.length === 0)
    return { value: "unknown", from: { source: "node", ref: "the nodes could not be read" } };
  if (distribution !== "rke2" && distribution !== "k3s")
    return {
      value: "unknown",
      from: {
        source: "node",
        ref: `${distribution ?? "unknown"} nodes carry no marker that tells Rancher-provisioned from imported (Rancher's cluster spec does)`,
      },
    };
  return {
    value: "imported",
    from: {
      source: "node",
      ref: `a Rancher agent runs but none of ${nodes.length} nodes carries ${PROVISIONING_LABELS.join(", ")} or ${PROVISIONING_ANNOTATION_PREFIX}* (Rancher provisioning sets them)`,
    },
  };
}

/** Rancher facts of a Rancher-managed cluster. */
export function rancherFacts(
  nodes: NodeFacts[],
  distribution: Distribution | undefined,
  nodesRead: boolean,
  agent: { deployment: Obj; ref: string } | undefined,
): RancherFacts {
  const version = agent === undefined ? undefined : rancherVersionFromAgent(agent.deployment, agent.ref);
  return {
    ...(version !== undefined ? { version } : {}),
    provisioning: rancherProvisioning(nodes, distribution, nodesRead),
  };
}
