// The agent's view of the Kubernetes API: read its Node, patch one condition on the Node's status
// subresource, create and patch Events. A few plain HTTPS calls rather than @kubernetes/client-node:
// importing that package alone takes a Node process from ~41 MB to ~124 MB RSS, above the agent's
// whole memory budget. Credentials come from the service account (token re-read as it rotates) or
// from a kubeconfig resolved once by the project's loadKubeConfig in a short-lived child process.

import { readFile } from "node:fs/promises";
import type { Agent } from "node:https";
import { https } from "./builtins.js";

export type ConditionStatus = "True" | "False" | "Unknown";

export interface NodeCondition {
  type: string;
  status: ConditionStatus;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastHeartbeatTime?: string;
}

export interface NodeView {
  uid: string;
  conditions: NodeCondition[];
}

/** events.k8s.io/v1 Event, the fields the agent sets. */
export interface AgentEvent {
  name: string;
  namespace: string;
  eventTime: string;
  reason: string;
  note: string;
  type: "Normal" | "Warning";
  action: string;
  reportingController: string;
  reportingInstance: string;
  regarding: { apiVersion: "v1"; kind: "Node"; name: string; uid: string };
}

export interface EventSeries {
  count: number;
  lastObservedTime: string;
}

/** Everything the agent asks of the API server; tests pass a fake that counts the writes. */
export interface NodeApi {
  getNode(name: string): Promise<NodeView>;
  patchNodeCondition(name: string, condition: NodeCondition): Promise<void>;
  createEvent(event: AgentEvent): Promise<void>;
  /** Resolves false when the Event no longer exists (expired by the apiserver's event TTL). */
  patchEventSeries(namespace: string, name: string, series: EventSeries): Promise<boolean>;
}

export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** How to reach the apiserver: a URL, TLS material, and a bearer token source. */
export interface KubeEndpoint {
  server: string;
  ca?: string;
  cert?: string;
  key?: string;
  insecureSkipTlsVerify?: boolean;
  /** Returns the current bearer token, if any (the service account token file rotates). */
  token?: () => Promise<string | undefined>;
}

const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** The in-cluster endpoint: KUBERNETES_SERVICE_HOST/PORT, the service account CA and token. */
export async function inClusterEndpoint(host: string, port: string, dir = SA_DIR): Promise<KubeEndpoint> {
  const ca = await readFile(`${dir}/ca.crt`, "utf8");
  let cached: { token: string; at: number } | undefined;
  const token = async (): Promise<string> => {
    // Kubelet refreshes projected tokens well before expiry; re-reading each minute follows it.
    if (!cached || Date.now() - cached.at > 60_000) {
      cached = { token: (await readFile(`${dir}/token`, "utf8")).trim(), at: Date.now() };
    }
    return cached.token;
  };
  const h = host.includes(":") ? `[${host}]` : host;
  return { server: `https://${h}:${port}`, ca, token };
}

interface Response {
  status: number;
  body: string;
}

function nodeConditions(value: unknown): NodeView {
  const node = value as { metadata?: { uid?: unknown }; status?: { conditions?: unknown } };
  const uid = typeof node.metadata?.uid === "string" ? node.metadata.uid : "";
  const raw = Array.isArray(node.status?.conditions) ? (node.status.conditions as unknown[]) : [];
  const conditions: NodeCondition[] = [];
  for (const c of raw) {
    const r = c as Record<string, unknown>;
    if (typeof r.type !== "string" || typeof r.status !== "string") continue;
    const status: ConditionStatus = r.status === "True" || r.status === "False" ? r.status : "Unknown";
    const cond: NodeCondition = { type: r.type, status };
    if (typeof r.reason === "string") cond.reason = r.reason;
    if (typeof r.message === "string") cond.message = r.message;
    if (typeof r.lastTransitionTime === "string") cond.lastTransitionTime = r.lastTransitionTime;
    conditions.push(cond);
  }
  return { uid, conditions };
}

