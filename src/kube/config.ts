// One way to reach a cluster for every live feature (scan, collect, plan/apply, agent): an explicit
// kubeconfig and context, else $KUBECONFIG / ~/.kube/config, else in-cluster service-account
// credentials. Never reads Secrets; only the credentials the user already configured. Only the
// loader child (cli/kube-loader.ts) imports this module: it loads @kubernetes/client-node.

import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { InputError, UsageError } from "../errors.js";
import { checkInputSync, type InputKind } from "../io/open-input.js";
import { mergeKubeconfigs, singleContextDoc, type MergedKubeConfig } from "./merge.js";

export interface KubeTarget {
  kubeconfig?: string;
  context?: string;
  env: NodeJS.ProcessEnv;
}

type Doc = Record<string, unknown>;

function entry(doc: Doc, list: string, name: unknown, field: string): Doc | undefined {
  const items = doc[list];
  if (!Array.isArray(items) || typeof name !== "string") return undefined;
  const found = (items as Doc[]).find((i) => typeof i === "object" && i !== null && i.name === name);
  const inner = found?.[field];
  return typeof inner === "object" && inner !== null ? (inner as Doc) : undefined;
}

/** A file the kubeconfig names, checked like the kubeconfig itself: it must exist and be regular. */
function checkReferenced(
  kubeconfig: string,
  key: string,
  value: unknown,
  kind: InputKind,
): string | undefined {
  if (typeof value !== "string" || value === "") return undefined;
  const path = resolve(dirname(kubeconfig), value);
  try {
    checkInputSync(path, kind);
  } catch (e) {
    if (e instanceof InputError) throw new InputError(path, `${e.problem} (the ${key} of ${kubeconfig})`);
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(
      path,
      `${code === "ENOENT" ? "no such file" : `cannot be read (${code ?? "error"})`} (the ${key} of ${kubeconfig})`,
    );
  }
  return path;
}

/**
 * What the client library would read or trip over later, checked before it loads the file: the
 * files the chosen context's cluster and user name (a FIFO there would hang the load), and its
 * server URL. Returns a kubectl-style `tokenFile` (the library only knows `token-file`).
 */
function precheck(file: string, context: string | undefined): { tokenFile?: string } {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, "utf8"));
  } catch {
    return {}; // the library's own parse error names the problem
  }
  return precheckDoc(doc, file, context);
}

function precheckDoc(doc: unknown, file: string, context: string | undefined): { tokenFile?: string } {
  if (doc === null || doc === undefined || (typeof doc === "string" && doc.trim() === ""))
    throw new InputError(file, "is empty, not a kubeconfig");
  if (typeof doc !== "object") throw new InputError(file, "not a kubeconfig (not a YAML mapping)");
  const d = doc as Doc;
  const ctxName = context ?? d["current-context"];
  const ctx = entry(d, "contexts", ctxName, "context");
  if (ctx === undefined) {
    // A --context that is not there is reported after the load, with the contexts there are.
    if (context === undefined && typeof ctxName === "string" && ctxName !== "")
      throw new InputError(file, `current-context '${ctxName}' is not among its contexts; pass --context`);
    return {};
  }
  const cluster = entry(d, "clusters", ctx.cluster, "cluster");
  if (cluster === undefined)
    throw new InputError(
      file,
      `context '${String(ctxName)}' names cluster '${String(ctx.cluster)}', which it does not define`,
    );
  const server = cluster.server;
  let url: URL | undefined;
  try {
    url = typeof server === "string" ? new URL(server) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== "https:" && url.protocol !== "http:"))
    throw new InputError(
      file,
      `cluster '${String(ctx.cluster)}': server '${String(server)}' is not an https:// URL`,
    );
  checkReferenced(file, "certificate-authority", cluster["certificate-authority"], "kubeconfig");
  const user = entry(d, "users", ctx.user, "user") ?? {};
  checkReferenced(file, "client-certificate", user["client-certificate"], "kubeconfig");
  checkReferenced(file, "client-key", user["client-key"], "kubeconfig");
  checkReferenced(file, "token-file", user["token-file"], "token");
  const tokenFile =
    user.token === undefined ? checkReferenced(file, "tokenFile", user.tokenFile, "token") : undefined;
  return tokenFile !== undefined ? { tokenFile } : {};
}

