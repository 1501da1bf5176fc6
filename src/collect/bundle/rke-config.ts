// The optional RKE `cluster.yml` in a bundle (or Rancher's cluster spec with
// rancher_kubernetes_engine_config). Used for version cross-checks and remediation planning.

import { InputError } from "../../errors.js";
import { readInputText } from "../../io/open-input.js";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import type { Gap } from "../../model/provenance.js";
import type { RkeClusterConfig } from "../../model/snapshot.js";

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : {};

export function parseRkeClusterConfig(path: string, text: string): RkeClusterConfig | { problem: string } {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    return { problem: `malformed YAML: ${((e as Error).message.split("\n")[0] ?? "").trim()}` };
  }
  const root = asObj(doc);
  const rancher = "rancher_kubernetes_engine_config" in root || "rancherKubernetesEngineConfig" in root;
  const rke = rancher
    ? asObj(root.rancher_kubernetes_engine_config ?? root.rancherKubernetesEngineConfig)
    : root;
  if (Object.keys(rke).length === 0) return { problem: "not an RKE cluster configuration (empty)" };
  const systemImages: Record<string, string> = {};
  for (const [k, v] of Object.entries(asObj(rke.system_images ?? rke.systemImages)))
    if (typeof v === "string") systemImages[k] = v;
  const network = asObj(rke.network);
  const config: RkeClusterConfig = { path, systemImages, rancherManaged: rancher };
  const k8s = rke.kubernetes_version ?? rke.kubernetesVersion;
  if (typeof k8s === "string") config.kubernetesVersion = k8s;
  if (typeof network.plugin === "string") config.networkPlugin = network.plugin;
  return config;
}

export async function readRkeClusterConfig(dir: string): Promise<{ config?: RkeClusterConfig; gap?: Gap }> {
  for (const name of ["cluster.yml", "cluster.yaml"]) {
    const path = join(dir, name);
    let text: string;
    try {
      text = await readInputText(path, "rke-config");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") continue;
      if (e instanceof InputError) return { gap: { check: "rke-config", reason: e.message } };
      return { gap: { check: "rke-config", reason: `${path}: cannot be read` } };
    }
    const parsed = parseRkeClusterConfig(path, text);
    if ("problem" in parsed) return { gap: { check: "rke-config", reason: `${path}: ${parsed.problem}` } };
    return { config: parsed };
  }
  return {};
}
