// The merged kubeconfig a fleet is chosen from, as kubectl builds it: the files of $KUBECONFIG in
// order (missing or empty entries skipped), the first file to define a cluster, user or context
// name winning, and the first current-context set. Relative file references are resolved against
// the file they were written in, so one context's entry can be loaded on its own. Plain YAML work:
// no client library, so it is testable here and cheap in the loader child.

import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { InputError, UsageError } from "../errors.js";

type Doc = Record<string, unknown>;

export interface NamedEntry {
  name: string;
  /** The entry's body (`cluster`, `user` or `context`), paths made absolute. */
  body: Doc;
  /** The file it came from. */
  file: string;
}

export interface MergedKubeConfig {
  files: string[];
  clusters: Map<string, NamedEntry>;
  users: Map<string, NamedEntry>;
  contexts: Map<string, NamedEntry>;
  currentContext?: string;
}

/** The fleet selectors: every context, a list, or a glob over the names. */
export type ContextSelector = { all: true } | { names: readonly string[] } | { pattern: string };

/** The files to merge: --kubeconfig alone, else each entry of $KUBECONFIG, else ~/.kube/config. */
export function kubeconfigFiles(
  kubeconfig: string | undefined,
  env: NodeJS.ProcessEnv,
  home: string,
): string[] {
  if (kubeconfig !== undefined && kubeconfig !== "") return [kubeconfig];
  const list = (env.KUBECONFIG ?? "").split(":").filter((f) => f !== "");
  if (list.length > 0) return list;
  return [resolve(home, ".kube", "config")];
}

const PATH_KEYS: Record<"cluster" | "user", readonly string[]> = {
  cluster: ["certificate-authority"],
  user: ["client-certificate", "client-key", "token-file", "tokenFile"],
};

function absolutePaths(body: Doc, keys: readonly string[], file: string): Doc {
  const out: Doc = { ...body };
  for (const k of keys) {
    const v = out[k];
    if (typeof v === "string" && v !== "" && !isAbsolute(v)) out[k] = resolve(dirname(file), v);
  }
  return out;
}

function entries(doc: Doc, list: string, field: "cluster" | "user" | "context", file: string): NamedEntry[] {
  const items = doc[list];
  if (!Array.isArray(items)) return [];
  const out: NamedEntry[] = [];
  for (const item of items as unknown[]) {
    if (typeof item !== "object" || item === null) continue;
    const { name } = item as Doc;
    const body = (item as Doc)[field];
    if (typeof name !== "string" || name === "") continue;
    const inner = typeof body === "object" && body !== null ? (body as Doc) : {};
    out.push({
      name,
      body: field === "context" ? inner : absolutePaths(inner, PATH_KEYS[field], file),
      file,
    });
  }
  return out;
}

/**
 * Merges the files. With --kubeconfig the one file must exist; from $KUBECONFIG a missing entry is
 * skipped as kubectl does, but none existing at all is the user's mistake.
 */
export function mergeKubeconfigs(files: readonly string[], explicit: boolean): MergedKubeConfig {
  const merged: MergedKubeConfig = { files: [], clusters: new Map(), users: new Map(), contexts: new Map() };
  for (const file of files) {
    if (!existsSync(file)) {
      if (explicit) throw new InputError(file, "kubeconfig not found");
      continue;
    }
    let doc: unknown;
    try {
      doc = parseYaml(readFileSync(file, "utf8"));
    } catch (e) {
      throw new InputError(
        file,
        `not a usable kubeconfig: ${((e as Error).message.split("\n")[0] ?? "").trim()}`,
      );
    }
    merged.files.push(file);
    if (typeof doc !== "object" || doc === null) continue;
    const d = doc as Doc;
    const add = (into: Map<string, NamedEntry>, list: NamedEntry[]): void => {
      for (const e of list) if (!into.has(e.name)) into.set(e.name, e);
    };
    add(merged.clusters, entries(d, "clusters", "cluster", file));
    add(merged.users, entries(d, "users", "user", file));
    add(merged.contexts, entries(d, "contexts", "context", file));
    const current = d["current-context"];
    if (merged.currentContext === undefined && typeof current === "string" && current !== "")
      merged.currentContext = current;
  }
  if (merged.files.length === 0)
    throw new UsageError(
      `no kubeconfig to choose contexts from: ${files.join(", ")} ${files.length === 1 ? "does" : "do"} not exist`,
    );
  return merged;
}

/** `*` any run of characters, `?` exactly one; everything else literal; the whole name must match. */
export function globMatcher(pattern: string): (name: string) => boolean {
  const source = pattern.replace(/[*?]|[.+^${}()|[\]\\]/g, (c) =>
    c === "*" ? ".*" : c === "?" ? "." : `\\${c}`,
  );
  const re = new RegExp(`^${source}$`, "su");
  return (name) => re.test(name);
}

/**
 * The contexts the selector picks, sorted by name (the fleet report's order) and without
 * duplicates. A named context that is not there, or a selection of nothing, is bad usage.
 */
export function selectContexts(names: readonly string[], selector: ContextSelector, where: string): string[] {
  const known = new Set(names);
  let picked: string[];
  if ("all" in selector) picked = [...known];
  else if ("names" in selector) {
    const missing = selector.names.filter((n) => !known.has(n));
    if (missing.length > 0)
      throw new UsageError(
        `context${missing.length > 1 ? "s" : ""} ${missing.map((m) => `'${m}'`).join(", ")} not in ${where} (contexts: ${[...known].sort().join(", ")})`,
      );
    picked = [...new Set(selector.names)];
  } else {
    const match = globMatcher(selector.pattern);
    picked = [...known].filter(match);
    if (picked.length === 0)
      throw new UsageError(
        `--context-pattern '${selector.pattern}' matches no context of ${where} (contexts: ${[...known].sort().join(", ")})`,
      );
  }
  if (picked.length === 0) throw new UsageError(`${where} has no contexts`);
  return picked.sort(compareNames);
}

/** Code-point order, so the order does not depend on the locale. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * One context of the merged config as a kubeconfig document of its own (its context, cluster and
 * user, looked up across the files like kubectl does), for the client library to load.
 */
export function singleContextDoc(merged: MergedKubeConfig, context: string): Doc {
  const ctx = merged.contexts.get(context);
  if (ctx === undefined) throw new UsageError(`context '${context}' is not in the kubeconfig`);
  const clusterName = ctx.body.cluster;
  const userName = ctx.body.user;
  const cluster = typeof clusterName === "string" ? merged.clusters.get(clusterName) : undefined;
  const user = typeof userName === "string" ? merged.users.get(userName) : undefined;
  return {
    apiVersion: "v1",
    kind: "Config",
    clusters: cluster !== undefined ? [{ name: cluster.name, cluster: cluster.body }] : [],
    users: user !== undefined ? [{ name: user.name, user: user.body }] : [],
    contexts: [{ name: context, context: ctx.body }],
    "current-context": context,
  };
}
