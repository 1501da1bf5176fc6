// The one short-lived child program that loads what a long-running command must not keep in its
// heap: it resolves the kubeconfig (exec plugins, OIDC, in-cluster) with the shared loadKubeConfig
// and @kubernetes/client-node, and, for the agent, loads and validates the advisories (the YAML
// parser and the schema validator). It prints one JSON document and ends. scan, collect, plan,
// apply, rollback and the agent all run it, so none of them ever imports client-node (~65 MB of
// RSS for good; see kube/endpoint.ts, and cli/no-client-node.test.ts which proves it).
//
// argv[2]: JSON LoaderRequest. The environment (KUBECONFIG, HOME...) is the parent's.

import type { ResolvedEndpoint } from "../kube/endpoint.js";
import type { Advisory } from "../model/advisory.js";

export interface LoaderRequest {
  /**
   * Resolve the cluster's endpoint: this kubeconfig and context when given, else $KUBECONFIG,
   * ~/.kube/config, else the in-cluster service account.
   */
  endpoint?: { kubeconfig?: string; context?: string };
  /** Load and validate the advisories of this directory ("" = the shipped ones). */
  advisories?: string;
}

export type LoaderReply =
  | { ok: true; endpoint?: ResolvedEndpoint; advisories?: Advisory[] }
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
    return {
      ok: true,
      ...(endpoint !== undefined ? { endpoint } : {}),
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

const request = JSON.parse(process.argv[2] ?? "{}") as LoaderRequest;
process.stdout.write(JSON.stringify(await reply(request)));