/** NodeApi over HTTPS with a keep-alive connection (one socket for the agent's rare writes). */
export class HttpNodeApi implements NodeApi {
  private readonly agent: Agent;
  private readonly base: URL;

  constructor(
    private readonly endpoint: KubeEndpoint,
    private readonly timeoutMs = 15_000,
  ) {
    this.base = new URL(endpoint.server);
    const tls: { ca?: string; cert?: string; key?: string; rejectUnauthorized?: boolean } = {};
    if (endpoint.ca !== undefined) tls.ca = endpoint.ca;
    if (endpoint.cert !== undefined) tls.cert = endpoint.cert;
    if (endpoint.key !== undefined) tls.key = endpoint.key;
    if (endpoint.insecureSkipTlsVerify === true) tls.rejectUnauthorized = false;
    this.agent = new https.Agent({ keepAlive: true, maxSockets: 1, ...tls });
  }

  close(): void {
    this.agent.destroy();
  }

  private async call(method: string, path: string, body?: unknown, contentType?: string): Promise<Response> {
    const headers: Record<string, string> = { Accept: "application/json", "User-Agent": "cnidoctor-agent" };
    const token = await this.endpoint.token?.();
    if (token !== undefined && token !== "") headers.Authorization = `Bearer ${token}`;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) {
      headers["Content-Type"] = contentType ?? "application/json";
      headers["Content-Length"] = String(Buffer.byteLength(payload));
    }
    const basePath = this.base.pathname.replace(/\/$/, "");
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          protocol: this.base.protocol,
          hostname: this.base.hostname.replace(/^\[|\]$/g, ""),
          port: this.base.port || 443,
          path: `${basePath}${path}`,
          method,
          headers,
          agent: this.agent,
          timeout: this.timeoutMs,
        },
        (res) => {
          const parts: Buffer[] = [];
          res.on("data", (d: Buffer) => parts.push(d));
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString("utf8") }),
          );
          res.on("error", reject);
        },
      );
      req.on("timeout", () =>
        req.destroy(new Error(`${method} ${path}: no answer within ${this.timeoutMs} ms`)),
      );
      req.on("error", reject);
      req.end(payload);
    });
  }

  private async expectOk(method: string, path: string, res: Response): Promise<void> {
    if (res.status >= 200 && res.status < 300) return Promise.resolve();
    let detail = res.body.slice(0, 300);
    try {
      const status = JSON.parse(res.body) as { message?: unknown };
      if (typeof status.message === "string") detail = status.message;
    } catch {
      // not a Status object: keep the start of the body
    }
    return Promise.reject(new KubeApiError(res.status, `${method} ${path}: HTTP ${res.status}: ${detail}`));
  }

  async getNode(name: string): Promise<NodeView> {
    const path = `/api/v1/nodes/${encodeURIComponent(name)}`;
    const res = await this.call("GET", path);
    await this.expectOk("GET", path, res);
    return nodeConditions(JSON.parse(res.body));
  }

  async patchNodeCondition(name: string, condition: NodeCondition): Promise<void> {
    // Strategic merge: conditions merge by type, so only this one condition is touched.
    const path = `/api/v1/nodes/${encodeURIComponent(name)}/status`;
    const body = { status: { conditions: [condition] } };
    const res = await this.call("PATCH", path, body, "application/strategic-merge-patch+json");
    await this.expectOk("PATCH", path, res);
  }

  async createEvent(event: AgentEvent): Promise<void> {
    const path = `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(event.namespace)}/events`;
    const { name, namespace, ...rest } = event;
    const body = { apiVersion: "events.k8s.io/v1", kind: "Event", metadata: { name, namespace }, ...rest };
    const res = await this.call("POST", path, body);
    await this.expectOk("POST", path, res);
  }

  async patchEventSeries(namespace: string, name: string, series: EventSeries): Promise<boolean> {
    const path = `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/events/${encodeURIComponent(name)}`;
    const res = await this.call("PATCH", path, { series }, "application/merge-patch+json");
    if (res.status === 404) return false;
    await this.expectOk("PATCH", path, res);
    return true;
  }
}
