// One way to reach a cluster for every live feature (scan, collect, plan/apply, agent): an explicit
// kubeconfig and context, else $KUBECONFIG / ~/.kube/config, else in-cluster service-account
// credentials. Never reads Secrets; only the credentials the user already configured.

import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { KubeConfig, type RequestContext } from "@kubernetes/client-node";
import { InputError, UsageError } from "../errors.js";
import { checkInputSync } from "../io/open-input.js";

export interface KubeTarget {
  kubeconfig?: string;
  context?: string;
  env: NodeJS.ProcessEnv;
  /**
   * Bound on every API call made through clients of this config (apply's patches, restarts and
   * lease calls): the request is aborted past it, and resolving credentials (an exec plugin) may
   * take it plus 15 s. Unset: the client library's behaviour (no timeout).
   */
  requestTimeoutMs?: number;
}

/** A KubeConfig whose API clients time out: a frozen API server cannot hang `apply`. */
export class TimedKubeConfig extends KubeConfig {
  constructor(readonly requestTimeoutMs: number) {
    super();
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    const limit = this.requestTimeoutMs + 15_000;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`resolving the kubeconfig credentials did not finish within ${limit / 1000} s`));
      }, limit);
    });
    try {
      await Promise.race([super.applySecurityAuthentication(context), late]);
    } finally {
      clearTimeout(timer);
    }
    context.setSignal(AbortSignal.timeout(this.requestTimeoutMs));
  }
}

export interface LoadedKubeConfig {
  config: KubeConfig;
  /** How the target was chosen, for the report's target and for error messages. */
  description: string;
}

const SA_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";

export function loadKubeConfig(target: KubeTarget): LoadedKubeConfig {
  const config =
    target.requestTimeoutMs !== undefined ? new TimedKubeConfig(target.requestTimeoutMs) : new KubeConfig();
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
    try {
      config.loadFromFile(file);
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
