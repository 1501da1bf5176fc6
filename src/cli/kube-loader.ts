// The one short-lived child program that loads what a long-running command must not keep in its
// heap: it resolves the kubeconfig (exec plugins, OIDC, in-cluster) with the shared loadKubeConfig
// and @kubernetes/client-node, and, for the agent, loads and validates the advisories (the YAML
// parser and the schema validator). It prints one JSON document and ends. scan, collect, plan,
// apply, rollback and the agent all run it, so none of them ever imports client-node (~65 MB of
// RSS for good; see kube/endpoint.ts, and cli/no-client-node.test.ts which proves it).
//
// argv[2]: JSON LoaderRequest. The environment (KUBECONFIG, HOME...) is the parent's.

import type { ResolvedEndpoint } from "../kube/endpoint.js";
import type { ContextSelector } from "../kube/merge.js";
import type { Advisory } from "../model/advisory.js";

export interface LoaderRequest {
  /**
   * Resolve the cluster's endpoint: this kubeconfig and context when given, else $KUBECONFIG,
   * ~/.kube/config, else the in-cluster service account.
   */
  endpoint?: { kubeconfig?: string; context?: string };
  /** Load and validate the advisories of this directory ("" = the shipped ones). */
  advisories?: string;
  /**
   * A fleet: the contexts of the merged kubeconfig the selector picks, each resolved on its own
   * (at once, each within `timeoutMs`), so one context's failing credentials fail only it.
   * `names: true` lists the picked contexts without resolving them.
   */
  fleet?: { kubeconfig?: string; select: ContextSelector; timeoutMs: number; namesOnly?: boolean };
}

/** One context of a fleet: its endpoint, or why its credentials could not be loaded. */
export interface FleetEndpoint {
  context: string;
  /** The cluster's server URL as the kubeconfig gives it ("" when it names none). */
  server: string;
  endpoint?: ResolvedEndpoint;
  error?: string;
}

export type LoaderReply =
  | { ok: true; endpoint?: ResolvedEndpoint; advisories?: Advisory[]; fleet?: FleetEndpoint[] }
  | {
      ok: false;
      error: "UsageError" | "InputError" | "Error";
      message: string;
      where?: string;
      problem?: string;
    };

async function reply(request: LoaderRequest): Promise<LoaderReply> {
  try {
    let advisories: Advisory[] | undefined;
    if (request.advisories !== undefined) {
      const { loadAdvisories, SHIPPED_ADVISORIES_DIR } = await import("../advisories/load.js");
      advisories = await loadAdvisories(
        request.advisories !== "" ? request.advisories : SHIPPED_ADVISORIES_DIR,
      );
    }
    let endpoint: ResolvedEndpoint | undefined;
    if (request.endpoint !== undefined) {
      const { kubeconfig, context } = request.endpoint;
      const { loadKubeConfig } = await import("../kube/config.js");
      const { resolveEndpoint } = await import("../kube/endpoint.js");
      endpoint = await resolveEndpoint(
        loadKubeConfig({
          env: process.env,
          ...(kubeconfig !== undefined ? { kubeconfig } : {}),
          ...(context !== undefined ? { context } : {}),
        }),
      );
    }
    const fleet = request.fleet !== undefined ? await fleetEndpoints(request.fleet) : undefined;
    return {
      ok: true,
      ...(endpoint !== undefined ? { endpoint } : {}),
      ...(fleet !== undefined ? { fleet } : {}),
      ...(advisories !== undefined ? { advisories } : {}),
    };
  } catch (e) {
    const err = e as Error & { where?: unknown; problem?: unknown };
    const error = err.name === "UsageError" || err.name === "InputError" ? err.name : "Error";
    return {
      ok: false,
      error,
      message: err instanceof Error ? err.message : String(e),
      ...(typeof err.where === "string" ? { where: err.where } : {}),
      ...(typeof err.problem === "string" ? { problem: err.problem } : {}),
    };
  }
}

async function fleetEndpoints(req: NonNullable<LoaderRequest["fleet"]>): Promise<FleetEndpoint[]> {
  const { homedir } = await import("node:os");
  const { kubeconfigFiles, mergeKubeconfigs, selectContexts } = await import("../kube/merge.js");
  const files = kubeconfigFiles(req.kubeconfig, process.env, homedir());
  const merged = mergeKubeconfigs(files, req.kubeconfig !== undefined);
  const names = selectContexts([...merged.contexts.keys()], req.select, files.join(":"));
  const serverOf = (name: string): string => {
    const cluster = merged.contexts.get(name)?.body.cluster;
    const server = typeof cluster === "string" ? merged.clusters.get(cluster)?.body.server : undefined;
    return typeof server === "string" ? server : "";
  };
  if (req.namesOnly === true) return names.map((context) => ({ context, server: serverOf(context) }));
  const { loadMergedContext } = await import("../kube/config.js");
  const { resolveEndpoint } = await import("../kube/endpoint.js");
  return Promise.all(
    names.map(async (context): Promise<FleetEndpoint> => {
      const server = serverOf(context);
      let timer: NodeJS.Timeout | undefined;
      try {
        // An exec plugin that hangs costs its context the timeout, and the others nothing.
        const endpoint = await Promise.race([
          resolveEndpoint(loadMergedContext(merged, context)),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => {
              reject(
                new Error(
                  `resolving the credentials (exec plugin?) did not finish within ${Math.round(req.timeoutMs / 1000)} s`,
                ),
              );
            }, req.timeoutMs);
          }),
        ]);
        return { context, server, endpoint };
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        const line = (message.split("\n")[0] ?? "").trim();
        return {
          context,
          server,
          error: `kubeconfig credentials: ${line !== "" ? line : "failed without a message"}`,
        };
      } finally {
        clearTimeout(timer);
      }
    }),
  );
}

const request = JSON.parse(process.argv[2] ?? "{}") as LoaderRequest;
const answer = JSON.stringify(await reply(request));
// A fleet's hung exec plugin must not keep this child (and so the command) waiting: end once written.
process.stdout.write(answer, () => {
  if (request.fleet !== undefined) process.exit(0);
});
