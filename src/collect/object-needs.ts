// Which objects beyond the Calico install the advisories' conditions read, so collectors fetch
// exactly those: ConfigMaps only by the names the conditions give (never a ConfigMap list, never
// Secrets), the IPPool list when a condition reads pools, and node agent data when a condition
// needs a fact only the agent can read.

import type { Advisory } from "../model/advisory.js";

export interface ObjectNeeds {
  /** Named ConfigMaps, namespace/name. */
  configMaps: { namespace: string; name: string }[];
  ipPools: boolean;
  agentFacts: boolean;
}

export const NO_OBJECT_NEEDS: ObjectNeeds = { configMaps: [], ipPools: false, agentFacts: false };

export function objectNeeds(advisories: readonly Advisory[]): ObjectNeeds {
  const maps = new Map<string, { namespace: string; name: string }>();
  let ipPools = false;
  let agentFacts = false;
  for (const a of advisories)
    for (const c of a.conditions) {
      if (c.kind === "agent-fact") agentFacts = true;
      if (c.kind !== "object-field") continue;
      if (c.resource === "ippools") ipPools = true;
      if (c.resource !== "configmaps") continue;
      for (const namespace of c.namespaces ?? [])
        for (const name of c.names ?? []) maps.set(`${namespace}/${name}`, { namespace, name });
    }
  const configMaps = [...maps.values()].sort((x, y) =>
    `${x.namespace}/${x.name}`.localeCompare(`${y.namespace}/${y.name}`),
  );
  return { configMaps, ipPools, agentFacts };
}
