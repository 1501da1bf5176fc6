// A short-lived child program of `cnidoctor agent`: loads and validates the advisories with the
// same loader as every other command (and, outside a cluster, resolves the kubeconfig with the
// shared loadKubeConfig), prints them as one JSON document and ends. The long-running agent thus
// never keeps the YAML parser, the schema validator or @kubernetes/client-node in its heap — they
// would take it from ~47 MB to ~60 MB (~124 MB with client-node) RSS for good.
//
// argv[2]: JSON {"advisories"?: DIR, "kubeconfig"?: FILE ("" = $KUBECONFIG / ~/.kube/config)}

import { loadAdvisories, SHIPPED_ADVISORIES_DIR } from "../advisories/load.js";
import { loadKubeConfig } from "../kube/config.js";
import { resolveEndpoint } from "../kube/endpoint.js";
import type { Advisory } from "../model/advisory.js";

export interface LoaderRequest {
  /** Advisory directory; the shipped one when absent. */
  advisories?: string;
  /** Resolve cluster credentials from a kubeconfig ("" = $KUBECONFIG / ~/.kube/config). */
  kubeconfig?: string;
}

export interface LoaderEndpoint {
  server: string;
  ca?: string;
  cert?: string;
  key?: string;
  token?: string;
  insecureSkipTlsVerify?: boolean;
}

export type LoaderReply =
  | { ok: true; advisories: Advisory[]; endpoint?: LoaderEndpoint }
  | { ok: false; usage: boolean; message: string };

async function endpointFrom(kubeconfig: string): Promise<LoaderEndpoint> {
  const resolved = await resolveEndpoint(
    loadKubeConfig({ ...(kubeconfig !== "" ? { kubeconfig } : {}), env: process.env }),
  );
  const out: LoaderEndpoint = { server: resolved.server };
  if (resolved.ca !== undefined) out.ca = resolved.ca;
  if (resolved.cert !== undefined) out.cert = resolved.cert;
  if (resolved.key !== undefined) out.key = resolved.key;
  const auth = resolved.headers.Authorization;
  if (auth?.startsWith("Bearer ") === true) out.token = auth.slice("Bearer ".length);
  if (resolved.rejectUnauthorized === false) out.insecureSkipTlsVerify = true;
  return out;
}

async function load(request: LoaderRequest): Promise<LoaderReply> {
  try {
    const advisories = await loadAdvisories(request.advisories ?? SHIPPED_ADVISORIES_DIR);
    if (request.kubeconfig === undefined) return { ok: true, advisories };
    return { ok: true, advisories, endpoint: await endpointFrom(request.kubeconfig) };
  } catch (e) {
    const name = e instanceof Error ? e.name : "";
    return {
      ok: false,
      usage: name === "UsageError" || name === "InputError",
      message: e instanceof Error ? e.message : String(e),
    };
  }
}

const request = JSON.parse(process.argv[2] ?? "{}") as LoaderRequest;
process.stdout.write(JSON.stringify(await load(request)));
