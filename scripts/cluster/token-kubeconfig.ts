// A kubeconfig that reaches a harness apiserver as a ServiceAccount rather than as the admin: the
// admin kubeconfig's cluster (server and CA) with a TokenRequest token as its only user. Tests use
// it to run the agent under the shipped RBAC.

import { readFileSync, writeFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";

/** Writes the kubeconfig to `file` (JSON, which kubeconfig readers accept) and returns `file`. */
export function writeTokenKubeconfig(
  adminKubeconfig: string,
  token: string,
  file: string,
  options: { mode?: number } = {},
): string {
  const admin = parseYaml(readFileSync(adminKubeconfig, "utf8")) as {
    clusters?: { cluster?: unknown }[];
  };
  const cluster = admin.clusters?.[0]?.cluster;
  if (cluster === undefined) throw new Error(`${adminKubeconfig}: no cluster to point the token at`);
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "c", cluster }],
      users: [{ name: "agent", user: { token } }],
      contexts: [{ name: "agent", context: { cluster: "c", user: "agent" } }],
      "current-context": "agent",
    }),
    options.mode !== undefined ? { mode: options.mode } : {},
  );
  return file;
}
