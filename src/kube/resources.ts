// Where an object lives in the API: its apiVersion and kind mapped to a URL path through the API
// server's discovery documents (/api/v1, /apis/GROUP/VERSION), read once per apiVersion. The same
// lookup @kubernetes/client-node's generic object API makes, so the requests (and the RBAC they
// need) are the same: discovery is open to every authenticated user.

import type { KubeClient, Obj } from "./client.js";

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

interface Resource {
  plural: string;
  namespaced: boolean;
}

export class ResourcePaths {
  private readonly groups = new Map<string, Promise<Map<string, Resource>>>();

  constructor(private readonly client: KubeClient) {}

  private static base(apiVersion: string): string {
    return apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  }

  private async discover(apiVersion: string): Promise<Map<string, Resource>> {
    const r = await this.client.getJson(ResourcePaths.base(apiVersion));
    if (!r.ok) throw new Error(`discovering ${apiVersion}: ${r.message !== "" ? r.message : r.problem}`);
    const kinds = new Map<string, Resource>();
    const list = Array.isArray(r.value.resources) ? (r.value.resources as Obj[]) : [];
    for (const res of list) {
      // Subresources (pods/log, daemonsets/status) share their parent's kind: skip them.
      if (typeof res.name !== "string" || res.name.includes("/") || typeof res.kind !== "string") continue;
      kinds.set(res.kind, { plural: res.name, namespaced: res.namespaced === true });
    }
    return kinds;
  }

  private async resource(ref: ObjectRef): Promise<Resource> {
    let found = this.groups.get(ref.apiVersion);
    if (found === undefined) {
      found = this.discover(ref.apiVersion);
      // A failed discovery is not remembered: the next call asks again.
      found.catch(() => this.groups.delete(ref.apiVersion));
      this.groups.set(ref.apiVersion, found);
    }
    const res = (await found).get(ref.kind);
    if (res === undefined) throw new Error(`the server has no ${ref.kind} in ${ref.apiVersion}`);
    return res;
  }

  /** The collection the object belongs to (where it is created). */
  async collection(ref: Omit<ObjectRef, "name">): Promise<string> {
    const res = await this.resource({ ...ref, name: "" });
    const ns = res.namespaced ? `/namespaces/${encodeURIComponent(ref.namespace ?? "default")}` : "";
    return `${ResourcePaths.base(ref.apiVersion)}${ns}/${res.plural}`;
  }

  /** The object's own path. */
  async object(ref: ObjectRef): Promise<string> {
    return `${await this.collection(ref)}/${encodeURIComponent(ref.name)}`;
  }
}
