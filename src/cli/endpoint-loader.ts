// A short-lived child program of `scan` and `collect`: resolves the kubeconfig (or the in-cluster
// service account) with the shared loadKubeConfig and prints the endpoint as one JSON document, so
// the long scan never loads @kubernetes/client-node (see kube/endpoint.ts).
//
// argv[2]: JSON EndpointRequest. The environment (KUBECONFIG, HOME...) is the parent's.

import { loadKubeConfig } from "../kube/config.js";
import { resolveEndpoint, type ResolvedEndpoint } from "../kube/endpoint.js";

export interface EndpointRequest {
  kubeconfig?: string;
  context?: string;
}

export type EndpointReply =
  | { ok: true; endpoint: ResolvedEndpoint }
  | {
      ok: false;
      error: "UsageError" | "InputError" | "Error";
      message: string;
      where?: string;
      problem?: string;
    };

async function reply(request: EndpointRequest): Promise<EndpointReply> {
  try {
    const loaded = loadKubeConfig({
      env: process.env,
      ...(request.kubeconfig !== undefined ? { kubeconfig: request.kubeconfig } : {}),
      ...(request.context !== undefined ? { context: request.context } : {}),
    });
    return { ok: true, endpoint: await resolveEndpoint(loaded) };
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

const request = JSON.parse(process.argv[2] ?? "{}") as EndpointRequest;
process.stdout.write(JSON.stringify(await reply(request)));
