// A minimal Kubernetes API client over node:https with the admin client cert. The harness needs
// only a handful of verbs, and going direct lets it create thousands of Nodes concurrently
// (kubectl creates objects one at a time).
import { Agent, request } from "node:https";
import { readFileSync } from "node:fs";
import type { Pki } from "./pki.js";

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

const FIELD_MANAGER = "cnidoctor-harness";

export class ApiClient {
  private readonly agent: Agent;

  constructor(
    readonly port: number,
    pki: Pki,
  ) {
    this.agent = new Agent({
      keepAlive: true,
      maxSockets: 64,
      ca: readFileSync(pki.caCert),
      cert: readFileSync(pki.adminCert),
      key: readFileSync(pki.adminKey),
    });
  }

  close(): void {
    this.agent.destroy();
  }

  /** Raw request; resolves with status and body text, never throws on HTTP errors. */
  raw(
    method: string,
    path: string,
    body?: string,
    contentType = "application/json",
  ): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port: this.port,
          method,
          path,
          agent: this.agent,
          headers:
            body === undefined
              ? {}
              : { "content-type": contentType, "content-length": Buffer.byteLength(body) },
          timeout: 60_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
          );
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on("error", reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  async json<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    const res = await this.raw(
      method,
      path,
      body === undefined ? undefined : JSON.stringify(body),
      contentType,
    );
    if (res.status < 200 || res.status >= 300) {
      throw new ApiError(`${method} ${path}: HTTP ${res.status}: ${res.body.slice(0, 500)}`, res.status);
    }
    return JSON.parse(res.body) as T;
  }

  /**
   * Create-or-update in one idempotent request (server-side apply), so `up` can run again on a live
   * cluster and converge instead of failing on "already exists".
   */
  async apply(obj: KubeObject): Promise<void> {
    const path = `${resourcePath(obj)}?fieldManager=${FIELD_MANAGER}&force=true`;
    await this.json("PATCH", path, obj, "application/apply-patch+yaml");
  }

  async delete(path: string): Promise<void> {
    const res = await this.raw("DELETE", path);
    if (res.status !== 404 && (res.status < 200 || res.status >= 300)) {
      throw new ApiError(`DELETE ${path}: HTTP ${res.status}: ${res.body.slice(0, 300)}`, res.status);
    }
  }
}

/** Plural resource names for the kinds the harness writes. */
const PLURALS: Record<string, string> = {
  Node: "nodes",
  Namespace: "namespaces",
  ServiceAccount: "serviceaccounts",
  DaemonSet: "daemonsets",
  ConfigMap: "configmaps",
  CustomResourceDefinition: "customresourcedefinitions",
  FelixConfiguration: "felixconfigurations",
  ClusterInformation: "clusterinformations",
  IPPool: "ippools",
  ClusterRole: "clusterroles",
  ClusterRoleBinding: "clusterrolebindings",
};

export function resourcePath(obj: KubeObject): string {
  const plural = PLURALS[obj.kind];
  if (plural === undefined) throw new Error(`no plural known for kind ${obj.kind}`);
  const base = obj.apiVersion.includes("/") ? `/apis/${obj.apiVersion}` : `/api/${obj.apiVersion}`;
  const ns = obj.metadata.namespace === undefined ? "" : `/namespaces/${obj.metadata.namespace}`;
  return `${base}${ns}/${plural}/${encodeURIComponent(obj.metadata.name)}`;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function inParallel<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++];
      if (item !== undefined) await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
