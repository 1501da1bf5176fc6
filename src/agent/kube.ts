// The agent's view of the Kubernetes API: read its Node, patch one condition on the Node's status
// subresource, create and patch Events, through the project's one client (kube/client.ts) rather
// than @kubernetes/client-node: importing that package alone takes a Node process from ~41 MB to
// ~124 MB RSS, above the agent's whole memory budget. Credentials come from the service account
// (token re-read as it rotates) or from a kubeconfig resolved once in the short-lived loader child.

import { readFile } from "node:fs/promises";
import { KubeClient, type ApiResult, type Obj } from "../kube/client.js";
import type { ResolvedEndpoint } from "../kube/endpoint.js";
import { DEFAULT_RETRY } from "../kube/policy.js";

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

const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** How the agent reaches the apiserver: the endpoint, and (in-cluster) a rotating token source. */
export interface AgentEndpoint {
  endpoint: ResolvedEndpoint;
  /** Returns the current bearer token (the service account token file rotates). */
  token?: () => Promise<string | undefined>;
}

/** The in-cluster endpoint: KUBERNETES_SERVICE_HOST/PORT, the service account CA and token. */
export async function inClusterEndpoint(host: string, port: string, dir = SA_DIR): Promise<AgentEndpoint> {
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
  const server = `https://${h}:${port}`;
  return {
    endpoint: { server, ca, headers: {}, description: "in-cluster service account", context: server },
    token,
  };
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

/**
 * NodeApi over the project's one API client, with one keep-alive connection for the agent's rare
 * writes. The agent has its own cadence (it writes again at the next change or event interval), so
 * the client makes one attempt per call.
 */
export class HttpNodeApi implements NodeApi {
  private readonly client: KubeClient;

  constructor(target: AgentEndpoint, timeoutMs = 15_000) {
    this.client = KubeClient.fromEndpoint(target.endpoint, {
      timeoutMs,
      qps: 50,
      burst: 50,
      maxSockets: 1,
      retry: { ...DEFAULT_RETRY, attempts: 1 },
      userAgent: "cnidoctor-agent",
      ...(target.token !== undefined ? { token: target.token } : {}),
    });
  }

  close(): void {
    this.client.close();
  }

  /** The answer, or a KubeApiError ("METHOD PATH: HTTP n: message") / an Error when none came. */
  private static ok(method: string, path: string, r: ApiResult<Obj>): Obj {
    if (r.ok) return r.value;
    if (r.status === undefined) throw new Error(r.problem);
    throw new KubeApiError(r.status, `${method} ${path}: HTTP ${r.status}: ${r.message}`);
  }

  async getNode(name: string): Promise<NodeView> {
    const path = `/api/v1/nodes/${encodeURIComponent(name)}`;
    return nodeConditions(HttpNodeApi.ok("GET", path, await this.client.getJson(path)));
  }

  async patchNodeCondition(name: string, condition: NodeCondition): Promise<void> {
    // Strategic merge: conditions merge by type, so only this one condition is touched.
    const path = `/api/v1/nodes/${encodeURIComponent(name)}/status`;
    const body = { status: { conditions: [condition] } };
    HttpNodeApi.ok("PATCH", path, await this.client.patch(path, body, "strategic"));
  }

  async createEvent(event: AgentEvent): Promise<void> {
    const path = `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(event.namespace)}/events`;
    const { name, namespace, ...rest } = event;
    const body = { apiVersion: "events.k8s.io/v1", kind: "Event", metadata: { name, namespace }, ...rest };
    HttpNodeApi.ok("POST", path, await this.client.create(path, body));
  }

  async patchEventSeries(namespace: string, name: string, series: EventSeries): Promise<boolean> {
    const path = `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/events/${encodeURIComponent(name)}`;
    const r = await this.client.patch(path, { series }, "merge");
    if (!r.ok && r.status === 404) return false;
    HttpNodeApi.ok("PATCH", path, r);
    return true;
  }
}