export interface LoadedKubeConfig {
  config: KubeConfig;
  /** How the target was chosen, for the report's target and for error messages. */
  description: string;
}

const SA_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";

export function loadKubeConfig(target: KubeTarget): LoadedKubeConfig {
  // $KUBECONFIG listing several files: one context of their merge, as kubectl (and a fleet) sees it.
  const listed = (target.env.KUBECONFIG ?? "").split(":").filter((f) => f !== "");
  if (target.kubeconfig === undefined && listed.length > 1) return loadFromList(listed, target.context);
  const config = new KubeConfig();
  const explicit = target.kubeconfig ?? target.env.KUBECONFIG?.split(":")[0];
  const fallback = join(homedir(), ".kube", "config");
  const file =
    explicit !== undefined && explicit !== "" ? explicit : existsSync(fallback) ? fallback : undefined;
  if (file !== undefined) {
    if (!existsSync(file)) throw new InputError(file, "kubeconfig not found");
    try {
      checkInputSync(file, "kubeconfig");
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw new InputError(file, `cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})`);
    }
    const extra = precheck(file, target.context);
    try {
      config.loadFromFile(file);
      if (extra.tokenFile !== undefined) {
        const token = readFileSync(extra.tokenFile, "utf8").trim();
        const userName = config.getContextObject(target.context ?? config.getCurrentContext())?.user;
        config.users = config.users.map((u) => (u.name === userName ? { ...u, token } : u));
      }
    } catch (e) {
      throw new InputError(
        file,
        `not a usable kubeconfig: ${((e as Error).message.split("\n")[0] ?? "").trim()}`,
      );
    }
  } else if (target.env.KUBERNETES_SERVICE_HOST !== undefined && existsSync(SA_TOKEN)) {
    config.loadFromCluster();
    return { config, description: "in-cluster service account" };
  } else {
    throw new UsageError(
      "no cluster to talk to: pass --kubeconfig, set KUBECONFIG, or run inside a cluster (or scan a bundle with --bundle DIR)",
    );
  }
  if (target.context !== undefined) {
    if (!config.getContexts().some((c) => c.name === target.context)) {
      throw new UsageError(
        `context '${target.context}' is not in ${file} (contexts: ${config
          .getContexts()
          .map((c) => c.name)
          .join(", ")})`,
      );
    }
    config.setCurrentContext(target.context);
  }
  const current = config.getCurrentContext();
  if (current === "" || !config.getCurrentCluster())
    throw new InputError(file, "has no current context; pass --context");
  return { config, description: `context ${current} (${file})` };
}

/**
 * One context of a merged kubeconfig (a fleet member), checked and loaded like a single file's
 * context: its cluster, user and their files are looked up across the merged files.
 */
export function loadMergedContext(merged: MergedKubeConfig, context: string): LoadedKubeConfig {
  const file = merged.contexts.get(context)?.file ?? merged.files[0] ?? "kubeconfig";
  const doc = singleContextDoc(merged, context);
  const extra = precheckDoc(doc, file, context);
  const config = new KubeConfig();
  try {
    config.loadFromString(stringifyYaml(doc));
    if (extra.tokenFile !== undefined) {
      const token = readFileSync(extra.tokenFile, "utf8").trim();
      config.users = config.users.map((u) => ({ ...u, token }));
    }
  } catch (e) {
    throw new InputError(
      file,
      `not a usable kubeconfig: ${((e as Error).message.split("\n")[0] ?? "").trim()}`,
    );
  }
  if (!config.getCurrentCluster()) throw new InputError(file, `context '${context}' has no cluster`);
  return { config, description: `context ${context} (${file})` };
}

function loadFromList(files: readonly string[], context: string | undefined): LoadedKubeConfig {
  const merged = mergeKubeconfigs(files, false);
  const where = merged.files.join(":");
  const name = context ?? merged.currentContext;
  if (name === undefined) throw new InputError(where, "has no current context; pass --context");
  if (!merged.contexts.has(name)) {
    if (context === undefined)
      throw new InputError(where, `current-context '${name}' is not among its contexts; pass --context`);
    throw new UsageError(
      `context '${name}' is not in ${where} (contexts: ${[...merged.contexts.keys()].join(", ")})`,
    );
  }
  return loadMergedContext(merged, name);
}
