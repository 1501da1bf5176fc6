// What a live command needs to reach the API server, resolved once from a kubeconfig (credentials
// included: client certificates, a token, an exec plugin's answer) into plain, serialisable data.
// The scan resolves it in a short-lived child process (cli/kube-loader.ts), so the scanning
// process never loads @kubernetes/client-node (~65 MB of RSS it would keep for the whole scan).

import type { RequestOptions } from "node:https";
import type { LoadedKubeConfig } from "./config.js";

export interface ResolvedEndpoint {
  server: string;
  ca?: string;
  cert?: string;
  key?: string;
  /** Authorization and any other headers the credentials call for. */
  headers: Record<string, string>;
  rejectUnauthorized?: boolean;
  servername?: string;
  /** How the target was chosen (for messages), and the context name (for the report). */
  description: string;
  context: string;
}

function text(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (Buffer.isBuffer(value)) return value.toString("utf8");
  return undefined;
}

export async function resolveEndpoint(loaded: LoadedKubeConfig): Promise<ResolvedEndpoint> {
  const { config } = loaded;
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new Error("kubeconfig has no current cluster");
  const opts: RequestOptions = { headers: {} };
  await config.applyToHTTPSOptions(opts);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.headers ?? {}))
    if (typeof v === "string" || typeof v === "number") headers[k] = String(v);
  if (opts.auth !== undefined && opts.auth !== null)
    headers.Authorization = `Basic ${Buffer.from(opts.auth).toString("base64")}`;
  const current = config.getCurrentContext();
  const out: ResolvedEndpoint = {
    server: cluster.server,
    headers,
    description: loaded.description,
    context: current !== "" ? current : loaded.description,
  };
  const ca = text(opts.ca);
  const cert = text(opts.cert);
  const key = text(opts.key);
  if (ca !== undefined) out.ca = ca;
  if (cert !== undefined) out.cert = cert;
  if (key !== undefined) out.key = key;
  if (opts.rejectUnauthorized !== undefined) out.rejectUnauthorized = opts.rejectUnauthorized;
  if (opts.servername !== undefined) out.servername = opts.servername;
  return out;
}
